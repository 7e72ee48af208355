"""Demand history: active span, returns, censoring from stock counts, imputation, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.factories_forecast import frame_for, make_forecast_dataset

from stockwarden.errors import ForecastError
from stockwarden.forecast.history import HISTORY_COLUMNS, build_demand_history


def _counts(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"date": d, "sku": s, "location_id": "L1", "on_hand": v} for d, s, v in rows])


def test_history_starts_at_first_sale_and_fills_zero_days_until_as_of() -> None:
    qty = np.array([[0, 0, 3, 0, 2, 0, 0]], dtype=float)
    h = build_demand_history(make_forecast_dataset(qty), as_of="2024-01-07")
    assert list(h.columns) == list(HISTORY_COLUMNS)
    assert h["date"].min() == pd.Timestamp("2024-01-03")
    assert h["date"].max() == pd.Timestamp("2024-01-07")
    assert h["demand"].tolist() == [3, 0, 2, 0, 0]


def test_history_starts_at_first_positive_stock_when_that_comes_before_a_sale() -> None:
    qty = np.array([[0, 0, 0, 0, 1]], dtype=float)
    ds = make_forecast_dataset(qty, inventory=_counts([("2024-01-01", "S000", 0), ("2024-01-02", "S000", 5)]))
    h = build_demand_history(ds, as_of="2024-01-05")
    assert h["date"].min() == pd.Timestamp("2024-01-02")


def test_returns_are_not_demand() -> None:
    qty = np.array([[2, 2, 2]], dtype=float)
    ret = pd.DataFrame(
        {
            "date": [pd.Timestamp("2024-01-02")],
            "sku": ["S000"],
            "location_id": ["L1"],
            "qty": [-5.0],
            "price": [2.0],
            "on_promotion": [0.0],
        }
    )
    h = build_demand_history(make_forecast_dataset(qty, extra_sales=ret), as_of="2024-01-03")
    assert h["qty"].tolist() == [2, 2, 2]


def test_zero_count_days_are_censored_until_stock_is_seen_again_and_imputed() -> None:
    qty = np.zeros((1, 40))
    qty[0, :30] = 4.0
    qty[0, 35:] = 4.0
    counts = _counts([("2024-01-30", "S000", 0.0)])  # day index 29 ended empty; no sales days 30..34
    ds = make_forecast_dataset(qty, inventory=counts)
    h = build_demand_history(ds, as_of="2024-02-09")
    cens = h.set_index("date")["is_censored"]
    assert cens["2024-01-30":"2024-02-04"].all()  # the empty count, then carried until the next sale
    assert not cens["2024-02-05":].any()
    assert not cens[:"2024-01-29"].any()
    demand = h.set_index("date")["demand"]
    assert demand["2024-01-31":"2024-02-04"].tolist() == pytest.approx([4.0] * 5)


def test_a_sale_or_receipt_ends_the_out_of_stock_state() -> None:
    qty = np.full((1, 10), 1.0)
    qty[0, 3:6] = 0
    ds = make_forecast_dataset(qty, inventory=_counts([("2024-01-03", "S000", 0.0)]))
    po = pd.DataFrame(
        [
            {
                "po_id": "P1",
                "sku": "S000",
                "location_id": "L1",
                "qty": 10.0,
                "order_date": "2023-12-25",
                "received_date": "2024-01-05",
                "received_qty": 10.0,
                "status": "received",
            }
        ]
    )
    ds = ds.__class__(**{**ds.__dict__, "purchase_orders": frame_for("purchase_orders", po)})
    h = build_demand_history(ds, as_of="2024-01-10").set_index("date")["is_censored"]
    assert h["2024-01-03":"2024-01-04"].all()
    assert not h["2024-01-05":].any()


def test_history_ignores_rows_after_as_of() -> None:
    qty = np.random.default_rng(1).poisson(3, size=(2, 60)).astype(float)
    base = build_demand_history(make_forecast_dataset(qty), as_of="2024-02-10")
    qty2 = qty.copy()
    qty2[:, 41:] = 99
    changed = build_demand_history(make_forecast_dataset(qty2), as_of="2024-02-10")
    pd.testing.assert_frame_equal(base, changed)


def test_no_data_before_as_of_is_a_forecast_error() -> None:
    with pytest.raises(ForecastError, match="nothing to forecast"):
        build_demand_history(make_forecast_dataset(np.ones((1, 5))), as_of="2023-01-01")
