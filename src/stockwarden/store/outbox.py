"""The outbox in the database: enqueue (idempotent), claim, mark sent / failed, list, re-queue.

See :mod:`stockwarden.alerts.notify.outbox` for the delivery guarantee these operations implement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stockwarden.alerts.notify.base import OutboxMessage
from stockwarden.store.alert_repo import utc
from stockwarden.store.alerts import OutboxRow

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


def enqueue_messages(session: Session, messages: Sequence[OutboxMessage], *, now: dt.datetime) -> int:
    """Store messages whose idempotency key is new; returns how many were inserted.

    Runs inside the caller's transaction (the step that composed them).
    """
    if not messages:
        return 0
    keys = [m.idempotency_key for m in messages]
    known = set(session.scalars(sa.select(OutboxRow.idempotency_key).where(OutboxRow.idempotency_key.in_(keys))))
    inserted = 0
    for m in messages:
        if m.idempotency_key in known:
            continue
        known.add(m.idempotency_key)
        session.add(
            OutboxRow(
                idempotency_key=m.idempotency_key,
                run_id=m.run_id,
                channel=m.channel,
                kind=m.kind,
                title=m.title,
                body=m.body,
                alert_ids=";".join(str(i) for i in m.alert_ids),
                status=PENDING,
                attempts=0,
                created_at=utc(now),
                next_attempt_at=utc(m.not_before or now),
            )
        )
        inserted += 1
    session.flush()
    return inserted


def _to_message(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        kind=row.kind,
        title=row.title,
        body=row.body,
        alert_ids=tuple(int(i) for i in row.alert_ids.split(";") if i),
        run_id=row.run_id,
        message_id=row.id,
        attempts=row.attempts,
        not_before=utc(row.next_attempt_at),
    )


class SqlOutbox:
    """:class:`~stockwarden.alerts.notify.outbox.OutboxStore` on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine`` for every operation; each one commits on its own."""
        self.engine = engine

    def claim_due(self, *, now: dt.datetime, lease_seconds: float, limit: int) -> list[OutboxMessage]:
        """Claim due messages: pending and due, or left ``sending`` longer than the lease (a crash).

        Each claim is a conditional UPDATE (status and attempts unchanged since read), so two
        concurrent workers never both send the same message. Claims are committed before returning.
        """
        now = utc(now)
        stale = now - dt.timedelta(seconds=lease_seconds)
        claimed = []
        with Session(self.engine) as session, session.begin():
            rows = session.execute(
                sa.select(OutboxRow.id, OutboxRow.status, OutboxRow.attempts)
                .where(
                    sa.or_(
                        sa.and_(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now),
                        sa.and_(OutboxRow.status == SENDING, OutboxRow.sending_since <= stale),
                    )
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
            for msg_id, status, attempts in rows:
                result = session.execute(
                    sa.update(OutboxRow)
                    .where(OutboxRow.id == msg_id, OutboxRow.status == status, OutboxRow.attempts == attempts)
                    .values(status=SENDING, attempts=attempts + 1, sending_since=now)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(msg_id)
            messages = [
                _to_message(r)
                for r in session.scalars(sa.select(OutboxRow).where(OutboxRow.id.in_(claimed)).order_by(OutboxRow.id))
            ]
        return messages

    def mark_sent(self, message_id: int, *, now: dt.datetime) -> None:
        """Record the delivery (one short transaction right after the send)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(status=SENT, sent_at=utc(now), last_error=None)
            )

    def mark_failed(self, message_id: int, *, now: dt.datetime, error: str, retry_at: dt.datetime | None) -> None:
        """Back to pending until ``retry_at``, or dead (kept, with the error) when it is None."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(
                    status=PENDING if retry_at else DEAD,
                    next_attempt_at=utc(retry_at or now),
                    last_error=error[:2000],
                    sending_since=None,
                )
            )


def list_outbox(session: Session, *, statuses: Sequence[str] = (), limit: int = 100) -> list[dict[str, object]]:
    """Outbox rows, newest first, as plain dicts for the CLI."""
    query = sa.select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if statuses:
        query = query.where(OutboxRow.status.in_(list(statuses)))
    return [
        {
            "id": r.id,
            "key": r.idempotency_key,
            "channel": r.channel,
            "kind": r.kind,
            "status": r.status,
            "attempts": r.attempts,
            "created_at": utc(r.created_at),
            "sent_at": utc(r.sent_at) if r.sent_at else None,
            "next_attempt_at": utc(r.next_attempt_at),
            "last_error": r.last_error,
            "title": r.title,
        }
        for r in session.scalars(query)
    ]


def requeue_dead(session: Session, *, now: dt.datetime) -> int:
    """Put dead messages back to pending (attempts reset); returns how many."""
    result = session.execute(
        sa.update(OutboxRow)
        .where(OutboxRow.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=utc(now))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_by_status(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    rows = session.execute(sa.select(OutboxRow.status, sa.func.count()).group_by(OutboxRow.status))
    return {status: int(n) for status, n in rows}
