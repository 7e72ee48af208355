"""The alert lifecycle: dedup, hysteresis, snooze, escalation, latching and the handling log."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from tests.factories_alerts import AS_OF, NOW, make_signal

from stockwarden.alerts.lifecycle import (
    acknowledge_alert,
    comment_alert,
    reconcile_alerts,
    resolve_alert,
    snooze_alert,
)
from stockwarden.config import AlertRules
from stockwarden.domain.alert import Alert, AlertAction, AlertLevel, AlertState, NotifyReason
from stockwarden.errors import InvalidTransition

RULES = AlertRules()
DAY = dt.timedelta(days=1)


class World:
    """Applies runs day after day, keeping the alert table like the store would."""

    def __init__(self, rules: AlertRules = RULES) -> None:
        self.rules = rules
        self.alerts: dict[int, Alert] = {}
        self.log: list[tuple[int, AlertAction, str]] = []
        self.day = 0

    def active(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.is_active or a.is_latched]

    def run(self, *signals, days: int = 1, hours: float = 0.0):
        self.day += days
        now = NOW + self.day * DAY + dt.timedelta(hours=hours)
        changes = reconcile_alerts(
            self.active(), list(signals), as_of=AS_OF + self.day * DAY, now=now, rules=self.rules, rules_version="v1"
        )
        for ch in changes:
            self.save(ch)
        return changes

    def rerun_same_day(self, *signals):
        now = NOW + self.day * DAY + dt.timedelta(hours=1)
        return reconcile_alerts(self.active(), list(signals), as_of=AS_OF + self.day * DAY, now=now, rules=self.rules)

    def save(self, ch):
        alert_id = ch.after.alert_id or len(self.alerts) + 1
        self.alerts[alert_id] = replace(ch.after, alert_id=alert_id)
        self.log.extend((alert_id, e.action, e.comment) for e in ch.entries)
        return self.alerts[alert_id]

    def now(self) -> dt.datetime:
        return NOW + self.day * DAY


def test_a_new_risk_opens_one_alert_and_asks_for_a_message():
    w = World()
    (ch,) = w.run(make_signal(level="warning"))
    assert ch.before is None and ch.after.state is AlertState.OPEN and ch.notify is NotifyReason.NEW
    assert [e.action for e in ch.entries] == [AlertAction.OPENED]


def test_levels_below_the_opening_level_open_nothing():
    assert World().run(make_signal(level="watch", probability=0.2), make_signal("SKU-2", level="ok")) == []


def test_the_next_run_updates_the_same_alert_instead_of_opening_a_duplicate():
    w = World()
    w.run(make_signal(probability=0.5))
    (ch,) = w.run(make_signal(probability=0.7, date=dt.date(2024, 5, 8)))
    assert ch.before is not None and ch.after.alert_id == 1 and len(w.alerts) == 1
    assert ch.after.stockout_probability == 0.7 and ch.after.expected_stockout_date == dt.date(2024, 5, 8)
    assert ch.notify is None
    assert ch.entries[0].action is AlertAction.UPDATED and "0.50->0.70" in ch.entries[0].comment


def test_rerunning_the_same_date_with_the_same_signals_changes_nothing():
    w = World()
    w.run(make_signal())
    assert w.rerun_same_day(make_signal()) == []
    w.run(make_signal(level="watch", probability=0.3))  # one clear run
    assert w.rerun_same_day(make_signal(level="watch", probability=0.3)) == []


def test_worsening_is_announced_once_and_flapping_is_not():
    w = World()
    w.run(make_signal(level="warning"))
    (ch,) = w.run(make_signal(level="critical", probability=0.9))
    assert ch.notify is NotifyReason.WORSENED and ch.entries[0].action is AlertAction.WORSENED
    # dips below and comes back: logged, but nothing new to announce
    (ch,) = w.run(make_signal(level="watch", probability=0.3))
    assert ch.notify is None and ch.after.state is AlertState.OPEN and ch.after.clear_runs == 1
    (ch,) = w.run(make_signal(level="critical", probability=0.9))
    assert ch.notify is None and ch.after.clear_runs == 0
    assert len(w.alerts) == 1


def test_hysteresis_resolves_only_after_n_clear_runs():
    w = World(AlertRules(clear_after_runs=3, clear_probability=0.01))
    w.run(make_signal(level="warning"))
    for _ in range(2):
        (ch,) = w.run(make_signal(level="watch", probability=0.2))
        assert ch.after.state is AlertState.OPEN
    (ch,) = w.run(make_signal(level="watch", probability=0.2))
    assert ch.after.state is AlertState.RESOLVED and ch.after.resolved_by == "system"
    assert ch.entries[0].action is AlertAction.AUTO_RESOLVED and "3 run" in ch.entries[0].comment


def test_a_probability_under_the_lower_threshold_resolves_at_once():
    w = World(AlertRules(clear_after_runs=5, clear_probability=0.05))
    w.run(make_signal(level="warning"))
    (ch,) = w.run(make_signal(level="ok", probability=0.01))
    assert ch.after.state is AlertState.RESOLVED


def test_after_resolution_a_returning_risk_opens_a_new_alert():
    w = World(AlertRules(clear_after_runs=1))
    w.run(make_signal())
    w.run(make_signal(level="ok", probability=0.0))
    (ch,) = w.run(make_signal())
    assert ch.before is None and ch.notify is NotifyReason.NEW and len(w.alerts) == 2


def test_a_signal_that_disappears_counts_as_clear():
    w = World(AlertRules(clear_after_runs=2))
    w.run(make_signal())
    (ch,) = w.run()
    assert ch.after.state is AlertState.OPEN and ch.entries == ()
    (ch,) = w.run()
    assert ch.after.state is AlertState.RESOLVED


def test_snooze_until_worse_stays_quiet_at_the_same_level_and_wakes_when_it_rises():
    w = World()
    w.run(make_signal(level="warning"))
    snoozed = w.save(snooze_alert(w.alerts[1], actor="li", now=w.now(), until_worse=True))
    assert snoozed.state is AlertState.SNOOZED
    (ch,) = w.run(make_signal(level="warning", probability=0.6))
    assert ch.after.state is AlertState.SNOOZED and ch.notify is None
    (ch,) = w.run(make_signal(level="critical", probability=0.9))
    assert ch.after.state is AlertState.OPEN and ch.notify is NotifyReason.WORSENED
    assert [e.action for e in ch.entries] == [AlertAction.WORSENED, AlertAction.WOKEN]


def test_snooze_until_a_date_wakes_on_that_day():
    w = World()
    w.run(make_signal())
    w.save(snooze_alert(w.alerts[1], actor="li", now=w.now(), until=w.now().date() + 2 * DAY))
    (ch,) = w.run(make_signal(probability=0.55))
    assert ch.after.state is AlertState.SNOOZED
    (ch,) = w.run(make_signal(probability=0.55))
    assert ch.after.state is AlertState.OPEN and ch.notify is NotifyReason.WOKEN


def test_snooze_needs_a_future_date_or_until_worse():
    w = World()
    w.run(make_signal())
    with pytest.raises(InvalidTransition, match="needs a date"):
        snooze_alert(w.alerts[1], actor="li", now=w.now())
    with pytest.raises(InvalidTransition, match="not after today"):
        snooze_alert(w.alerts[1], actor="li", now=w.now(), until=w.now().date())


def test_an_unacknowledged_critical_alert_escalates_after_the_configured_time():
    w = World(AlertRules(escalate_after_hours=36))
    w.run(make_signal(level="critical", probability=0.9))
    (ch,) = w.run(make_signal(level="critical", probability=0.91))
    assert ch.after.state is AlertState.OPEN  # 24 h < 36 h
    (ch,) = w.run(make_signal(level="critical", probability=0.91))
    assert ch.after.state is AlertState.ESCALATED and ch.notify is NotifyReason.ESCALATED
    assert ch.entries[-1].action is AlertAction.ESCALATED
    (ch,) = w.run(make_signal(level="critical", probability=0.91))  # escalates once, not every run
    assert ch.after.state is AlertState.ESCALATED and ch.entries == () and ch.notify is None


def test_an_acknowledged_critical_alert_does_not_escalate():
    w = World(AlertRules(escalate_after_hours=1))
    w.run(make_signal(level="critical", probability=0.9))
    w.save(acknowledge_alert(w.alerts[1], actor="li", now=w.now()))
    (ch,) = w.run(make_signal(level="critical", probability=0.95))
    assert ch.after.state is AlertState.ACKNOWLEDGED


def test_a_hand_resolved_alert_latches_until_the_risk_clears_or_worsens():
    w = World()
    w.run(make_signal(level="warning"))
    w.save(resolve_alert(w.alerts[1], actor="li", now=w.now(), comment="ordered by phone"))
    assert w.run(make_signal(level="warning")) == []  # same risk: no new alert
    changes = w.run(make_signal(level="critical", probability=0.9))
    assert [c.after.alert_id for c in changes] == [1, None] and changes[1].notify is NotifyReason.NEW
    assert w.alerts[1].is_latched is False and len(w.alerts) == 2


def test_transitions_that_make_no_sense_are_refused():
    w = World()
    w.run(make_signal())
    acked = w.save(acknowledge_alert(w.alerts[1], actor="li", now=w.now()))
    with pytest.raises(InvalidTransition, match="acknowledged: cannot acknowledge"):
        acknowledge_alert(acked, actor="li", now=w.now())
    done = w.save(resolve_alert(acked, actor="li", now=w.now()))
    with pytest.raises(InvalidTransition, match="resolved: cannot snooze"):
        snooze_alert(done, actor="li", now=w.now(), until_worse=True)


def test_the_handling_log_tells_the_story():
    w = World(AlertRules(clear_after_runs=1))
    w.run(make_signal(level="warning"))
    w.save(comment_alert(w.alerts[1], actor="li", now=w.now(), comment="calling the supplier"))
    w.save(acknowledge_alert(w.alerts[1], actor="li", now=w.now(), comment="on it"))
    w.run(make_signal(level="critical", probability=0.9))
    w.run(make_signal(level="ok", probability=0.0))
    assert [(a, c) for _, a, c in w.log] == [
        (AlertAction.OPENED, "P(stockout) 0.50; date 2024-05-10; reasons below_reorder_point"),
        (AlertAction.COMMENTED, "calling the supplier"),
        (AlertAction.ACKNOWLEDGED, "on it"),
        (AlertAction.WORSENED, "level warning->critical; P(stockout) 0.50->0.90"),
        (AlertAction.AUTO_RESOLVED, "P(stockout) 0.00 < 0.05"),
    ]


def test_an_alert_level_is_compared_by_rank():
    assert AlertLevel.CRITICAL.rank > AlertLevel.WARNING.rank > AlertLevel.WATCH.rank > AlertLevel.OK.rank


def test_time_alone_escalates_and_ends_snoozes_but_leaves_a_clearing_snooze_alone():
    from stockwarden.alerts.lifecycle import tick_alerts

    w = World(AlertRules(escalate_after_hours=10))
    w.run(make_signal("A", level="critical", probability=0.9), make_signal("B"), make_signal("C"))
    w.save(snooze_alert(w.alerts[2], actor="li", now=w.now(), until=w.now().date() + DAY))
    snoozed = snooze_alert(w.alerts[3], actor="li", now=w.now(), until=w.now().date() + DAY)
    w.save(replace(snoozed, after=replace(snoozed.after, clear_runs=1)))
    changes = tick_alerts(list(w.alerts.values()), now=w.now() + DAY, rules=w.rules)
    assert {(c.after.sku, c.after.state, c.notify) for c in changes} == {
        ("A", AlertState.ESCALATED, NotifyReason.ESCALATED),
        ("B", AlertState.OPEN, NotifyReason.WOKEN),
    }
    assert tick_alerts([c.after for c in changes], now=w.now() + DAY, rules=w.rules) == []


def test_a_duplicated_assessment_row_never_opens_two_alerts():
    (ch,) = World().run(make_signal(level="warning", probability=0.5), make_signal(level="critical", probability=0.8))
    assert ch.after.level is AlertLevel.CRITICAL
