"""Alert effectiveness on a hand-made history of alerts and stockouts: the expected rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stockwarden.quality.effectiveness import (
    alert_effectiveness,
    alerts_from_levels,
    label_protection_interval,
    stockout_episodes,
)

D = pd.Timestamp


def stock_history() -> pd.DataFrame:
    """A: out on days 10-11 and 30; B: out on day 20; C never out (days from 2024-01-01)."""
    days = pd.date_range("2024-01-01", periods=40)
    rows = []
    for sku, out in (("A", {9, 10, 29}), ("B", {19}), ("C", set())):
        rows += [
            {"sku": sku, "location_id": "W", "date": d, "on_hand": 0.0 if i in out else 5.0} for i, d in enumerate(days)
        ]
    return pd.DataFrame(rows)


def test_episodes_are_runs_of_days_that_ended_empty() -> None:
    e = stockout_episodes(stock_history())
    assert e[["sku", "begin", "days"]].values.tolist() == [
        ["A", D("2024-01-10"), 2],
        ["A", D("2024-01-30"), 1],
        ["B", D("2024-01-20"), 1],
    ]


def test_hand_made_history_gives_the_expected_rates() -> None:
    facts = pd.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location_id": "W",
            "lead_time_days": [3.0, 3.0, 3.0],
            "horizon_days": [10, 10, 10],
            "category": ["x", "x", "y"],
            "supplier_id": "S",
        }
    )
    alerts = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "C"],
            "location_id": "W",
            # A's first episode (Jan 10) warned from Jan 5: 5 days ahead, more than the lead time;
            # A's second (Jan 30) warned only the day before; B's (Jan 20) never; C's alert is a false alarm
            "first_day": [D("2024-01-05"), D("2024-01-29"), D("2024-01-25"), D("2024-01-12")],
            "last_day": [D("2024-01-09"), D("2024-01-29"), D("2024-01-26"), D("2024-01-14")],
            "level": ["warning", "critical", "warning", "warning"],
            "label": [1, 1, 0, 0],
            "verdict": ["useful", None, None, "false_alarm"],
        }
    )
    res = alert_effectiveness(
        episodes=stockout_episodes(stock_history()),
        alerts=alerts,
        facts=facts,
        period_start=D("2024-01-01"),
        period_end=D("2024-01-28"),
    )
    o = res["overall"]
    # in the period: episodes Jan 10 (A) and Jan 20 (B); alerts opened Jan 5, 25 and 12
    assert o["episodes"] == 2
    assert o["warned_in_time"] == pytest.approx(0.5)
    assert o["warned_1d"] == pytest.approx(0.5)
    assert o["median_warning_lead_days"] == pytest.approx(5.0)
    assert o["alerts"] == 3
    assert o["effective"] == pytest.approx(1 / 3)
    assert o["false_alarms"] == pytest.approx(2 / 3)
    assert o["alerts_per_week"] == pytest.approx(3 / 4)
    assert (o["feedback_useful"], o["feedback_false_alarm"]) == (1, 1)
    by_cat = {g["group"]: g for g in res["groups"] if g["group_by"] == "category"}
    assert by_cat["y"]["episodes"] == 0 and by_cat["y"]["false_alarms"] == 1.0
    assert by_cat["x"]["warned_in_time"] == pytest.approx(0.5)

    late = alert_effectiveness(
        episodes=stockout_episodes(stock_history()),
        alerts=alerts,
        facts=facts,
        period_start=D("2024-01-29"),
        period_end=D("2024-02-09"),
    )["overall"]
    # A's Jan 30 episode: alerted the day before (>= 1 day) but not a lead time (3 days) before
    assert (late["episodes"], late["warned_1d"], late["warned_in_time"]) == (1, 1.0, 0.0)


def test_label_counts_a_stockout_the_way_truth_does() -> None:
    rows = pd.DataFrame(
        {"sku": ["A", "A"], "location_id": "W", "as_of": [D("2024-01-01"), D("2024-01-01")], "on_hand": [5.0, 5.0]}
    ).assign(horizon_days=[4, 2])
    demand = pd.DataFrame(
        {"date": pd.date_range("2024-01-02", periods=4), "sku": "A", "location_id": "W", "qty": [2.0, 2.0, 2.0, 2.0]}
    )
    receipts = pd.DataFrame(
        {
            "sku": ["A", "A"],
            "location_id": "W",
            "order_date": [D("2023-12-20"), D("2024-01-02")],  # the second was ordered later: not counted
            "received_date": [D("2024-01-05"), D("2024-01-03")],
            "received_qty": [1.0, 50.0],
        }
    )
    out = label_protection_interval(rows, demand=demand, receipts=receipts)
    # 5 - 2 - 2 - 2 = -1 on Jan 4 (the Dec 20 order only arrives Jan 5); within 2 days nothing runs out
    assert out["label"].tolist() == [1, 0]
    assert out["first_stockout_date"].iloc[0] == D("2024-01-04")
    assert pd.isna(out["first_stockout_date"].iloc[1])


def test_alerts_from_daily_levels_are_runs_of_alerting_days() -> None:
    f = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-01"]),
            "sku": ["A", "A", "A", "B"],
            "location_id": "W",
            "level": ["warning", "critical", "warning", "watch"],
        }
    )
    a = alerts_from_levels(f)
    assert a[["sku", "first_day", "last_day"]].values.tolist() == [
        ["A", D("2024-01-01"), D("2024-01-02")],
        ["A", D("2024-01-04"), D("2024-01-04")],
    ]
    assert np.all(a["location_id"] == "W")
