"""Alerts: from risk assessments to a lifecycle of alerts, and notifications about them.

* :mod:`.build`: assessment frame -> :class:`~stockwarden.domain.alert.AlertSignal` per SKU-location.
* :mod:`.lifecycle`: the pure state machine (dedup, hysteresis, snooze, escalation, handling log).
* :mod:`.notify`: routing, digests, immediates, quiet hours, zh/en text, delivery through an outbox.
"""

from stockwarden.alerts.build import build_signals
from stockwarden.alerts.lifecycle import (
    acknowledge_alert,
    comment_alert,
    feedback_entry,
    reconcile_alerts,
    resolve_alert,
    snooze_alert,
    tick_alerts,
)

__all__ = [
    "acknowledge_alert",
    "build_signals",
    "comment_alert",
    "feedback_entry",
    "reconcile_alerts",
    "resolve_alert",
    "snooze_alert",
    "tick_alerts",
]
