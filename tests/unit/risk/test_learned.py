"""The learned classifier: fits on labelled checkpoints, calibrates, explains, and steps aside when thin."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.risk.learned import FEATURES, LearnedRiskModel, feature_frame


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cover = rng.uniform(0, 40, n)
    horizon = rng.choice([10, 14, 21], n)
    p_proj = np.clip(1 - cover / 30 + rng.normal(0, 0.2, n), 0, 1)
    label = (rng.random(n) < np.clip(1.2 - cover / horizon, 0.02, 0.98)).astype(int)
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 20, n) * 7, unit="D"),
            "projection_probability": p_proj,
            "p_before_expedite": p_proj / 2,
            "p_stockout_learned_interval": p_proj,
            "days_of_cover": cover,
            "inventory_position": cover * 2,
            "on_hand": cover * 2,
            "on_order": 0.0,
            "mean_daily_forecast": 2.0,
            "recent_daily_sales": 2.0,
            "protection_cv": 0.4,
            "horizon_days": horizon,
            "lead_time_days": horizon - 7,
            "learned_lead_time_days": horizon - 7,
            "supplier_on_time_rate": 0.9,
            "supplier_mean_delay_days": 0.5,
            "max_days_overdue": 0.0,
            "expected_short": 0.0,
            "reasons": "",
            "sku": rng.choice(["A", "B"], n),
            "days_since_last_sale": 1.0,
            "censored_share": 0.1,
            "label": label,
        }
    )


def test_features_are_finite_where_inputs_are() -> None:
    x = feature_frame(_rows(50))
    assert list(x.columns) == list(FEATURES)
    assert np.isfinite(x.to_numpy()).all()


def test_a_fitted_model_gives_calibrated_probabilities_and_factors() -> None:
    train = _rows(1500)
    model = LearnedRiskModel.fit(train, mode="always")
    p = model.predict(_rows(300, seed=1))
    assert ((p >= 0) & (p <= 1)).all()
    test = _rows(300, seed=1)
    assert p[test["label"] == 1].mean() > p[test["label"] == 0].mean() + 0.2
    assert set(model.holdout) >= {"ap_learned", "ap_projection", "brier_learned", "brier_projection"}
    factors = model.top_factors(test.head(5))
    assert len(factors) == 5 and any("cover" in f or "position" in f for f in factors)


def test_too_little_history_leaves_the_projection_in_charge() -> None:
    model = LearnedRiskModel.fit(_rows(50))
    assert not model.is_useful and model.booster is None
    rows = _rows(10)
    assert np.array_equal(model.predict(rows), rows["projection_probability"].to_numpy())


def test_never_means_never() -> None:
    assert not LearnedRiskModel.fit(_rows(1500), mode="never").is_useful
