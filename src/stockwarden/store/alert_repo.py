"""Repository of alerts: read live alerts, save lifecycle changes with their log, feedback, listings.

Functions take a ``Session`` and leave the transaction to the caller, so a pipeline step can save
its alert changes and mark itself done atomically. Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.alerts.notify.compose import NotifyItem
from stockwarden.domain.alert import (
    Alert,
    AlertAction,
    AlertChange,
    AlertKind,
    AlertLevel,
    AlertState,
    FeedbackVerdict,
    HandlingEntry,
    NotifyReason,
)
from stockwarden.errors import InputError
from stockwarden.store.alerts import AlertFeedbackRow, AlertLogRow, AlertRow


def utc(value: dt.datetime) -> dt.datetime:
    """A timezone-aware time in UTC (naive values are taken as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else utc(value)


def _to_alert(row: AlertRow) -> Alert:
    return Alert(
        alert_id=row.id,
        kind=AlertKind(row.kind),
        sku=row.sku,
        location_id=row.location_id,
        level=AlertLevel(row.level),
        state=AlertState(row.state),
        stockout_probability=row.stockout_probability,
        expected_stockout_date=row.expected_stockout_date,
        reasons=tuple(r for r in row.reasons.split(";") if r),
        days_of_cover=row.days_of_cover,
        suggested_order_qty=row.suggested_order_qty,
        category=row.category,
        roles=tuple(r for r in row.roles.split(";") if r),
        opened_at=utc(row.opened_at),
        updated_at=utc(row.updated_at),
        first_as_of=row.first_as_of,
        last_as_of=row.last_as_of,
        notified_level=AlertLevel(row.notified_level),
        critical_since=_utc_or_none(row.critical_since),
        snoozed_until=row.snoozed_until,
        snooze_until_worse=row.snooze_until_worse,
        snooze_level=AlertLevel(row.snooze_level) if row.snooze_level else None,
        clear_runs=row.clear_runs,
        resolved_at=_utc_or_none(row.resolved_at),
        resolved_by=row.resolved_by,
        is_latched=row.is_latched,
        rules_version=row.rules_version,
    )


def _fill(row: AlertRow, a: Alert) -> None:
    row.kind, row.sku, row.location_id = str(a.kind), a.sku, a.location_id
    row.level, row.state, row.stockout_probability = str(a.level), str(a.state), float(a.stockout_probability)
    row.expected_stockout_date, row.reasons = a.expected_stockout_date, ";".join(a.reasons)
    row.days_of_cover, row.suggested_order_qty = a.days_of_cover, float(a.suggested_order_qty)
    row.category, row.roles = a.category, ";".join(a.roles)
    row.opened_at, row.updated_at = utc(a.opened_at), utc(a.updated_at)
    row.first_as_of, row.last_as_of, row.notified_level = a.first_as_of, a.last_as_of, str(a.notified_level)
    row.critical_since = _utc_or_none(a.critical_since)
    row.snoozed_until, row.snooze_until_worse = a.snoozed_until, a.snooze_until_worse
    row.snooze_level = str(a.snooze_level) if a.snooze_level else None
    row.clear_runs, row.resolved_at, row.resolved_by = a.clear_runs, _utc_or_none(a.resolved_at), a.resolved_by
    row.is_latched, row.rules_version = a.is_latched, a.rules_version


def get_live_alerts(session: Session) -> list[Alert]:
    """Alerts the next run must reconcile: every unresolved alert plus latched (hand-resolved) ones."""
    rows = session.scalars(
        sa.select(AlertRow)
        .where(sa.or_(AlertRow.state != str(AlertState.RESOLVED), AlertRow.is_latched))
        .order_by(AlertRow.id)
    )
    return [_to_alert(r) for r in rows]


def save_alert_change(session: Session, change: AlertChange, *, run_id: int | None = None) -> Alert:
    """Insert or update the alert of one change and append its handling-log lines; returns the stored alert."""
    return save_alert_changes(session, [change], run_id=run_id)[0]


def save_alert_changes(session: Session, changes: Sequence[AlertChange], *, run_id: int | None = None) -> list[Alert]:
    """Store many changes at once (inserts and updates in batches, log lines in one executemany).

    The change's ``notify`` reason is written on its last log line, so the notification step can
    find what to announce (:func:`get_notify_items`).

    Returns:
        The stored alerts (with ids), in the order of ``changes``.
    """
    rows: list[AlertRow] = []
    existing: dict[int, AlertRow] = {}
    ids = [c.after.alert_id for c in changes if c.after.alert_id is not None]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        existing.update({r.id: r for r in session.scalars(sa.select(AlertRow).where(AlertRow.id.in_(chunk)))})
    for change in changes:
        a = change.after
        if a.alert_id is None:
            row = AlertRow()
            session.add(row)
        else:
            row = existing[a.alert_id]
        _fill(row, a)
        rows.append(row)
    session.flush()
    logs = [
        {
            "alert_id": row.id,
            "run_id": run_id,
            "at": utc(e.at),
            "actor": e.actor,
            "action": str(e.action),
            "from_state": str(e.from_state) if e.from_state else None,
            "to_state": str(e.to_state),
            "from_level": str(e.from_level) if e.from_level else None,
            "to_level": str(e.to_level) if e.to_level else None,
            "notify": str(change.notify) if change.notify and i == len(change.entries) - 1 else None,
            "comment": e.comment,
        }
        for change, row in zip(changes, rows, strict=True)
        for i, e in enumerate(change.entries)
    ]
    if logs:
        session.execute(sa.insert(AlertLogRow), logs)
    return [_to_alert(r) for r in rows]


def get_alert(session: Session, alert_id: int) -> Alert:
    """One alert by id.

    Raises:
        InputError: no alert has this id.
    """
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise InputError(f"alert {alert_id} does not exist (see `stockwarden alerts list`)")
    return _to_alert(row)


def list_alerts(
    session: Session,
    *,
    levels: Sequence[AlertLevel] = (),
    states: Sequence[AlertState] = (),
    limit: int | None = None,
) -> list[Alert]:
    """Alerts filtered by level and state, most urgent first (level, probability, id)."""
    query = sa.select(AlertRow)
    if levels:
        query = query.where(AlertRow.level.in_([str(lv) for lv in levels]))
    if states:
        query = query.where(AlertRow.state.in_([str(s) for s in states]))
    rank = sa.case({str(lv): lv.rank for lv in AlertLevel}, value=AlertRow.level)
    query = query.order_by(rank.desc(), AlertRow.stockout_probability.desc(), AlertRow.id)
    if limit:
        query = query.limit(limit)
    return [_to_alert(r) for r in session.scalars(query)]


def get_handling_log(session: Session, alert_id: int) -> list[HandlingEntry]:
    """The handling log of one alert, oldest first."""
    rows = session.scalars(sa.select(AlertLogRow).where(AlertLogRow.alert_id == alert_id).order_by(AlertLogRow.id))
    return [
        HandlingEntry(
            alert_id=r.alert_id,
            at=utc(r.at),
            actor=r.actor,
            action=AlertAction(r.action),
            from_state=AlertState(r.from_state) if r.from_state else None,
            to_state=AlertState(r.to_state),
            from_level=AlertLevel(r.from_level) if r.from_level else None,
            to_level=AlertLevel(r.to_level) if r.to_level else None,
            comment=r.comment,
        )
        for r in rows
    ]


def add_feedback(
    session: Session, alert: Alert, *, verdict: FeedbackVerdict, actor: str, now: dt.datetime, note: str = ""
) -> int:
    """Store a planner's verdict with the alert's level and probability at that moment; returns its id."""
    assert alert.alert_id is not None
    row = AlertFeedbackRow(
        alert_id=alert.alert_id,
        at=utc(now),
        actor=actor,
        verdict=str(verdict),
        note=note,
        level=str(alert.level),
        stockout_probability=alert.stockout_probability,
    )
    session.add(row)
    session.flush()
    return row.id


def list_feedback(session: Session) -> list[dict[str, object]]:
    """Every feedback row joined with its alert's key (for the learning issue)."""
    query = (
        sa.select(AlertFeedbackRow, AlertRow.sku, AlertRow.location_id, AlertRow.kind)
        .join(AlertRow, AlertRow.id == AlertFeedbackRow.alert_id)
        .order_by(AlertFeedbackRow.id)
    )
    return [
        {
            "alert_id": f.alert_id,
            "sku": sku,
            "location_id": loc,
            "kind": kind,
            "at": utc(f.at),
            "actor": f.actor,
            "verdict": f.verdict,
            "note": f.note,
            "level": f.level,
            "stockout_probability": f.stockout_probability,
        }
        for f, sku, loc, kind in session.execute(query)
    ]


def get_notify_items(session: Session, run_id: int, *, after_log_id: int = 0) -> list[NotifyItem]:
    """The alert changes of a run that asked for a message (log lines after ``after_log_id``),
    with the alert as it is now."""
    query = (
        sa.select(AlertLogRow.id, AlertLogRow.notify, AlertRow)
        .join(AlertRow, AlertRow.id == AlertLogRow.alert_id)
        .where(AlertLogRow.run_id == run_id, AlertLogRow.notify.is_not(None), AlertLogRow.id > after_log_id)
        .order_by(AlertLogRow.id)
    )
    return [
        NotifyItem(alert=_to_alert(row), reason=NotifyReason(str(reason)), log_id=log_id)
        for log_id, reason, row in session.execute(query)
    ]


def last_log_id(session: Session) -> int:
    """The id of the newest handling-log line (0 when there is none)."""
    return int(session.scalar(sa.select(sa.func.max(AlertLogRow.id))) or 0)


def to_alert(row: AlertRow) -> Alert:
    """The domain alert of a stored row."""
    return _to_alert(row)
