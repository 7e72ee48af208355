"""``stockwarden alerts ...``: list, show (with the handling log), ack, snooze, resolve, comment, feedback,
and the notification outbox (``outbox``, ``deliver``).

Thin: parse arguments, apply the lifecycle function (``alerts/lifecycle.py``) to the stored alert,
save the change and its handling-log line (``store/alert_repo.py``), print.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import current_user, load_config, open_engine, utc_now
from stockwarden.cli.run import deliver_outbox, parse_date
from stockwarden.domain.alert import Alert, AlertChange, AlertLevel, AlertState, FeedbackVerdict
from stockwarden.errors import ConfigError

alerts_app = typer.Typer(
    help="Alerts: list, show, ack, snooze, resolve, comment, feedback; the outbox.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
IdArg = Annotated[int, typer.Argument(help="alert id (see `stockwarden alerts list`)")]
UserOpt = Annotated[str | None, typer.Option("--user", help="who acts (default: the login name)")]
CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="comment for the handling log")]
LEVEL_STYLE = {"critical": "bold red", "warning": "yellow", "watch": "cyan", "ok": "green"}


def _choices(
    values: list[str] | None, enum: type[AlertLevel] | type[AlertState], option: str
) -> list[AlertLevel | AlertState]:
    out: list[AlertLevel | AlertState] = []
    for value in values or []:
        for part in value.split(","):
            try:
                out.append(enum(part.strip().lower()))
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                raise ConfigError(f"{option} {part.strip()!r} is not one of {allowed}") from None
    return out


def _apply(db: str | None, alert_id: int, action: Callable[[Alert], AlertChange]) -> Alert:
    from stockwarden.store.alert_repo import get_alert, save_alert_change

    engine = open_engine(db)
    try:
        with Session(engine) as s, s.begin():
            stored = save_alert_change(s, action(get_alert(s, alert_id)))
    finally:
        engine.dispose()
    return stored


def _say(alert: Alert, verb: str) -> None:
    console.print(
        f"alert {alert.alert_id} ({alert.sku} @ {alert.location_id}) {verb}: now {alert.state}", highlight=False
    )


@alerts_app.command("list")
@guarded
def list_cmd(
    level: Annotated[list[str] | None, typer.Option("--level", help="critical, warning, watch (repeat or a,b)")] = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="open, acknowledged, snoozed, escalated, resolved (default: all but resolved)"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="most rows shown")] = 200,
    db: DbOpt = None,
) -> None:
    """List alerts, most urgent first."""
    from stockwarden.store.alert_repo import list_alerts

    levels = [AlertLevel(v) for v in _choices(level, AlertLevel, "--level")]
    states = [AlertState(v) for v in _choices(state, AlertState, "--state")] or [
        s for s in AlertState if s is not AlertState.RESOLVED
    ]
    engine = open_engine(db)
    try:
        with Session(engine) as s:
            alerts = list_alerts(s, levels=levels, states=states, limit=limit)
    finally:
        engine.dispose()
    if not alerts:
        console.print("no alerts match")
        return
    table = Table()
    for col in ("id", "level", "state", "sku", "location"):
        table.add_column(col, no_wrap=True)
    for col in ("P(stockout)", "expected", "cover d", "order", "reasons", "since"):
        table.add_column(col, overflow="fold")
    for a in alerts:
        table.add_row(
            str(a.alert_id),
            f"[{LEVEL_STYLE[a.level]}]{a.level}[/]",
            str(a.state),
            a.sku,
            a.location_id,
            f"{a.stockout_probability:.0%}",
            a.expected_stockout_date.isoformat() if a.expected_stockout_date else "",
            f"{a.days_of_cover:.1f}" if a.days_of_cover is not None else "",
            f"{a.suggested_order_qty:g}",
            ";".join(a.reasons),
            a.first_as_of.isoformat(),
        )
    console.print(table)


@alerts_app.command("show")
@guarded
def show_cmd(alert_id: IdArg, db: DbOpt = None) -> None:
    """Show one alert and its handling log (the story of the alert)."""
    from stockwarden.store.alert_repo import get_alert, get_handling_log

    engine = open_engine(db)
    try:
        with Session(engine) as s:
            a = get_alert(s, alert_id)
            entries = get_handling_log(s, alert_id)
    finally:
        engine.dispose()
    date = a.expected_stockout_date.isoformat() if a.expected_stockout_date else "-"
    cover = f"{a.days_of_cover:.1f}" if a.days_of_cover is not None else "-"
    lines = [
        f"alert {a.alert_id}: {a.kind} {a.sku} @ {a.location_id}",
        f"  level {a.level}, state {a.state}, P(stockout) {a.stockout_probability:.0%}, expected {date}, "
        f"cover {cover} d, suggested order {a.suggested_order_qty:g}",
        f"  reasons: {';'.join(a.reasons) or '-'}",
        f"  opened {a.opened_at:%Y-%m-%d %H:%M} UTC (as of {a.first_as_of}), last assessed {a.last_as_of}, "
        f"rules {a.rules_version or '-'}",
    ]
    if a.state is AlertState.SNOOZED:
        worse = f" or until worse than {a.snooze_level}" if a.snooze_until_worse else ""
        lines.append(f"  snoozed until {a.snoozed_until or '-'}{worse}")
    console.print("\n".join(lines), highlight=False)
    table = Table(title="handling log")
    for col in ("when (UTC)", "who", "what", "state", "level", "comment"):
        table.add_column(col, overflow="fold")
    for e in entries:
        state = f"{e.from_state} -> {e.to_state}" if e.from_state and e.from_state != e.to_state else str(e.to_state)
        level = (
            f"{e.from_level} -> {e.to_level}" if e.from_level and e.from_level != e.to_level else str(e.to_level or "")
        )
        table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.actor, str(e.action), state, level, e.comment)
    console.print(table)


@alerts_app.command("ack")
@guarded
def ack_cmd(alert_id: IdArg, comment: CommentOpt = "", user: UserOpt = None, db: DbOpt = None) -> None:
    """Acknowledge an alert (stops escalation)."""
    from stockwarden.alerts.lifecycle import acknowledge_alert

    _say(
        _apply(db, alert_id, lambda a: acknowledge_alert(a, actor=current_user(user), now=utc_now(), comment=comment)),
        "acknowledged",
    )


@alerts_app.command("snooze")
@guarded
def snooze_cmd(
    alert_id: IdArg,
    until: Annotated[str | None, typer.Option("--until", help="wake on this date (YYYY-MM-DD)")] = None,
    until_worse: Annotated[bool, typer.Option("--until-worse", help="wake only if the level rises")] = False,
    comment: CommentOpt = "",
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Snooze an alert until a date and/or until it gets worse."""
    from stockwarden.alerts.lifecycle import snooze_alert

    day = parse_date(until, option="--until")
    _say(
        _apply(
            db,
            alert_id,
            lambda a: snooze_alert(
                a, actor=current_user(user), now=utc_now(), until=day, until_worse=until_worse, comment=comment
            ),
        ),
        "snoozed",
    )


