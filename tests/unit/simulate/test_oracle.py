"""The oracle forecast of the closed-loop benchmark: the true future mean demand, nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.simulate.oracle import oracle_daily_mean, oracle_forecast


def test_the_oracle_mean_is_the_average_of_the_next_lead_time_plus_review_days() -> None:
    demand = np.array([[9.0, 1.0, 2.0, 3.0, 6.0, 100.0], [0.0, 0.0, 0.0, 0.0, 4.0, 0.0]])
    got = oracle_daily_mean(demand, day=0, window_days=np.array([3, 4]))
    # today's demand (day 0) is the past; days 1..3 and 1..4
    np.testing.assert_allclose(got, [2.0, 1.0])


def test_the_oracle_mean_uses_the_days_left_at_the_end_of_the_period() -> None:
    demand = np.array([[1.0, 1.0, 1.0, 4.0, 8.0]])
    np.testing.assert_allclose(oracle_daily_mean(demand, day=2, window_days=np.array([10])), [6.0])
    np.testing.assert_allclose(oracle_daily_mean(demand, day=4, window_days=np.array([10])), [8.0])


def test_the_oracle_forecast_is_flat_poisson_without_level_noise() -> None:
    keys = pd.DataFrame({"sku": ["A", "B"], "location_id": ["S1", "S1"]})
    fc = oracle_forecast(keys, np.array([2.5, 0.0]), as_of=pd.Timestamp("2024-06-03"), horizon_days=5)
    assert fc.mean.shape == (2, 5)
    np.testing.assert_allclose(fc.mean[0], 2.5)
    assert np.isinf(fc.size).all() and np.isinf(fc.level_shape).all()
    assert fc.dates[0] == pd.Timestamp("2024-06-04")
    assert fc.series["demand_class"].tolist() == ["smooth", "no_demand"]


def test_a_fixed_window_oracle_is_named_by_its_window_and_needs_a_day() -> None:
    import pytest

    from stockwarden.config import RulesConfig
    from stockwarden.simulate.oracle import OracleStockwardenPolicy

    def assess(*_: object) -> pd.DataFrame:
        return pd.DataFrame()

    assert OracleStockwardenPolicy(assess=assess, rules=RulesConfig()).name == "stockwarden_oracle"
    assert OracleStockwardenPolicy(assess=assess, rules=RulesConfig(), oracle_days=28).name == "stockwarden_oracle_28d"
    with pytest.raises(ValueError, match="at least 1 day"):
        OracleStockwardenPolicy(assess=assess, rules=RulesConfig(), oracle_days=0)


def test_the_naive_forecast_is_textbooks_28_day_mean_with_its_91_day_variance() -> None:
    from stockwarden.simulate.oracle import naive_demand

    flat = np.full((1, 120), 3.0)
    noisy = np.tile([0.0, 6.0], 60)[None, :]
    m, size = naive_demand(np.vstack([flat, noisy]))
    np.testing.assert_allclose(m, [3.0, 3.0])
    assert np.isinf(size[0])  # no spread beyond Poisson
    v = noisy[0, -91:].var(ddof=1)
    np.testing.assert_allclose(size[1], 9.0 / (v - 3.0))


def test_the_noise_variant_keeps_the_models_mean_and_swaps_only_its_uncertainty(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    import pytest

    import stockwarden.risk.daily as daily
    from stockwarden.config import RulesConfig
    from stockwarden.simulate.oracle import NoiseStockwardenPolicy

    keys = pd.DataFrame({"sku": ["A", "B"], "location_id": ["S1", "S1"]})
    model = oracle_forecast(
        keys, np.array([2.0, 5.0]), as_of=pd.Timestamp("2024-06-03"), horizon_days=4, size=np.array([1.5, 3.0])
    )
    model = replace(model, level_shape=np.array([8.0, 20.0]))
    seen = []

    class Result:
        assessment = pd.DataFrame({"ok": [1]})

    def assess_day(ds: object, *, forecast: object, **_: object) -> Result:
        seen.append(forecast)
        return Result()

    monkeypatch.setattr(daily, "forecast_for", lambda ds, *, as_of, rules: model)
    monkeypatch.setattr(daily, "assess_day", assess_day)

    def assess(*_: object) -> pd.DataFrame:
        return pd.DataFrame()

    view = type("View", (), {"date": pd.Timestamp("2024-06-03")})()
    poisson = NoiseStockwardenPolicy(assess=assess, rules=RulesConfig(), noise="poisson")
    no_level = NoiseStockwardenPolicy(assess=assess, rules=RulesConfig(), noise="no_level", name="stockwarden_auto")
    assert (poisson.name, no_level.name) == ("stockwarden_poisson", "stockwarden_auto_no_level")
    poisson.assessment(None, view)  # type: ignore[arg-type]
    no_level.assessment(None, view)  # type: ignore[arg-type]
    for fc in seen:
        np.testing.assert_array_equal(fc.mean, model.mean)  # the model's mean, untouched
        assert np.isinf(fc.level_shape).all()
    assert np.isinf(seen[0].size).all()  # poisson: the oracle's day noise
    np.testing.assert_array_equal(seen[1].size, [1.5, 3.0])  # no_level: the model's day noise
    with pytest.raises(ValueError, match="noise must be one of"):
        NoiseStockwardenPolicy(assess=assess, rules=RulesConfig(), noise="model")
