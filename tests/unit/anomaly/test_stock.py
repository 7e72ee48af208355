"""Phantom stock, negative stock, stale counts and count mismatches on hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.factories_supply import daily_rows, supply_dataset

from stockwarden.anomaly import detect_anomalies

START = "2024-01-01"


def _run(ds, kind: str, as_of: str) -> pd.DataFrame:
    return detect_anomalies(ds, as_of=as_of, kinds=frozenset({kind}))


def _selling_then_silent(*, days: int, silent: int, per_day: float, stock: float, every: int = 1):
    qty = [per_day if (i % every == 0 and i < days - silent) else 0.0 for i in range(days)]
    counts, level = [], stock
    for q in qty:
        level -= q
        counts.append(level)
    return daily_rows(sku="A", start=START, qty=qty, counts=counts)


def test_a_fast_mover_that_stops_selling_with_stock_on_record_is_phantom() -> None:
    sales, inv = _selling_then_silent(days=120, silent=20, per_day=3, stock=400)
    found = _run(supply_dataset([], sales=sales, inventory=inv), "phantom_stock", "2024-04-29")
    assert len(found) == 1
    row = found.iloc[0]
    assert row["observed"] == 20 and row["sku"] == "A" and row["location_id"] == "WH1"
    assert "no sale for 20 days" in row["detail"]


def test_a_slow_mover_with_the_same_gap_is_not_phantom() -> None:
    sales, inv = _selling_then_silent(days=120, silent=20, per_day=1, stock=400, every=10)
    assert _run(supply_dataset([], sales=sales, inventory=inv), "phantom_stock", "2024-04-29").empty


def test_an_item_counted_at_zero_is_out_of_stock_not_phantom() -> None:
    sales, inv = _selling_then_silent(days=120, silent=20, per_day=3, stock=300)
    inv = [dict(r, on_hand=0.0) if r["date"] >= pd.Timestamp("2024-04-10") else r for r in inv]
    assert _run(supply_dataset([], sales=sales, inventory=inv), "phantom_stock", "2024-04-29").empty


def test_phantom_is_not_seen_before_the_gap_is_long_enough() -> None:
    sales, inv = _selling_then_silent(days=120, silent=20, per_day=3, stock=400)
    assert _run(supply_dataset([], sales=sales, inventory=inv), "phantom_stock", "2024-04-13").empty


def test_selling_more_than_was_counted_is_negative_stock() -> None:
    sales, _ = daily_rows(sku="A", start=START, qty=[5.0] * 10)
    inv = [{"date": "2024-01-01", "sku": "A", "location_id": "WH1", "on_hand": 20.0}]
    found = _run(supply_dataset([], sales=sales, inventory=inv), "negative_stock", "2024-01-10")
    assert len(found) == 1 and found["observed"].iloc[0] == -25.0


def test_a_receipt_in_between_keeps_stock_positive() -> None:
    sales, _ = daily_rows(sku="A", start=START, qty=[5.0] * 10)
    inv = [{"date": "2024-01-01", "sku": "A", "location_id": "WH1", "on_hand": 20.0}]
    po = [
        {
            "po_id": "P",
            "sku": "A",
            "location_id": "WH1",
            "supplier_id": "S",
            "qty": 40,
            "order_date": "2024-01-01",
            "received_date": "2024-01-05",
            "received_qty": 40,
            "status": "received",
        }
    ]
    assert _run(supply_dataset(po, sales=sales, inventory=inv), "negative_stock", "2024-01-10").empty


def test_no_count_for_weeks_while_selling_is_stale() -> None:
    sales, _ = daily_rows(sku="A", start=START, qty=[1.0] * 40)
    inv = [
        {"date": "2024-01-01", "sku": "A", "location_id": "WH1", "on_hand": 100.0},
        {"date": "2024-01-01", "sku": "B", "location_id": "WH1", "on_hand": 100.0},
        {"date": "2024-02-05", "sku": "C", "location_id": "WH1", "on_hand": 100.0},
    ]
    sales_c, _ = daily_rows(sku="C", start=START, qty=[1.0] * 40)
    found = _run(supply_dataset([], sales=sales + sales_c, inventory=inv), "stale_count", "2024-02-09")
    assert list(found["sku"]) == ["A"]  # B does not sell, C was counted recently
    assert found["observed"].iloc[0] == 39 and found["severity"].iloc[0] == "warning"


def test_a_count_that_disagrees_with_the_roll_forward_is_a_mismatch() -> None:
    sales, _ = daily_rows(sku="A", start=START, qty=[2.0] * 10)
    counts = list(np.arange(98, 78, -2, dtype=float))  # consistent with the sales
    counts[-1] = counts[-1] - 20  # 20 units vanished on the last day
    inv = [
        {"date": d, "sku": "A", "location_id": "WH1", "on_hand": c}
        for d, c in zip(pd.date_range(START, periods=10), counts, strict=True)
    ]
    found = _run(supply_dataset([], sales=sales, inventory=inv), "count_mismatch", "2024-01-10")
    assert len(found) == 1
    row = found.iloc[0]
    assert row["expected"] == 80 and row["observed"] == 60 and row["severity"] == "warning"
    assert "20 less than expected" in row["detail"]


def test_consistent_counts_are_quiet() -> None:
    sales, _ = daily_rows(sku="A", start=START, qty=[2.0] * 10)
    inv = [
        {"date": d, "sku": "A", "location_id": "WH1", "on_hand": c}
        for d, c in zip(pd.date_range(START, periods=10), np.arange(98, 78, -2, dtype=float), strict=True)
    ]
    inv[5]["on_hand"] -= 1  # one unit of shrinkage is within tolerance
    assert _run(supply_dataset([], sales=sales, inventory=inv), "count_mismatch", "2024-01-10").empty


def test_the_cumulated_flow_at_a_date_is_the_last_one_of_that_series_on_or_before_it() -> None:
    from stockwarden.anomaly.flows import cum_flow_at

    d = pd.Timestamp("2025-03-01")
    flows = pd.DataFrame(
        {
            "sku": ["B", "A", "A", "A", "B"],
            "location_id": ["L1", "L1", "L1", "L2", "L1"],
            "date": [d, d, d + pd.Timedelta(days=3), d + pd.Timedelta(days=1), d + pd.Timedelta(days=5)],
            "cum_flow": [-1.0, -2.0, -5.0, 7.0, -4.0],
        }
    )  # not sorted: the lookup must not depend on the order of the rows
    points = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "A", "B", "C", "A"],
            "location_id": ["L1", "L1", "L1", "L2", "L1", "L1", "L3"],
            "date": [
                d - pd.Timedelta(days=1),
                d + pd.Timedelta(days=2),
                d + pd.Timedelta(days=3),
                d + pd.Timedelta(days=9),
                d + pd.Timedelta(days=4),
                d,
                d,
            ],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    got = cum_flow_at(flows, points)
    assert got.to_dict() == {10: 0.0, 11: -2.0, 12: -5.0, 13: 7.0, 14: -1.0, 15: 0.0, 16: 0.0}
