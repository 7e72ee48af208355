"""forecast_demand: contract, no look-ahead, determinism, censoring, fallbacks, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsforecast.models import WindowAverage
from tests.factories_forecast import make_forecast_dataset, poisson_matrix

from stockwarden.domain.demand import DAILY_COLUMNS, SERIES_COLUMNS
from stockwarden.errors import ForecastError
from stockwarden.forecast import engine, models
from stockwarden.forecast.engine import forecast_demand
from stockwarden.forecast.history import build_demand_history

AS_OF = "2024-04-29"  # day 120 of the factory's panels


@pytest.fixture(scope="module")
def panel() -> np.ndarray:
    return poisson_matrix(4, 150, rate=np.array([1.0, 3.0, 6.0, 0.3]), seed=3)


def test_forecast_has_the_contract_columns_and_shapes(panel: np.ndarray) -> None:
    fc = forecast_demand(make_forecast_dataset(panel), as_of=AS_OF, horizon_days=10, mode="stats")
    assert list(fc.daily.columns[: len(DAILY_COLUMNS)]) == list(DAILY_COLUMNS)
    assert list(fc.series.columns) == list(SERIES_COLUMNS)
    assert fc.mean.shape == (4, 10)
    assert fc.dates[0] == pd.Timestamp("2024-04-30")
    assert len(fc.daily) == 40
    q = fc.daily[["p5", "p25", "p50", "p75", "p95"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    paths = fc.sample_paths(50, seed=1)
    assert paths.shape == (4, 50, 10)


def test_rows_after_as_of_do_not_change_the_forecast(panel: np.ndarray) -> None:
    base = forecast_demand(make_forecast_dataset(panel), as_of=AS_OF, horizon_days=7, mode="fast")
    future = panel.copy()
    future[:, 120:] = future[:, 120:] * 7 + 50
    changed = forecast_demand(make_forecast_dataset(future), as_of=AS_OF, horizon_days=7, mode="fast")
    pd.testing.assert_frame_equal(base.daily, changed.daily)
    pd.testing.assert_frame_equal(base.series, changed.series)


def test_same_input_and_seed_give_identical_forecasts_and_paths(panel: np.ndarray) -> None:
    ds = make_forecast_dataset(panel)
    a = forecast_demand(ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5)
    b = forecast_demand(ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    np.testing.assert_array_equal(a.sample_paths(20, seed=2), b.sample_paths(20, seed=2))


def test_prebuilt_history_gives_the_same_forecast(panel: np.ndarray) -> None:
    ds = make_forecast_dataset(panel)
    hist = build_demand_history(ds, as_of="2024-05-29")  # built later: truncated inside
    a = forecast_demand(ds, as_of=AS_OF, horizon_days=5, mode="stats")
    b = forecast_demand(ds, as_of=AS_OF, horizon_days=5, mode="stats", history=hist)
    pd.testing.assert_frame_equal(a.daily, b.daily)


def test_a_stockout_gap_raises_the_forecast_above_the_naive_read() -> None:
    qty = np.full((1, 120), 5.0)
    qty[0, 90:] = 0.0  # nothing sold for the last 30 days ...
    counts = pd.DataFrame(
        {"date": pd.date_range("2024-03-31", periods=30), "sku": "S000", "location_id": "L1", "on_hand": 0.0}
    )  # ... because the shelf was empty
    naive = forecast_demand(make_forecast_dataset(qty), as_of=AS_OF, horizon_days=7, mode="stats")
    aware = forecast_demand(make_forecast_dataset(qty, inventory=counts), as_of=AS_OF, horizon_days=7, mode="stats")
    assert aware.series.loc[0, "censored_days"] == 30
    assert aware.mean.mean() > 4.0
    assert aware.mean.mean() > 2 * naive.mean.mean()


def test_a_series_too_short_to_fit_falls_back_and_is_recorded() -> None:
    qty = poisson_matrix(2, 120, rate=3.0, seed=1)
    qty[1, :115] = 0.0
    qty[1, 115:] = 2.0
    fc = forecast_demand(make_forecast_dataset(qty), as_of=AS_OF, horizon_days=5, mode="stats")
    row = fc.series.iloc[1]
    assert bool(row["is_fallback"]) and row["model"] == "mean28"
    assert "shorter" in row["fallback_reason"]
    assert fc.mean[1] == pytest.approx(np.full(5, 2.0))
    assert not fc.series.iloc[0]["is_fallback"]


class _Breaks(WindowAverage):
    """A model that raises on one particular series (last value 777)."""

    def forecast(self, y, h, *args, **kwargs):  # type: ignore[no-untyped-def]
        if y[-1] == 777:
            raise ValueError("this series breaks the model")
        return super().forecast(y, h, *args, **kwargs)


def test_a_series_that_breaks_a_model_falls_back_to_the_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    factories = models._stat_factories()
    factories["seso"] = lambda: _Breaks(window_size=7, alias="seso")
    monkeypatch.setattr(models, "_stat_factories", lambda: factories)
    monkeypatch.setitem(engine.MODES, "stats", engine.ModeSpec(("seso",), 1, 0, 0))
    qty = poisson_matrix(3, 120, rate=3.0, seed=2)
    qty[2, -1] = 777
    fc = forecast_demand(make_forecast_dataset(qty), as_of=AS_OF, horizon_days=5, mode="stats")
    broken = fc.series.iloc[2]
    assert bool(broken["is_fallback"]) and broken["model"] == "ma28"
    assert "failed" in broken["fallback_reason"]
    assert np.isfinite(fc.mean).all()
    assert not fc.series.iloc[:2]["is_fallback"].any()


@pytest.mark.parametrize("horizon", [0, -3])
def test_non_positive_horizon_is_refused(panel: np.ndarray, horizon: int) -> None:
    with pytest.raises(ForecastError, match="horizon"):
        forecast_demand(make_forecast_dataset(panel), as_of=AS_OF, horizon_days=horizon)


def test_unknown_backend_and_mode_are_refused(panel: np.ndarray) -> None:
    ds = make_forecast_dataset(panel)
    with pytest.raises(ForecastError, match="backend"):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, backend="spark")
    with pytest.raises(ForecastError, match="mode"):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, mode="best")


def test_auto_mode_blends_the_recursive_and_the_direct_global_model_without_look_ahead(panel: np.ndarray) -> None:
    base = forecast_demand(make_forecast_dataset(panel), as_of=AS_OF, horizon_days=7, mode="auto")
    assert set(base.series["model"]) == {"lgbm+lgbmd+ma28"}
    assert not base.series["is_fallback"].any()
    future = panel.copy()
    future[:, 120:] = future[:, 120:] * 7 + 50
    changed = forecast_demand(make_forecast_dataset(future), as_of=AS_OF, horizon_days=7, mode="auto")
    pd.testing.assert_frame_equal(base.daily, changed.daily)


def test_the_direct_global_model_learns_the_weekly_pattern_from_lags_of_four_weeks_and_more() -> None:
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=200, freq="D")
    rate = np.where(days.dayofweek == 5, 12.0, 2.0)
    rows = [pd.DataFrame({"unique_id": uid, "ds": days, "y": rng.poisson(rate).astype(float)}) for uid in range(6)]
    train = pd.concat(rows, ignore_index=True)
    for col in models.EXOG_COLUMNS:
        train[col] = 1.0 if col == "price_ratio" else 0.0
    future_days = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=14, freq="D")
    future = pd.DataFrame({"unique_id": np.repeat(np.arange(6), 14), "ds": np.tile(future_days, 6)})
    for col in models.EXOG_COLUMNS:
        future[col] = 1.0 if col == "price_ratio" else 0.0
    out = models.forecast_global(train, future, h=14, name="lgbmd", n_estimators=60)
    assert list(out.columns) == ["unique_id", "ds", "lgbmd"]
    saturday = out["ds"].dt.dayofweek == 5
    assert out.loc[saturday, "lgbmd"].mean() > 3 * out.loc[~saturday, "lgbmd"].mean()
    with pytest.raises(ValueError, match="unknown global model"):
        models.forecast_global(train, future, h=14, name="lgbmx")


def test_a_global_model_without_enough_history_is_left_out_of_the_blend_and_recorded() -> None:
    young = poisson_matrix(3, 50, rate=4.0, seed=6)  # 50 days: enough for the recursive model, not the direct one
    fc = forecast_demand(make_forecast_dataset(young), as_of="2024-02-19", horizon_days=7, mode="auto")
    assert set(fc.series["model"]) == {"lgbm+ma28"}
    assert fc.series["is_fallback"].all()
    assert set(fc.series["fallback_reason"]) == {"lgbmd failed"}
    assert np.isfinite(fc.mean).all() and (fc.mean > 0).all()
