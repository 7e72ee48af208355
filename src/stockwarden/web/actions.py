"""The web's calls into the application layer for alert actions (one place to adapt if a service changes).

Each function performs the use-case once per id through ``stockwarden.services.alerts`` (which checks the
permission and the scope, owns the transaction and writes the audit row) and returns how many succeeded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from stockwarden.domain.actor import Actor
from stockwarden.services.context import AppContext


def _alerts():  # type: ignore[no-untyped-def]
    from stockwarden.services import alerts

    return alerts


def acknowledge(ctx: AppContext, alert_ids: Sequence[int], *, actor: Actor, comment: str = "") -> int:
    """Acknowledge alerts; returns how many were acknowledged."""
    svc = _alerts()
    for alert_id in alert_ids:
        svc.act_on_alert(ctx, alert_id, "ack", actor=actor, comment=comment or None)
    return len(alert_ids)


def snooze(
    ctx: AppContext,
    alert_ids: Sequence[int],
    *,
    actor: Actor,
    until: dt.date | None,
    until_worse: bool,
    comment: str = "",
) -> int:
    """Snooze alerts until a date and/or until they get worse; returns how many were snoozed."""
    svc = _alerts()
    for alert_id in alert_ids:
        svc.act_on_alert(
            ctx, alert_id, "snooze", actor=actor, until=until, until_worse=until_worse, comment=comment or None
        )
    return len(alert_ids)


__all__ = ["acknowledge", "snooze"]
