"""The alert lifecycle: pure functions from (alerts, signals, now) to changes and handling-log lines.

Rules (see :class:`stockwarden.config.AlertRules`):

* **One alert per SKU-location and kind while the condition lasts.** A run's signal updates the live
  alert (level, probability, date, reasons); it never opens a second one.
* **States** ``open -> acknowledged -> resolved``; ``snoozed`` until a date (it wakes on that day) or
  until the level rises above the level it was snoozed at; ``escalated`` when a critical alert stays
  ``open`` for ``escalate_after_hours``.
* **Hysteresis.** A run is *clear* when the level is below ``open_level``. The alert auto-resolves after
  ``clear_after_runs`` consecutive clear runs, or at once when a clear run's probability is under
  ``clear_probability``. A level that dips under the threshold and comes back therefore neither
  resolves nor re-notifies; worsening is measured against the highest level already announced
  (``notified_level``), so flapping between ``watch`` and ``warning`` sends one message, not one per flap.
* **Manual resolution latches.** An alert resolved by hand while the risk persists opens no new
  alert until the risk clears or gets worse than it was.
* Re-running the same ``as_of`` with the same signals yields no change (idempotent).

Every change carries :class:`~stockwarden.domain.alert.HandlingEntry` lines (who, when, what, from,
to, comment). Nothing here reads a clock: ``now`` is an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace

from stockwarden.config import AlertRules
from stockwarden.domain.alert import (
    SYSTEM_ACTOR,
    Alert,
    AlertAction,
    AlertChange,
    AlertLevel,
    AlertSignal,
    AlertState,
    FeedbackVerdict,
    HandlingEntry,
    NotifyReason,
)
from stockwarden.errors import InvalidTransition

_PROBABILITY_STEP = 0.01  # probability changes smaller than this are not worth a log line


def reconcile_alerts(
    active: Sequence[Alert],
    signals: Iterable[AlertSignal],
    *,
    as_of: dt.date,
    now: dt.datetime,
    rules: AlertRules,
    rules_version: str = "",
) -> list[AlertChange]:
    """Apply one run's signals to the live alerts.

    Args:
        active: alerts not resolved, plus latched ones (resolved by hand while the risk persisted).
        signals: this run's observations, one per (kind, sku, location_id) (of duplicates the most
            severe is kept); SKU-locations without a signal count as clear.
        as_of: the assessment date of the run.
        now: the wall-clock time of the run (for escalation, snooze dates and the log).
        rules: the alert rules.
        rules_version: the rules hash, stored on every alert the run touches.

    Returns:
        The changes, opened alerts first in signal order, then updates in key order. Alerts whose
        record did not change are absent.
    """
    by_key = {a.key: a for a in active}
    open_rank = AlertLevel(rules.open_level).rank
    changes: list[AlertChange] = []
    # one signal per key: a duplicated assessment row keeps its most severe reading
    unique: dict[tuple[str, str, str], AlertSignal] = {}
    for signal in signals:
        kept = unique.get(signal.key)
        if kept is None or (signal.level.rank, signal.stockout_probability) > (
            kept.level.rank,
            kept.stockout_probability,
        ):
            unique[signal.key] = signal
    seen: set[tuple[str, str, str]] = set()
    for signal in unique.values():
        seen.add(signal.key)
        alert = by_key.get(signal.key)
        if alert is None:
            if signal.level.rank >= open_rank:
                changes.append(_open(signal, as_of=as_of, now=now, rules_version=rules_version))
            continue
        changes.extend(_apply(alert, signal, as_of=as_of, now=now, rules=rules, rules_version=rules_version))
    for key in sorted(set(by_key) - seen):
        changes.extend(_apply(by_key[key], None, as_of=as_of, now=now, rules=rules, rules_version=rules_version))
    return changes


def tick_alerts(active: Sequence[Alert], *, now: dt.datetime, rules: AlertRules) -> list[AlertChange]:
    """Apply the passing of time alone (no new assessment): escalations and snoozes that end today.

    Used when the daily job runs but the data has not changed, so that a critical alert nobody
    acknowledges still escalates and a snooze "until Friday" still ends on Friday. A snoozed alert
    whose last run was clear (``clear_runs > 0``) stays snoozed: the next assessment decides.
    """
    changes: list[AlertChange] = []
    for alert in active:
        if alert.state is AlertState.RESOLVED:
            continue
        after, entries, notify = alert, [], None
        if (
            after.state is AlertState.SNOOZED
            and after.snoozed_until is not None
            and now.date() >= after.snoozed_until
            and after.clear_runs == 0
        ):
            woken = replace(
                after, state=AlertState.OPEN, snoozed_until=None, snooze_until_worse=False, snooze_level=None
            )
            entries.append(
                _entry(
                    after,
                    woken,
                    now=now,
                    actor=SYSTEM_ACTOR,
                    action=AlertAction.WOKEN,
                    comment=f"snooze ended {after.snoozed_until}",
                )
            )
            after, notify = woken, NotifyReason.WOKEN
        escalation = _escalate(after, now=now, rules=rules)
        if escalation:
            after, entry = escalation
            entries.append(entry)
            notify = NotifyReason.ESCALATED
        if entries:
            changes.append(
                AlertChange(before=alert, after=replace(after, updated_at=now), entries=tuple(entries), notify=notify)
            )
    return changes


def _open(signal: AlertSignal, *, as_of: dt.date, now: dt.datetime, rules_version: str) -> AlertChange:
    alert = Alert(
        kind=signal.kind,
        sku=signal.sku,
        location_id=signal.location_id,
        level=signal.level,
        state=AlertState.OPEN,
        stockout_probability=signal.stockout_probability,
        opened_at=now,
        updated_at=now,
        first_as_of=as_of,
        last_as_of=as_of,
        notified_level=signal.level,
        expected_stockout_date=signal.expected_stockout_date,
        reasons=signal.reasons,
        days_of_cover=signal.days_of_cover,
        suggested_order_qty=signal.suggested_order_qty,
        category=signal.category,
        roles=signal.roles,
        critical_since=now if signal.level is AlertLevel.CRITICAL else None,
        rules_version=rules_version,
    )
    entry = HandlingEntry(
        at=now,
        actor=SYSTEM_ACTOR,
        action=AlertAction.OPENED,
        from_state=None,
        to_state=AlertState.OPEN,
        to_level=signal.level,
        comment=_describe(signal),
    )
    return AlertChange(before=None, after=alert, entries=(entry,), notify=NotifyReason.NEW)


def _apply(
    alert: Alert,
    signal: AlertSignal | None,
    *,
    as_of: dt.date,
    now: dt.datetime,
    rules: AlertRules,
    rules_version: str,
) -> list[AlertChange]:
    if alert.last_as_of > as_of:
        return []  # a back-dated run never rewinds a newer alert
    open_rank = AlertLevel(rules.open_level).rank
    is_clear = signal is None or signal.level.rank < open_rank
    if alert.state is AlertState.RESOLVED:
        return _apply_latched(alert, signal, is_clear=is_clear, as_of=as_of, now=now, rules_version=rules_version)

    # Hysteresis counter; a re-run of the same date replaces that date's verdict instead of adding one
    # (the last run was clear exactly when the counter is positive).
    clear_runs = alert.clear_runs
    if as_of == alert.last_as_of and clear_runs > 0:
        clear_runs -= 1
    clear_runs = clear_runs + 1 if is_clear else 0

    if is_clear:
        is_gone = signal is not None and signal.stockout_probability < rules.clear_probability
        if clear_runs >= rules.clear_after_runs or is_gone:
            after = _observe(alert, signal, as_of=as_of, now=now, rules_version=rules_version)
            after = replace(
                after,
                state=AlertState.RESOLVED,
                resolved_at=now,
                resolved_by=SYSTEM_ACTOR,
                clear_runs=clear_runs,
                critical_since=None,
                is_latched=False,
            )
            why = (
                f"P(stockout) {after.stockout_probability:.2f} < {rules.clear_probability:.2f}"
                if is_gone
                else f"below {rules.open_level} for {clear_runs} run(s)"
            )
            entry = _entry(alert, after, now=now, actor=SYSTEM_ACTOR, action=AlertAction.AUTO_RESOLVED, comment=why)
            return [AlertChange(before=alert, after=after, entries=(entry,))]

    after = _observe(alert, signal, as_of=as_of, now=now, rules_version=rules_version)
    after = replace(after, clear_runs=clear_runs)
    entries: list[HandlingEntry] = []
    notify: NotifyReason | None = None
    if signal is not None and signal.level != alert.level:
        action = AlertAction.WORSENED if signal.level.rank > alert.level.rank else AlertAction.IMPROVED
        entries.append(_entry(alert, after, now=now, actor=SYSTEM_ACTOR, action=action, comment=_diff(alert, after)))
    elif signal is not None and _diff(alert, after):
        entries.append(
            _entry(alert, after, now=now, actor=SYSTEM_ACTOR, action=AlertAction.UPDATED, comment=_diff(alert, after))
        )

    if after.state is AlertState.SNOOZED:
        is_worse = (
            after.snooze_until_worse and after.snooze_level is not None and after.level.rank > after.snooze_level.rank
        )
        is_due = after.snoozed_until is not None and now.date() >= after.snoozed_until
        if (is_worse or is_due) and not is_clear:
            woken = replace(
                after,
                state=AlertState.OPEN,
                snoozed_until=None,
                snooze_until_worse=False,
                snooze_level=None,
                notified_level=max(after.level, after.notified_level, key=_rank),
            )
            why = f"level rose above {after.snooze_level}" if is_worse else f"snooze ended {after.snoozed_until}"
            entries.append(_entry(after, woken, now=now, actor=SYSTEM_ACTOR, action=AlertAction.WOKEN, comment=why))
            notify = NotifyReason.WORSENED if is_worse else NotifyReason.WOKEN
            after = woken
    elif after.level.rank > after.notified_level.rank:
        after = replace(after, notified_level=after.level)
        notify = NotifyReason.WORSENED

    escalation = _escalate(after, now=now, rules=rules)
    if escalation:
        after, entry = escalation
        entries.append(entry)
        notify = notify or NotifyReason.ESCALATED

    if _same_record(alert, after):
        return []
    if entries:
        after = replace(after, updated_at=now)
    return [AlertChange(before=alert, after=after, entries=tuple(entries), notify=notify)]


def _apply_latched(
    alert: Alert, signal: AlertSignal | None, *, is_clear: bool, as_of: dt.date, now: dt.datetime, rules_version: str
) -> list[AlertChange]:
    """A hand-resolved alert: un-latch when the risk clears, open a new alert when it gets worse."""
    if not alert.is_latched:
        return []
    if is_clear:
        after = replace(alert, is_latched=False, updated_at=now)
        entry = _entry(
            alert,
            after,
            now=now,
            actor=SYSTEM_ACTOR,
            action=AlertAction.UPDATED,
            comment="risk cleared; a new alert opens if it returns",
        )
        return [AlertChange(before=alert, after=after, entries=(entry,))]
    assert signal is not None
    if signal.level.rank > alert.level.rank:
        released = replace(alert, is_latched=False, updated_at=now)
        entry = _entry(
            alert,
            released,
            now=now,
            actor=SYSTEM_ACTOR,
            action=AlertAction.UPDATED,
            comment=f"risk rose to {signal.level}; opened a new alert",
        )
        return [
            AlertChange(before=alert, after=released, entries=(entry,)),
            _open(signal, as_of=as_of, now=now, rules_version=rules_version),
        ]
    return []


def _observe(
    alert: Alert, signal: AlertSignal | None, *, as_of: dt.date, now: dt.datetime, rules_version: str
) -> Alert:
    if signal is None:
        return replace(alert, last_as_of=as_of)
    critical_since = alert.critical_since
    if signal.level is AlertLevel.CRITICAL and critical_since is None:
        critical_since = now
    elif signal.level is not AlertLevel.CRITICAL:
        critical_since = None
    return replace(
        alert,
        level=signal.level,
        stockout_probability=signal.stockout_probability,
        expected_stockout_date=signal.expected_stockout_date,
        reasons=signal.reasons,
        days_of_cover=signal.days_of_cover,
        suggested_order_qty=signal.suggested_order_qty,
        category=signal.category,
        roles=signal.roles,
        last_as_of=as_of,
        critical_since=critical_since,
        rules_version=rules_version or alert.rules_version,
    )


def _escalation_due(alert: Alert, *, now: dt.datetime, rules: AlertRules) -> dt.timedelta | None:
    if alert.state is not AlertState.OPEN or alert.level is not AlertLevel.CRITICAL or alert.critical_since is None:
        return None
    waited = now - alert.critical_since
    return waited if waited >= dt.timedelta(hours=rules.escalate_after_hours) else None


def _escalate(alert: Alert, *, now: dt.datetime, rules: AlertRules) -> tuple[Alert, HandlingEntry] | None:
    """The escalated alert and its log entry when a critical alert has waited too long, else None."""
    overdue = _escalation_due(alert, now=now, rules=rules)
    if not overdue:
        return None
    escalated = replace(alert, state=AlertState.ESCALATED)
    entry = _entry(
        alert,
        escalated,
        now=now,
        actor=SYSTEM_ACTOR,
        action=AlertAction.ESCALATED,
        comment=f"critical and unacknowledged for {overdue}",
    )
    return escalated, entry


def _same_record(a: Alert, b: Alert) -> bool:
    return a == replace(b, updated_at=a.updated_at)


def _rank(level: AlertLevel) -> int:
    return level.rank


def _entry(
    before: Alert, after: Alert, *, now: dt.datetime, actor: str, action: AlertAction, comment: str = ""
) -> HandlingEntry:
    return HandlingEntry(
        at=now,
        actor=actor,
        action=action,
        from_state=before.state,
        to_state=after.state,
        from_level=before.level,
        to_level=after.level,
        comment=comment,
        alert_id=before.alert_id,
    )


def _describe(signal: AlertSignal) -> str:
    date = signal.expected_stockout_date.isoformat() if signal.expected_stockout_date else "-"
    return f"P(stockout) {signal.stockout_probability:.2f}; date {date}; reasons {';'.join(signal.reasons) or '-'}"


def _diff(a: Alert, b: Alert) -> str:
    parts = []
    if a.level != b.level:
        parts.append(f"level {a.level}->{b.level}")
    if abs(a.stockout_probability - b.stockout_probability) >= _PROBABILITY_STEP:
        parts.append(f"P(stockout) {a.stockout_probability:.2f}->{b.stockout_probability:.2f}")
    if a.expected_stockout_date != b.expected_stockout_date:
        old = a.expected_stockout_date.isoformat() if a.expected_stockout_date else "-"
        new = b.expected_stockout_date.isoformat() if b.expected_stockout_date else "-"
        parts.append(f"date {old}->{new}")
    if a.reasons != b.reasons:
        parts.append(f"reasons {';'.join(a.reasons) or '-'}->{';'.join(b.reasons) or '-'}")
    return "; ".join(parts)


# --- planner actions -------------------------------------------------------------------------


def acknowledge_alert(alert: Alert, *, actor: str, now: dt.datetime, comment: str = "") -> AlertChange:
    """Acknowledge an open, escalated or snoozed alert.

    Raises:
        InvalidTransition: the alert is already acknowledged or resolved.
    """
    _require(alert, {AlertState.OPEN, AlertState.ESCALATED, AlertState.SNOOZED}, "acknowledge")
    after = replace(
        alert,
        state=AlertState.ACKNOWLEDGED,
        updated_at=now,
        snoozed_until=None,
        snooze_until_worse=False,
        snooze_level=None,
    )
    entry = _entry(alert, after, now=now, actor=actor, action=AlertAction.ACKNOWLEDGED, comment=comment)
    return AlertChange(before=alert, after=after, entries=(entry,))


def snooze_alert(
    alert: Alert,
    *,
    actor: str,
    now: dt.datetime,
    until: dt.date | None = None,
    until_worse: bool = False,
    comment: str = "",
) -> AlertChange:
    """Snooze an alert until a date, or until its level rises ("tell me again only if it gets worse").

    Raises:
        InvalidTransition: the alert is resolved, or neither ``until`` nor ``until_worse`` is given,
            or ``until`` is not after today.
    """
    _require(alert, {AlertState.OPEN, AlertState.ESCALATED, AlertState.ACKNOWLEDGED, AlertState.SNOOZED}, "snooze")
    if until is None and not until_worse:
        raise InvalidTransition(f"alert {alert.alert_id}: snooze needs a date (--until) or --until-worse")
    if until is not None and until <= now.date():
        raise InvalidTransition(f"alert {alert.alert_id}: snooze date {until} is not after today ({now.date()})")
    after = replace(
        alert,
        state=AlertState.SNOOZED,
        updated_at=now,
        snoozed_until=until,
        snooze_until_worse=until_worse,
        snooze_level=alert.level,
    )
    what = " and ".join(p for p in (f"until {until}" if until else "", "until worse" if until_worse else "") if p)
    text = f"{what}; {comment}" if comment else what
    entry = _entry(alert, after, now=now, actor=actor, action=AlertAction.SNOOZED, comment=text)
    return AlertChange(before=alert, after=after, entries=(entry,))


def resolve_alert(alert: Alert, *, actor: str, now: dt.datetime, comment: str = "") -> AlertChange:
    """Resolve an alert by hand. It latches: no new alert until the risk clears or gets worse.

    Raises:
        InvalidTransition: the alert is already resolved.
    """
    _require(alert, {s for s in AlertState if s is not AlertState.RESOLVED}, "resolve")
    after = replace(
        alert,
        state=AlertState.RESOLVED,
        updated_at=now,
        resolved_at=now,
        resolved_by=actor,
        is_latched=True,
        critical_since=None,
    )
    entry = _entry(alert, after, now=now, actor=actor, action=AlertAction.RESOLVED, comment=comment)
    return AlertChange(before=alert, after=after, entries=(entry,))


def comment_alert(alert: Alert, *, actor: str, now: dt.datetime, comment: str) -> AlertChange:
    """Add a comment to an alert's handling log (any state).

    Raises:
        InvalidTransition: the comment is empty.
    """
    if not comment.strip():
        raise InvalidTransition(f"alert {alert.alert_id}: a comment needs text")
    entry = _entry(alert, alert, now=now, actor=actor, action=AlertAction.COMMENTED, comment=comment)
    return AlertChange(before=alert, after=alert, entries=(entry,))


def feedback_entry(
    alert: Alert, *, verdict: FeedbackVerdict, actor: str, now: dt.datetime, note: str = ""
) -> HandlingEntry:
    """The handling-log line that records a planner's feedback on an alert (any state)."""
    text = f"{verdict}: {note}" if note else str(verdict)
    return _entry(alert, alert, now=now, actor=actor, action=AlertAction.FEEDBACK, comment=text)


def _require(alert: Alert, allowed: set[AlertState], verb: str) -> None:
    if alert.state not in allowed:
        raise InvalidTransition(f"alert {alert.alert_id} is {alert.state}: cannot {verb} it")
