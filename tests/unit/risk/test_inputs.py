"""Demand rows for the projection: long out-of-stock series without observed demand borrow the SKU's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.risk.inputs import censored_demand_rows


def _series() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["A", "A", "A", "A", "B"],
            "location_id": ["L1", "L2", "L3", "L4", "L1"],
            "mean_daily_demand": [0.0, 1.0, 3.0, 2.0, 0.0],
        }
    )


def _frame(censored_share: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"sku": ["A", "A", "A", "A", "B", "A"], "forecast_row": [0, 1, 2, 3, 4, -1], "censored_share": censored_share}
    )


def test_a_mostly_censored_series_without_demand_takes_the_median_location_of_its_sku() -> None:
    rows = censored_demand_rows(_frame([0.9, 0.0, 0.0, 0.0, 0.9, np.nan]), _series())
    # A@L1 borrows the median of A's demand (L4: 2.0); B has no donor; the unforecast row stays -1
    assert rows.tolist() == [3, 1, 2, 3, 4, -1]


def test_zero_demand_with_little_censoring_is_taken_at_its_word() -> None:
    rows = censored_demand_rows(_frame([0.1, 0.0, 0.0, 0.0, 0.1, np.nan]), _series())
    assert rows.tolist() == [0, 1, 2, 3, 4, -1]
