"""Inventory position as of a date."""

from __future__ import annotations

import pandas as pd
from tests.factories_risk import AS_OF, make_risk_dataset, open_po

from stockwarden.risk.position import compute_positions, open_purchase_orders


def test_an_older_count_is_rolled_forward_by_sales_and_receipts() -> None:
    po = open_po(30.0, ordered="2024-03-20", promised="2024-03-29") | {
        "received_date": "2024-03-29",
        "received_qty": 25.0,
        "status": "received",
    }
    ds = make_risk_dataset(on_hand=20.0, count_date="2024-03-27", open_po=[po])
    pos = compute_positions(ds, as_of=AS_OF).iloc[0]
    # sales of 2/day on 28..31 March (4 days) and a short receipt of 25 on the 29th
    assert pos["on_hand_recorded"] == 20.0
    assert pos["sales_since_count"] == 8.0
    assert pos["receipts_since_count"] == 25.0
    assert pos["on_hand"] == 37.0
    assert pos["count_age_days"] == 4.0


def test_rolled_stock_never_goes_below_zero() -> None:
    ds = make_risk_dataset(on_hand=3.0, count_date="2024-03-25")
    assert compute_positions(ds, as_of=AS_OF).iloc[0]["on_hand"] == 0.0


def test_open_orders_follow_as_of_semantics() -> None:
    received_later = open_po(10.0, po_id="PO-LATER") | {
        "received_date": "2024-04-02",
        "received_qty": 10.0,
        "status": "received",
    }
    cancelled = open_po(10.0, po_id="PO-CANC") | {"status": "cancelled"}
    ordered_later = open_po(10.0, po_id="PO-FUTURE", ordered="2024-04-01")
    ds = make_risk_dataset(open_po=[open_po(40.0), received_later, cancelled, ordered_later])
    got = open_purchase_orders(ds, as_of=AS_OF)
    assert sorted(got["po_id"]) == ["PO-1", "PO-LATER"]
    pos = compute_positions(ds, as_of=AS_OF).iloc[0]
    assert pos["on_order"] == 50.0
    assert pos["inventory_position"] == pos["on_hand"] + 50.0


def test_days_overdue_counts_from_the_promised_date() -> None:
    ds = make_risk_dataset(open_po=[open_po(promised="2024-03-26")])
    assert open_purchase_orders(ds, as_of=AS_OF)["days_overdue"].tolist() == [5.0]
    assert open_purchase_orders(ds, as_of=pd.Timestamp("2024-03-20"))["po_id"].tolist() == []
