"""Properties of the alert lifecycle over random sequences of daily signals and planner actions."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from stockwarden.alerts.lifecycle import acknowledge_alert, reconcile_alerts, resolve_alert, snooze_alert
from stockwarden.config import AlertRules
from stockwarden.domain.alert import Alert, AlertKind, AlertLevel, AlertSignal, NotifyReason
from stockwarden.errors import InvalidTransition

NOW = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)
AS_OF = dt.date(2024, 4, 30)
SKUS = ("A", "B", "C")
LEVEL_P = {"ok": 0.01, "watch": 0.2, "warning": 0.5, "critical": 0.9}

day_signals = st.dictionaries(st.sampled_from(SKUS), st.sampled_from(tuple(LEVEL_P)), max_size=3)
action = st.tuples(st.sampled_from(("none", "ack", "snooze_worse", "snooze_date", "resolve")), st.sampled_from(SKUS))
rules_strategy = st.builds(
    AlertRules,
    open_level=st.sampled_from(["watch", "warning"]),
    clear_after_runs=st.integers(1, 3),
    clear_probability=st.sampled_from([0.0, 0.05]),
    escalate_after_hours=st.sampled_from([12.0, 48.0]),
)


def signals(levels: dict[str, str]) -> list[AlertSignal]:
    return [
        AlertSignal(
            kind=AlertKind.STOCKOUT_RISK,
            sku=sku,
            location_id="WH1",
            level=AlertLevel(level),
            stockout_probability=LEVEL_P[level],
        )
        for sku, level in sorted(levels.items())
    ]


def apply(action_name: str, alert: Alert, now: dt.datetime):
    if action_name == "ack":
        return acknowledge_alert(alert, actor="p", now=now)
    if action_name == "snooze_worse":
        return snooze_alert(alert, actor="p", now=now, until_worse=True)
    if action_name == "snooze_date":
        return snooze_alert(alert, actor="p", now=now, until=now.date() + dt.timedelta(days=2))
    return resolve_alert(alert, actor="p", now=now)


@settings(max_examples=300, deadline=None)
@given(days=st.lists(st.tuples(day_signals, action), min_size=1, max_size=12), rules=rules_strategy)
def test_lifecycle_invariants_hold_over_any_history(days, rules):
    table: dict[int, Alert] = {}
    for i, (levels, (action_name, sku)) in enumerate(days):
        now, as_of = NOW + dt.timedelta(days=i), AS_OF + dt.timedelta(days=i)
        live = [a for a in table.values() if a.is_active or a.is_latched]
        changes = reconcile_alerts(live, signals(levels), as_of=as_of, now=now, rules=rules)
        for ch in changes:
            alert_id = ch.after.alert_id or len(table) + 1
            table[alert_id] = replace(ch.after, alert_id=alert_id)
            # a message is asked for only when something new or worse happened
            if ch.notify is NotifyReason.NEW:
                assert ch.before is None or ch.before.is_latched
            if ch.notify is NotifyReason.WORSENED:
                assert ch.before is not None
                bar = min(ch.before.notified_level.rank, (ch.before.snooze_level or ch.before.notified_level).rank)
                assert ch.after.level.rank > bar
            if ch.entries:
                assert ch.entries[0].from_state == (ch.before.state if ch.before else None)
                assert ch.entries[-1].to_state == ch.after.state
        # at most one live alert per key
        keys = [a.key for a in table.values() if a.is_active]
        assert len(keys) == len(set(keys))
        # re-running the same day with the same signals changes nothing
        live = [a for a in table.values() if a.is_active or a.is_latched]
        assert reconcile_alerts(live, signals(levels), as_of=as_of, now=now, rules=rules) == []
        # planner actions are either applied or refused with InvalidTransition
        target = next((a for a in table.values() if a.sku == sku and a.is_active), None)
        if action_name != "none" and target is not None:
            try:
                ch = apply(action_name, target, now + dt.timedelta(hours=2))
            except InvalidTransition:
                continue
            table[target.alert_id] = ch.after
