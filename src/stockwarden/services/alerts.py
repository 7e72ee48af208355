"""Use-cases of alerts: list (scoped, filtered, paged), detail, handling log, and the actions
ack / snooze / resolve / comment / feedback (each one transaction with its log line and audit row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from stockwarden.domain.actor import Actor, Permission
from stockwarden.domain.alert import Alert, AlertChange, AlertLevel, AlertState, FeedbackVerdict, HandlingEntry
from stockwarden.errors import InputError, NotFound
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require, scope_clause, split_csv
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.services.locks import lock_rows
from stockwarden.store.alerts import AlertRow

COMMANDS = ("ack", "snooze", "resolve", "comment", "feedback")


def _scope(actor: Actor) -> sa.ColumnElement[bool]:
    return scope_clause(actor.scope, location_col=AlertRow.location_id, sku_col=AlertRow.sku)


def _choices(values: list[str] | None, enum: Any, what: str) -> list[str]:
    out = []
    for v in split_csv(values):
        try:
            out.append(str(enum(v.lower())))
        except ValueError:
            raise InputError(f"{what} {v!r} is not one of {', '.join(e.value for e in enum)}") from None
    return out


def list_alerts(
    ctx: AppContext,
    *,
    actor: Actor,
    level: list[str] | None = None,
    state: list[str] | None = None,
    location: list[str] | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Alert]:
    """Alerts in the actor's scope, most urgent first; ``state`` defaults to every state but resolved."""
    from stockwarden.store.alert_repo import to_alert

    require(actor, Permission.READ)
    check_page(limit, offset)
    levels = _choices(level, AlertLevel, "level")
    states = _choices(state, AlertState, "state") or [s.value for s in AlertState if s is not AlertState.RESOLVED]
    where = [_scope(actor), AlertRow.state.in_(states)]
    if levels:
        where.append(AlertRow.level.in_(levels))
    locations = split_csv(location)
    if locations:
        where.append(AlertRow.location_id.in_(locations))
    if q:
        where.append(sa.func.lower(AlertRow.sku).like(f"%{q.lower()}%"))
    rank = sa.case({str(lv): lv.rank for lv in AlertLevel}, value=AlertRow.level)
    with read_scope(ctx) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(AlertRow).where(*where)) or 0
        rows = s.scalars(
            sa.select(AlertRow)
            .where(*where)
            .order_by(rank.desc(), AlertRow.stockout_probability.desc(), AlertRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return Page([to_alert(r) for r in rows], int(total))


def _get_row(session: Any, alert_id: int, actor: Actor) -> AlertRow:
    row = session.scalars(sa.select(AlertRow).where(AlertRow.id == alert_id, _scope(actor))).one_or_none()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return row  # type: ignore[no-any-return]


def get_alert(ctx: AppContext, alert_id: int, *, actor: Actor) -> tuple[Alert, list[HandlingEntry]]:
    """One alert and its handling log (404 outside the scope)."""
    from stockwarden.store.alert_repo import get_handling_log, to_alert

    require(actor, Permission.READ)
    with read_scope(ctx) as s:
        alert = to_alert(_get_row(s, alert_id, actor))
        return alert, get_handling_log(s, alert_id)


def _public(a: Alert) -> dict[str, Any]:
    return {"state": str(a.state), "level": str(a.level), "snoozed_until": a.snoozed_until}


def act_on_alert(
    ctx: AppContext,
    alert_id: int,
    command: str,
    *,
    actor: Actor,
    comment: str = "",
    until: dt.date | None = None,
    until_worse: bool = False,
    verdict: str | None = None,
) -> Alert:
    """Apply ``ack``, ``snooze``, ``resolve``, ``comment`` or ``feedback`` to an alert.

    Raises:
        NotFound: no such alert in the scope. InvalidTransition: the lifecycle refuses it (409).
        InputError: an unknown command or verdict, a snooze without date or ``until_worse``.
    """
    from stockwarden.alerts import lifecycle
    from stockwarden.store.alert_repo import add_feedback, save_alert_change, to_alert

    require(actor, Permission.ALERTS_ACT)
    if command not in COMMANDS:
        raise InputError(f"unknown alert command {command!r}; one of {', '.join(COMMANDS)}")
    choice = None
    if command == "feedback":
        try:
            choice = FeedbackVerdict(str(verdict or "").strip().lower())
        except ValueError:
            allowed = ", ".join(v.value for v in FeedbackVerdict)
            raise InputError(f"verdict {verdict!r} is not one of {allowed}") from None
    if command == "comment" and not comment.strip():
        raise InputError("a comment needs some text")
    now = ctx.now()
    who = actor.username
    with session_scope(ctx) as s:
        lock_rows(s, AlertRow, [alert_id])
        alert = to_alert(_get_row(s, alert_id, actor))
        if command == "ack":
            change = lifecycle.acknowledge_alert(alert, actor=who, now=now, comment=comment)
        elif command == "snooze":
            change = lifecycle.snooze_alert(
                alert, actor=who, now=now, until=until, until_worse=until_worse, comment=comment
            )
        elif command == "resolve":
            change = lifecycle.resolve_alert(alert, actor=who, now=now, comment=comment)
        elif command == "comment":
            change = lifecycle.comment_alert(alert, actor=who, now=now, comment=comment)
        else:
            assert choice is not None
            add_feedback(s, alert, verdict=choice, actor=who, now=now, note=comment)
            entry = lifecycle.feedback_entry(alert, verdict=choice, actor=who, now=now, note=comment)
            change = AlertChange(before=alert, after=alert, entries=(entry,))
        stored = save_alert_change(s, change)
        after = {**_public(stored), **({"verdict": str(choice)} if choice else {}), "comment": comment or None}
        record(
            s,
            actor,
            action=f"alert.{command}",
            object_type="alert",
            object_id=alert_id,
            before=_public(alert),
            after=after,
            now=now,
        )
    return stored


def alert_dict(a: Alert) -> dict[str, Any]:
    """An alert as plain values (API and web)."""
    d = asdict(a)
    d["id"] = d.pop("alert_id")
    d["reasons"] = list(a.reasons)
    for k, v in list(d.items()):
        if hasattr(v, "value"):
            d[k] = v.value
    return d


__all__ = ["COMMANDS", "act_on_alert", "alert_dict", "get_alert", "list_alerts"]
