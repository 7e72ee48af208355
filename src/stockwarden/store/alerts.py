"""Tables of the action loop: alerts, their handling log and feedback, the outbox, and runs.

* ``alerts``: one row per alert. A partial unique index allows at most one *live* (not resolved)
  alert per (kind, sku, location_id): dedup is enforced by the database, not only by the code.
* ``alert_log``: the handling log (who, when, what, from, to, comment), append-only.
* ``alert_feedback``: planners' verdicts (useful / false_alarm / already_handled) for the learning issue.
* ``outbox``: every notification, stored before it is sent (see :mod:`stockwarden.alerts.notify.outbox`).
  ``idempotency_key`` is unique, so the same digest or immediate message is never enqueued twice.
* ``runs`` / ``run_steps``: one record per daily run (as-of date, data fingerprint, rules hash, status,
  counts) and one per completed step (timings, counts); a killed run resumes from its steps.

Migration: ``migrations/versions/0002_alerts.py``. Repository functions: :mod:`stockwarden.store.alert_repo`,
:mod:`stockwarden.store.outbox`, :mod:`stockwarden.store.runs`.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.store.base import Base

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE_ALERT = sa.text("state <> 'resolved'")


class AlertRow(Base):
    """An alert (see :class:`stockwarden.domain.alert.Alert` for the meaning of each column)."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index(
            "uq_alerts_live_key",
            "kind",
            "sku",
            "location_id",
            unique=True,
            sqlite_where=LIVE_ALERT,
            postgresql_where=LIVE_ALERT,
        ),
        sa.Index("ix_alerts_state_level", "state", "level"),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    sku: Mapped[str] = mapped_column(sa.Text)
    location_id: Mapped[str] = mapped_column(sa.Text)
    level: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(20))
    stockout_probability: Mapped[float] = mapped_column(sa.Float)
    expected_stockout_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    reasons: Mapped[str] = mapped_column(sa.Text, default="")
    days_of_cover: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    suggested_order_qty: Mapped[float] = mapped_column(sa.Float, default=0.0)
    category: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    roles: Mapped[str] = mapped_column(sa.Text, default="planner")
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    first_as_of: Mapped[date] = mapped_column(sa.Date)
    last_as_of: Mapped[date] = mapped_column(sa.Date)
    notified_level: Mapped[str] = mapped_column(sa.String(20))
    critical_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    snoozed_until: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    snooze_until_worse: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    snooze_level: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    clear_runs: Mapped[int] = mapped_column(sa.Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    is_latched: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    rules_version: Mapped[str] = mapped_column(sa.String(40), default="")


class AlertLogRow(Base):
    """One handling-log line of an alert."""

    __tablename__ = "alert_log"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.String(30))
    from_state: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(sa.String(20))
    from_level: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    to_level: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    notify: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    comment: Mapped[str] = mapped_column(sa.Text, default="")


class AlertFeedbackRow(Base):
    """A planner's verdict on an alert."""

    __tablename__ = "alert_feedback"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.Text)
    verdict: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    level: Mapped[str] = mapped_column(sa.String(20))
    stockout_probability: Mapped[float] = mapped_column(sa.Float)


class OutboxRow(Base):
    """A notification message: stored before sending, sent at most once per successful attempt."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    run_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True, index=True)
    channel: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    alert_ids: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    sending_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class RunRow(Base):
    """One daily run: identified by (as_of, data fingerprint, rules hash)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    as_of: Mapped[date] = mapped_column(sa.Date)
    data_hash: Mapped[str] = mapped_column(sa.String(40))
    rules_version: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    counts_json: Mapped[str] = mapped_column(sa.Text, default="{}")


class RunStepRow(Base):
    """A completed step of a run, written in the same transaction as the step's effects."""

    __tablename__ = "run_steps"

    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    seconds: Mapped[float] = mapped_column(sa.Float)
    counts_json: Mapped[str] = mapped_column(sa.Text, default="{}")


__all__ = ["AlertFeedbackRow", "AlertLogRow", "AlertRow", "OutboxRow", "RunRow", "RunStepRow"]