@alerts_app.command("resolve")
@guarded
def resolve_cmd(alert_id: IdArg, comment: CommentOpt = "", user: UserOpt = None, db: DbOpt = None) -> None:
    """Resolve an alert by hand (no new alert until the risk clears or gets worse)."""
    from stockwarden.alerts.lifecycle import resolve_alert

    who = current_user(user)
    _say(_apply(db, alert_id, lambda a: resolve_alert(a, actor=who, now=utc_now(), comment=comment)), "resolved")


@alerts_app.command("comment")
@guarded
def comment_cmd(
    alert_id: IdArg,
    text: Annotated[str, typer.Argument(help="the comment")],
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Add a comment to an alert's handling log."""
    from stockwarden.alerts.lifecycle import comment_alert

    who = current_user(user)
    _say(_apply(db, alert_id, lambda a: comment_alert(a, actor=who, now=utc_now(), comment=text)), "commented")


@alerts_app.command("feedback")
@guarded
def feedback_cmd(
    alert_id: IdArg,
    verdict: Annotated[str, typer.Argument(help="useful, false_alarm or already_handled")],
    note: Annotated[str, typer.Option("--note", help="why")] = "",
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Record whether an alert was useful (stored for learning which alerts help)."""
    from stockwarden.alerts.lifecycle import feedback_entry
    from stockwarden.store.alert_repo import add_feedback, get_alert, save_alert_change

    try:
        choice = FeedbackVerdict(verdict.strip().lower())
    except ValueError:
        raise ConfigError(f"verdict {verdict!r} is not one of {', '.join(v.value for v in FeedbackVerdict)}") from None
    engine = open_engine(db)
    try:
        with Session(engine) as s, s.begin():
            alert = get_alert(s, alert_id)
            now, actor = utc_now(), current_user(user)
            add_feedback(s, alert, verdict=choice, actor=actor, now=now, note=note)
            entry = feedback_entry(alert, verdict=choice, actor=actor, now=now, note=note)
            save_alert_change(s, AlertChange(before=alert, after=alert, entries=(entry,)))
    finally:
        engine.dispose()
    console.print(f"alert {alert_id}: feedback {choice} recorded", highlight=False)


@alerts_app.command("outbox")
@guarded
def outbox_cmd(
    status: Annotated[list[str] | None, typer.Option("--status", help="pending, sending, sent, dead")] = None,
    retry_dead: Annotated[bool, typer.Option("--retry", help="put dead messages back in the queue")] = False,
    limit: Annotated[int, typer.Option("--limit", help="most rows shown")] = 50,
    db: DbOpt = None,
) -> None:
    """List notification messages in the outbox (newest first); --retry re-queues dead ones."""
    from stockwarden.store.outbox import count_by_status, list_outbox, requeue_dead

    engine = open_engine(db)
    try:
        with Session(engine) as s, s.begin():
            if retry_dead:
                console.print(f"{requeue_dead(s, now=utc_now())} dead message(s) re-queued")
            rows = list_outbox(s, statuses=status or [], limit=limit)
            counts = count_by_status(s)
    finally:
        engine.dispose()
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the outbox is empty", highlight=False)
    if rows:
        table = Table()
        columns = ("id", "channel", "kind", "status", "attempts", "created (UTC)", "sent (UTC)", "title", "last error")
        for col in columns:
            table.add_column(col, overflow="fold")
        for r in rows:
            sent = r["sent_at"]
            table.add_row(
                str(r["id"]),
                str(r["channel"]),
                str(r["kind"]),
                str(r["status"]),
                str(r["attempts"]),
                f"{r['created_at']:%Y-%m-%d %H:%M}",
                f"{sent:%Y-%m-%d %H:%M}" if sent else "",
                str(r["title"]),
                str(r["last_error"] or ""),
            )
        console.print(table)


@alerts_app.command("deliver")
@guarded
def deliver_cmd(
    config: Annotated[Path | None, typer.Option("--config", help="stockwarden.toml with [[notify.channels]]")] = None,
    db: DbOpt = None,
) -> None:
    """Send the outbox messages that are due (retries between daily runs; cron every few minutes)."""
    rules = load_config(config)
    if not rules.notify.channels:
        where = config or "stockwarden.toml"
        raise ConfigError(f"no notification channel is configured: add a [[notify.channels]] section to {where}")
    if deliver_outbox(db, rules) == 0:
        console.print("No message was sent: none was due.")
