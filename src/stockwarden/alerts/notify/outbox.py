"""Delivery through an outbox: stored before sending, retried with backoff, marked sent once.

The guarantee
-------------
1. **Never lost.** A message is inserted into the ``outbox`` table in the same database transaction as
   the run step that composed it, before any network call. A failed delivery keeps the row
   (``pending`` with ``next_attempt_at`` pushed back by exponential backoff:
   ``retry_base_seconds * 2**(attempts-1)``, capped at ``retry_max_seconds``). After ``max_attempts``
   the row is parked as ``dead`` with its last error -- still stored, listed by
   ``stockwarden alerts outbox`` and re-queued by ``stockwarden alerts outbox --retry``.
2. **Never composed twice.** Every message has an ``idempotency_key`` (``digest:<channel>:run<id>``,
   ``immediate:<channel>:log<id>``) under a unique constraint: a resumed or repeated run re-composes
   the same keys and the insert is skipped.
3. **Sent once.** Before sending, a worker *claims* the row: ``pending -> sending`` with
   ``attempts + 1`` and ``sending_since = now``, committed. Only the worker whose conditional UPDATE
   matched sends. Right after a successful send the row becomes ``sent`` (its own short transaction)
   and is never picked again.

The one window: a crash after the receiver accepted the message and before ``sent`` is committed.
The database cannot know whether the message left. Such a row stays ``sending``; once
``sending_lease_seconds`` have passed it is claimed again and re-sent -- **at-least-once at that one
point**, never silently dropped. We keep the window as small as possible (claim committed first, the
network call, then an immediate tiny ``UPDATE ... SET status='sent'``; nothing else in between) and make
a repeat recognisable: the same idempotency key travels in every attempt, as the ``ref:`` last line
of the body and, for generic webhooks, as the ``X-Idempotency-Key`` HTTP header, so a receiver (or a
person) can drop the duplicate. Exactly-once end to end needs such a deduplicating receiver; no
outbox can provide it alone with SMTP or chat robots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from stockwarden.alerts.notify.base import Notifier, OutboxMessage
from stockwarden.config import NotifyRules
from stockwarden.errors import NotifyError

log = structlog.get_logger(__name__)


class OutboxStore(Protocol):
    """What delivery needs from storage (implemented by :class:`stockwarden.store.outbox.SqlOutbox`)."""

    def claim_due(self, *, now: dt.datetime, lease_seconds: float, limit: int) -> Sequence[OutboxMessage]:
        """Claim due messages (pending and due, or sending with an expired lease); commit the claim."""
        ...

    def mark_sent(self, message_id: int, *, now: dt.datetime) -> None:
        """Record a successful delivery."""
        ...

    def mark_failed(self, message_id: int, *, now: dt.datetime, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt: back to pending until ``retry_at``, or dead when it is None."""
        ...


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)

    @property
    def n_sent(self) -> int:
        """Messages delivered in this pass."""
        return len(self.sent)


def retry_delay_seconds(attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff after the ``attempts``-th failure: base, 2*base, 4*base, ... capped.

    Example:
        >>> [retry_delay_seconds(n, base_seconds=60, max_seconds=300) for n in (1, 2, 3, 4)]
        [60.0, 120.0, 240.0, 300.0]
    """
    return float(min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def deliver_due(
    store: OutboxStore,
    notifier: Notifier,
    *,
    rules: NotifyRules,
    now: dt.datetime,
    limit: int = 1000,
) -> DeliveryReport:
    """Send every due message once; reschedule failures with backoff; park hopeless ones as dead.

    Args:
        store: the outbox storage.
        notifier: sends one message to one URL.
        rules: channels (name -> URL) and retry settings.
        now: the current time (timezone-aware).
        limit: most messages handled in one pass.

    Returns:
        The keys sent, rescheduled and parked.
    """
    urls = {c.name: c.url for c in rules.channels}
    report = DeliveryReport()
    for message in store.claim_due(now=now, lease_seconds=rules.sending_lease_seconds, limit=limit):
        assert message.message_id is not None
        url = urls.get(message.channel)
        try:
            if url is None:
                raise NotifyError(f"channel {message.channel} is no longer configured")
            notifier.send(url, message)
        except NotifyError as exc:
            is_last = message.attempts >= rules.max_attempts or url is None
            delay = retry_delay_seconds(
                message.attempts, base_seconds=rules.retry_base_seconds, max_seconds=rules.retry_max_seconds
            )
            retry_at = None if is_last else now + dt.timedelta(seconds=delay)
            store.mark_failed(message.message_id, now=now, error=str(exc), retry_at=retry_at)
            (report.dead if is_last else report.retrying).append(message.idempotency_key)
            log.warning(
                "notify.failed",
                code="SW-E601",
                key=message.idempotency_key,
                attempt=message.attempts,
                error=str(exc),
                retry_at=retry_at.isoformat() if retry_at else None,
            )
            continue
        store.mark_sent(message.message_id, now=now)
        report.sent.append(message.idempotency_key)
    return report
