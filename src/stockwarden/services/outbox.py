"""Use-cases of the notification outbox: list it, re-queue dead messages (audited), deliver what is due.

Messages carry alerts of every location, so these need an unscoped user (an administrator, or the
local administrator of the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import PermissionDenied
from stockwarden.services.audit import record
from stockwarden.services.common import require
from stockwarden.services.context import AppContext, read_scope, session_scope


@dataclass(frozen=True, slots=True)
class OutboxView:
    """Outbox rows (newest first, plain dicts) and how many messages are in each status."""

    rows: list[dict[str, Any]]
    counts: dict[str, int]


def _unscoped(actor: Actor) -> None:
    if not actor.scope.is_unrestricted:
        raise PermissionDenied(
            f"user {actor.username!r} is limited to some locations or categories; "
            "the outbox holds messages of every location"
        )


def list_outbox(ctx: AppContext, *, actor: Actor, statuses: Sequence[str] = (), limit: int = 50) -> OutboxView:
    """The newest ``limit`` messages (optionally of some statuses) and the counts per status."""
    from stockwarden.store.outbox import count_by_status
    from stockwarden.store.outbox import list_outbox as _list

    require(actor, Permission.READ)
    _unscoped(actor)
    with read_scope(ctx) as s:
        return OutboxView(_list(s, statuses=list(statuses), limit=limit), count_by_status(s))


def requeue_dead(ctx: AppContext, *, actor: Actor) -> int:
    """Put every dead message back in the queue (attempts reset); returns how many. Audited."""
    from stockwarden.store.outbox import requeue_dead as _requeue

    require(actor, Permission.ALERTS_ACT)
    _unscoped(actor)
    now = ctx.now()
    with session_scope(ctx) as s:
        n = _requeue(s, now=now)
        if n:
            record(
                s, actor, action="outbox.requeue", object_type="outbox", object_id=None, after={"messages": n}, now=now
            )
    return n


def deliver_due(ctx: AppContext, *, actor: Actor, rules: Any = None, notifier: Any = None) -> Any:
    """Send the messages that are due (between daily runs; cron every few minutes) with the channels of
    ``rules`` (default: the rules in force); returns the delivery report (``sent``, ``retrying``, ``dead``).

    Raises:
        ConfigError: a channel is unusable.
    """
    from stockwarden.alerts.notify.base import AppriseNotifier, check_channels
    from stockwarden.alerts.notify.outbox import deliver_due as _deliver
    from stockwarden.services.rules import current_rules
    from stockwarden.store.outbox import SqlOutbox

    require(actor, Permission.RUNS_START)
    rules = rules if rules is not None else current_rules(ctx)[1]
    check_channels(rules.notify.channels)
    sender = notifier or ctx.notifier or AppriseNotifier()
    return _deliver(SqlOutbox(ctx.engine), sender, rules=rules.notify, now=ctx.now())


__all__ = ["OutboxView", "deliver_due", "list_outbox", "requeue_dead"]
