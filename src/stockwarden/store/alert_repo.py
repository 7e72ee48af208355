"""Repository of alerts: read live alerts, save lifecycle changes with their log, feedback, listings.

Functions take a ``Session`` and leave the transaction to the caller, so a pipeline step can save
its alert changes and mark itself done atomically. Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

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
from stockwarden.errors import InputError, StoreError
from stockwarden.store.alerts import AlertFeedbackRow, AlertLogRow, AlertRow
from stockwarden.store.bulk import insert_with_ids

ALERTS = cast(sa.Table, AlertRow.__table__)


def utc(value: dt.datetime) -> dt.datetime:
    """A timezone-aware time in UTC (naive values are taken as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else utc(value)


def _to_alert(row: Any) -> Alert:
    """The domain alert of a stored row (an ``AlertRow``, a Core row of ``alerts``, or its values)."""
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


def _values(a: Alert) -> dict[str, Any]:
    """The stored columns of an alert (all but ``id``)."""
    return {
        "kind": str(a.kind),
        "sku": a.sku,
        "location_id": a.location_id,
        "level": str(a.level),
        "state": str(a.state),
        "stockout_probability": float(a.stockout_probability),
        "expected_stockout_date": a.expected_stockout_date,
        "reasons": ";".join(a.reasons),
        "days_of_cover": a.days_of_cover,
        "suggested_order_qty": float(a.suggested_order_qty),
        "category": a.category,
        "roles": ";".join(a.roles),
        "opened_at": utc(a.opened_at),
        "updated_at": utc(a.updated_at),
        "first_as_of": a.first_as_of,
        "last_as_of": a.last_as_of,
        "notified_level": str(a.notified_level),
        "critical_since": _utc_or_none(a.critical_since),
        "snoozed_until": a.snoozed_until,
        "snooze_until_worse": a.snooze_until_worse,
        "snooze_level": str(a.snooze_level) if a.snooze_level else None,
        "clear_runs": a.clear_runs,
        "resolved_at": _utc_or_none(a.resolved_at),
        "resolved_by": a.resolved_by,
        "is_latched": a.is_latched,
        "rules_version": a.rules_version,
    }


def get_live_alerts(session: Session) -> list[Alert]:
    """Alerts the next run must reconcile: every unresolved alert plus latched (hand-resolved) ones."""
    rows = session.execute(
        sa.select(ALERTS)
        .where(sa.or_(ALERTS.c.state != str(AlertState.RESOLVED), ALERTS.c.is_latched))
        .order_by(ALERTS.c.id)
    )
    return [_to_alert(r) for r in rows]


def save_alert_change(session: Session, change: AlertChange, *, run_id: int | None = None) -> Alert:
    """Insert or update the alert of one change and append its handling-log lines; returns the stored alert."""
    return save_alert_changes(session, [change], run_id=run_id)[0]


def save_alert_changes(session: Session, changes: Sequence[AlertChange], *, run_id: int | None = None) -> list[Alert]:
    """Store many changes at once: new alerts in one bulk insert (``COPY`` on PostgreSQL), updates in one
    executemany, log lines in one executemany.

    The change's ``notify`` reason is written on its last log line, so the notification step can
    find what to announce (:func:`get_notify_items`).

    Returns:
        The stored alerts (with ids), in the order of ``changes``.

    Raises:
        StoreError: a change updates an alert that is not stored.
    """
    if not changes:
        return []
    session.flush()  # pending ORM changes first: what follows writes through the session's connection
    conn = session.connection()
    values = [_values(c.after) for c in changes]
    ids = [c.after.alert_id for c in changes]
    fresh = [i for i, alert_id in enumerate(ids) if alert_id is None]
    for i, new_id in zip(fresh, insert_with_ids(conn, ALERTS, [values[i] for i in fresh]), strict=True):
        ids[i] = new_id
    known = {alert_id for c in changes if (alert_id := c.after.alert_id) is not None}
    if known:
        updates = [{"_id": ids[i], **values[i]} for i, c in enumerate(changes) if c.after.alert_id is not None]
        conn.execute(ALERTS.update().where(ALERTS.c.id == sa.bindparam("_id")), updates)
        stored: set[int] = set()
        chunk = sorted(known)
        for start in range(0, len(chunk), 1000):
            part = chunk[start : start + 1000]
            stored.update(conn.execute(sa.select(ALERTS.c.id).where(ALERTS.c.id.in_(part))).scalars())
        if missing := sorted(known - stored):
            raise StoreError(f"cannot update alert(s) {', '.join(map(str, missing[:5]))}: not stored")
        _expire(session, known)
    logs = [
        {
            "alert_id": alert_id,
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
        for change, alert_id in zip(changes, ids, strict=True)
        for i, e in enumerate(change.entries)
    ]
    if logs:
        conn.execute(sa.insert(AlertLogRow), logs)
    return [_to_alert(SimpleNamespace(id=alert_id, **v)) for alert_id, v in zip(ids, values, strict=True)]


def _expire(session: Session, alert_ids: set[int]) -> None:
    """Alert rows this session holds that were just updated behind its back: reloaded when next read."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, AlertRow) and obj.id in alert_ids:
            session.expire(obj)


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
