"""Syntetos-Boylan classes and ABC on series with known shapes."""

from __future__ import annotations

import numpy as np
from tests.factories_forecast import make_forecast_dataset

from stockwarden.forecast.classify import classify_demand, compute_abc, compute_series_profile
from stockwarden.forecast.history import build_demand_history


def test_known_series_get_their_syntetos_boylan_class() -> None:
    days = 140
    rng = np.random.default_rng(0)
    smooth = np.full(days, 10.0) + rng.integers(-2, 3, days)
    erratic = rng.choice([1.0, 30.0], size=days)
    intermittent = np.where(np.arange(days) % 4 == 0, 5.0, 0.0)
    lumpy = np.where(np.arange(days) % 4 == 0, rng.choice([1.0, 40.0], size=days), 0.0)
    qty = np.vstack([smooth, erratic, intermittent, lumpy])
    qty[:, 0] = np.maximum(qty[:, 0], 1)  # all start on day 0
    prof = compute_series_profile(build_demand_history(make_forecast_dataset(qty), as_of="2024-05-19"))
    assert prof["demand_class"].tolist() == ["smooth", "erratic", "intermittent", "lumpy"]
    assert prof.loc[2, "adi"] == np.float64(140 / 35)


def test_class_cutoffs_follow_syntetos_boylan() -> None:
    got = classify_demand(np.array([1.31, 1.33, 1.0, np.inf]), np.array([0.48, 0.48, 0.50, 0.0]))
    assert got.tolist() == ["smooth", "intermittent", "erratic", "no_demand"]


def test_abc_splits_value_at_80_and_95_percent() -> None:
    # A = items ranked within the first 80% of value (the item crossing 80% included)
    assert compute_abc(np.array([5.0, 70.0, 10.0, 15.0])).tolist() == ["C", "A", "B", "A"]
    assert compute_abc(np.zeros(3)).tolist() == ["C", "C", "C"]
