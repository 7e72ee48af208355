"""``stockwarden alerts ...``: list, show (with the handling log), ack, snooze, resolve, comment, feedback,
and the notification outbox (``outbox``, ``deliver``).

Thin: parse arguments, call the use-case (``services.alerts``: permission, transaction, handling-log
line and audit row), print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.appctx import cli_context, rules_in_force
from stockwarden.cli.common import load_config
from stockwarden.cli.run import deliver_outbox, parse_date
from stockwarden.domain.alert import Alert, AlertLevel, AlertState, FeedbackVerdict
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


def _act(db: str | None, alert_id: int, command: str, user: str | None, **options: object) -> Alert:
    from stockwarden.services import alerts

    with cli_context(db, user=user) as (ctx, actor):
        return alerts.act_on_alert(ctx, alert_id, command, actor=actor, **options)  # type: ignore[arg-type]


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
    from stockwarden.services.alerts import list_alerts

    levels = [str(v) for v in _choices(level, AlertLevel, "--level")]
    states = [str(v) for v in _choices(state, AlertState, "--state")] or None
    with cli_context(db, read_only=True) as (ctx, actor):
        alerts = list_alerts(ctx, actor=actor, level=levels, state=states, limit=max(1, min(limit, 1000))).items
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
    from stockwarden.services.alerts import get_alert

    with cli_context(db, read_only=True) as (ctx, actor):
        a, entries = get_alert(ctx, alert_id, actor=actor)
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
    _say(_act(db, alert_id, "ack", user, comment=comment), "acknowledged")


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
    day = parse_date(until, option="--until")
    _say(_act(db, alert_id, "snooze", user, comment=comment, until=day, until_worse=until_worse), "snoozed")


@alerts_app.command("resolve")
@guarded
def resolve_cmd(alert_id: IdArg, comment: CommentOpt = "", user: UserOpt = None, db: DbOpt = None) -> None:
    """Resolve an alert by hand (no new alert until the risk clears or gets worse)."""
    _say(_act(db, alert_id, "resolve", user, comment=comment), "resolved")


@alerts_app.command("comment")
@guarded
def comment_cmd(
    alert_id: IdArg,
    text: Annotated[str, typer.Argument(help="the comment")],
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Add a comment to an alert's handling log."""
    _say(_act(db, alert_id, "comment", user, comment=text), "commented")


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
    try:
        choice = FeedbackVerdict(verdict.strip().lower())
    except ValueError:
        raise ConfigError(f"verdict {verdict!r} is not one of {', '.join(v.value for v in FeedbackVerdict)}") from None
    _act(db, alert_id, "feedback", user, comment=note, verdict=choice.value)
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
    from stockwarden.services.outbox import list_outbox, requeue_dead

    with cli_context(db, read_only=not retry_dead) as (ctx, actor):
        if retry_dead:
            console.print(f"{requeue_dead(ctx, actor=actor)} dead message(s) re-queued")
        view = list_outbox(ctx, actor=actor, statuses=status or [], limit=limit)
    rows, counts = view.rows, view.counts
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
    rules = load_config(config) if config is not None else rules_in_force(db)
    if not rules.notify.channels:
        where = config or "stockwarden.toml"
        raise ConfigError(f"no notification channel is configured: add a [[notify.channels]] section to {where}")
    if deliver_outbox(db, config) == 0:
        console.print("No message was sent: none was due.")
