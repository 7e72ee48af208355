"""Count distributions: calibration on simulated Poisson / negative-binomial demand, paths vs quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.factories_forecast import make_forecast_dataset

from stockwarden.domain.demand import DemandForecast
from stockwarden.forecast.distribution import Dispersion, compute_quantiles, fit_day_dispersion
from stockwarden.forecast.engine import forecast_demand


def _nb_panel(n: int, days: int, mean: np.ndarray, size: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if not np.isfinite(size):
        return rng.poisson(mean[:, None] * np.ones((n, days))).astype(float)
    lam = rng.gamma(size, mean[:, None] / size, size=(n, days))
    return rng.poisson(lam).astype(float)


@pytest.mark.parametrize("size", [np.inf, 2.0])
def test_quantiles_are_calibrated_on_simulated_counts(size: float) -> None:
    n, days, h = 30, 400, 28
    mean = np.linspace(0.5, 12.0, n)
    qty = _nb_panel(n, days + h, mean, size, seed=7)
    ds = make_forecast_dataset(qty[:, :days])
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=days - 1)
    fc = forecast_demand(ds, as_of=as_of, horizon_days=h, mode="stats")
    y = qty[:, days:].ravel()
    p95 = fc.daily["p95"].to_numpy()
    p5 = fc.daily["p5"].to_numpy()
    # counts: coverage of a discrete quantile lies between P(y < q) and P(y <= q)
    assert np.mean(y < p95) - 0.03 <= 0.95 <= np.mean(y <= p95) + 0.03
    assert np.mean(y < p5) - 0.03 <= 0.05 <= np.mean(y <= p5) + 0.03


def test_day_dispersion_recovers_poisson_and_negative_binomial() -> None:
    n, days = 40, 365
    mean = np.full(n, 6.0)
    for size, lo, hi in ((np.inf, 0.0, 0.06), (2.0, 0.35, 0.65)):
        qty = _nb_panel(n, days, mean, size, seed=3)
        panel = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(n), days),
                "ds": np.tile(pd.date_range("2024-01-01", periods=days), n),
                "y": qty.ravel(),
            }
        )
        phi = fit_day_dispersion(panel, n, np.full(n, "smooth", dtype=object))
        assert lo <= np.median(phi) <= hi


def test_sample_paths_agree_with_the_daily_quantiles() -> None:
    n, h = 3, 5
    mean = np.array([[0.5] * h, [4.0] * h, [20.0] * h])
    disp = Dispersion(size=np.array([1.0, 3.0, np.inf]), level_shape=np.full(n, 25.0))
    q = compute_quantiles(mean, disp)
    fc = DemandForecast(
        daily=pd.DataFrame(),
        series=pd.DataFrame(),
        dates=pd.date_range("2024-01-01", periods=h),
        mean=mean,
        size=disp.size,
        level_shape=disp.level_shape,
        as_of=pd.Timestamp("2023-12-31"),
    )
    paths = fc.sample_paths(20_000, seed=0)
    assert paths.mean(axis=1) == pytest.approx(mean, rel=0.05)
    for i, level in enumerate((0.05, 0.25, 0.5, 0.75, 0.95)):
        emp = np.quantile(paths, level, axis=1, method="inverted_cdf")
        assert np.abs(emp - q[i]).max() <= 1.0
    # window totals carry the shared level factor: wider than independent days would give
    totals = paths.sum(axis=2)
    assert totals[1].var() > (h * 4.0 + h * 4.0**2 / 3.0) * 1.05


def test_sample_paths_are_reproducible_and_seed_dependent() -> None:
    fc = DemandForecast(
        daily=pd.DataFrame(),
        series=pd.DataFrame(),
        dates=pd.date_range("2024-01-01", periods=4),
        mean=np.full((2, 4), 3.0),
        size=np.array([2.0, 5.0]),
        level_shape=np.array([20.0, 20.0]),
        as_of=pd.Timestamp("2023-12-31"),
    )
    np.testing.assert_array_equal(fc.sample_paths(10, seed=1), fc.sample_paths(10, seed=1))
    assert not np.array_equal(fc.sample_paths(10, seed=1), fc.sample_paths(10, seed=2))
    with pytest.raises(ValueError):
        fc.sample_paths(0, seed=1)
