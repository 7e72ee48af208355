"""Alerts: what stockwarden tells planners, and the story of how each alert was handled.

Pure values only (no I/O). The lifecycle rules that move alerts between states live in
:mod:`stockwarden.alerts.lifecycle`; storage rows live in :mod:`stockwarden.store.alerts`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class AlertLevel(StrEnum):
    """Urgency of a risk, the same scale as the risk assessment's ``level`` column."""

    OK = "ok"
    WATCH = "watch"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ok up to 3 for critical: compare levels with this, never with the strings."""
        return _LEVEL_RANK[self]


_LEVEL_RANK = {AlertLevel.OK: 0, AlertLevel.WATCH: 1, AlertLevel.WARNING: 2, AlertLevel.CRITICAL: 3}


class AlertKind(StrEnum):
    """What condition an alert is about (one live alert per SKU-location and kind)."""

    STOCKOUT_RISK = "stockout_risk"


class AlertState(StrEnum):
    """Where an alert is in its lifecycle.

    ``open -> acknowledged -> resolved``; ``snoozed`` until a date or until the level rises;
    ``escalated`` when a critical alert stays unacknowledged too long.
    """

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class AlertAction(StrEnum):
    """What happened to an alert, as written to its handling log."""

    OPENED = "opened"
    UPDATED = "updated"
    WORSENED = "worsened"
    IMPROVED = "improved"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    WOKEN = "woken"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    AUTO_RESOLVED = "auto_resolved"
    COMMENTED = "commented"
    FEEDBACK = "feedback"


class NotifyReason(StrEnum):
    """Why an alert change deserves a message (None when it does not)."""

    NEW = "new"
    WORSENED = "worsened"
    ESCALATED = "escalated"
    WOKEN = "woken"


class FeedbackVerdict(StrEnum):
    """A planner's verdict on an alert, kept for learning which alerts help."""

    USEFUL = "useful"
    FALSE_ALARM = "false_alarm"
    ALREADY_HANDLED = "already_handled"


SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class AlertSignal:
    """One run's observation of a condition for a SKU-location (built from an assessment row).

    Attributes:
        kind: the condition.
        sku: the SKU.
        location_id: the location.
        level: the assessed level.
        stockout_probability: P(stockout within the protection interval), 0-1.
        expected_stockout_date: the expected stockout date, None when none is expected.
        reasons: reason codes, most important first.
        days_of_cover: days the position lasts at forecast demand (None when unknown).
        suggested_order_qty: units the assessment proposes to order now.
        category: the item's category, for routing (None when unknown).
        roles: who should hear about it (planner, buyer, store_manager, supplier_manager).
    """

    kind: AlertKind
    sku: str
    location_id: str
    level: AlertLevel
    stockout_probability: float
    expected_stockout_date: dt.date | None = None
    reasons: tuple[str, ...] = ()
    days_of_cover: float | None = None
    suggested_order_qty: float = 0.0
    category: str | None = None
    roles: tuple[str, ...] = ("planner",)

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity of the condition: (kind, sku, location_id)."""
        return (str(self.kind), self.sku, self.location_id)


@dataclass(frozen=True, slots=True)
class Alert:
    """A live or past alert about one SKU-location and kind.

    Attributes:
        alert_id: database id, None before the alert is stored.
        kind, sku, location_id, level, stockout_probability, expected_stockout_date, reasons,
        days_of_cover, suggested_order_qty, category, roles: the latest observation (see AlertSignal).
        state: lifecycle state.
        opened_at: when the alert was opened.
        updated_at: when anything about it last changed.
        first_as_of: the assessment date that opened it.
        last_as_of: the latest assessment date that updated it.
        notified_level: the highest level planners were told about (worsening is measured against it).
        critical_since: when the level became critical in this episode (for escalation).
        snoozed_until: snoozed until this date (exclusive: it wakes on that day), if any.
        snooze_until_worse: snoozed until the level rises above ``snooze_level``.
        snooze_level: the level when it was snoozed.
        clear_runs: consecutive runs whose level was below the opening level (hysteresis).
        resolved_at: when it was resolved.
        resolved_by: who resolved it (``system`` for auto-resolution).
        is_latched: resolved by hand while the risk persists: no new alert until the risk clears
            or gets worse than ``level``.
        rules_version: hash of the rules in force at the last update.
    """

    kind: AlertKind
    sku: str
    location_id: str
    level: AlertLevel
    state: AlertState
    stockout_probability: float
    opened_at: dt.datetime
    updated_at: dt.datetime
    first_as_of: dt.date
    last_as_of: dt.date
    notified_level: AlertLevel
    expected_stockout_date: dt.date | None = None
    reasons: tuple[str, ...] = ()
    days_of_cover: float | None = None
    suggested_order_qty: float = 0.0
    category: str | None = None
    roles: tuple[str, ...] = ("planner",)
    alert_id: int | None = None
    critical_since: dt.datetime | None = None
    snoozed_until: dt.date | None = None
    snooze_until_worse: bool = False
    snooze_level: AlertLevel | None = None
    clear_runs: int = 0
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None
    is_latched: bool = False
    rules_version: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity of the condition: (kind, sku, location_id)."""
        return (str(self.kind), self.sku, self.location_id)

    @property
    def is_active(self) -> bool:
        """True while the alert is not resolved."""
        return self.state is not AlertState.RESOLVED


@dataclass(frozen=True, slots=True)
class HandlingEntry:
    """One line of an alert's handling log: who did what, when, from which state/level to which.

    Attributes:
        at: when it happened.
        actor: who did it (a user name, or ``system`` for the daily run).
        action: what happened.
        from_state, to_state: the lifecycle state before and after (equal for comments/updates).
        from_level, to_level: the level before and after (None when there was no level before).
        comment: free text (snooze date, reasons that changed, the planner's note, ...).
        alert_id: the alert, None while the alert is not stored yet.
    """

    at: dt.datetime
    actor: str
    action: AlertAction
    to_state: AlertState
    from_state: AlertState | None = None
    from_level: AlertLevel | None = None
    to_level: AlertLevel | None = None
    comment: str = ""
    alert_id: int | None = None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """The result of applying one run or one user action to one alert.

    Attributes:
        before: the alert before the change (None when the change opened it).
        after: the alert after the change.
        entries: handling-log lines for this change (empty: nothing to write).
        notify: why the change should be announced, None when it should not.
    """

    before: Alert | None
    after: Alert
    entries: tuple[HandlingEntry, ...]
    notify: NotifyReason | None = None
