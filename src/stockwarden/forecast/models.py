"""The forecasting models: statistical ones (statsforecast) and a global LightGBM (mlforecast).

Every function takes the long panel of :mod:`stockwarden.forecast.features` (``unique_id, ds, y`` +
exogenous columns) and returns point forecasts ``unique_id, ds, <model>...`` for ``h`` days after
each series' last date. Non-finite or failed forecasts are reported back as NaN so the engine can
replace them by a fallback and record it per series.

Statistical models (Hyndman & Athanasopoulos, *FPP3*; Syntetos & Boylan 2005; Teunter, Syntetos &
Babai 2011; Nikolopoulos et al. 2011; Petropoulos & Kourentzes 2015):

=================  =================================================================
``ets``            AutoETS, weekly season (smooth and erratic series)
``seso``           seasonal exponential smoothing, one level per weekday (fast)
``mstl``           MSTL with weekly season and AutoETS trend (long smooth series)
``croston_classic`` Croston (1972) (baseline)
``croston_sba``    Croston with the Syntetos-Boylan bias correction
``tsb``            Teunter-Syntetos-Babai (probability of demand decays when none)
``adida``          ADIDA: temporal aggregation + SES
``imapa``          IMAPA: multiple temporal aggregation levels, averaged
``snaive``         seasonal naive (baseline), ``ma28`` 28-day window average (baseline)
=================  =================================================================

Global models (one LightGBM across all series, :func:`forecast_global`):

=================  =================================================================
``lgbm``           recursive: lags 1-3, 7, 14, 21, 28 and rolling means of lags 1 and 7;
                   each forecast day feeds the next (sharp early in the horizon)
``lgbmd``          direct: only lags of 28 days and more, and rolling means of the lag-28
                   series, so every feature of a 28-day horizon is an observed value and
                   errors do not compound (steadier late in the horizon). Blending a
                   recursive and a non-recursive model is what many of the best M5
                   solutions did (Makridakis, Spiliotis & Assimakopoulos 2022).
=================  =================================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from stockwarden.forecast.features import EXOG_COLUMNS

SEASON_DAYS = 7
STAT_INPUT_DAYS = 365
"""Statistical models see only the last year: faster (AutoETS on 5 years of days is slow) and adaptive."""


def _stat_factories() -> dict[str, Callable[[], Any]]:
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        MSTL,
        TSB,
        AutoETS,
        CrostonClassic,
        CrostonSBA,
        SeasonalExponentialSmoothingOptimized,
        SeasonalNaive,
        WindowAverage,
    )

    return {
        "ets": lambda: AutoETS(season_length=SEASON_DAYS, alias="ets"),
        "seso": lambda: SeasonalExponentialSmoothingOptimized(season_length=SEASON_DAYS, alias="seso"),
        "mstl": lambda: MSTL(season_length=SEASON_DAYS, trend_forecaster=AutoETS(model="ZZN"), alias="mstl"),
        "croston_classic": lambda: CrostonClassic(alias="croston_classic"),
        "croston_sba": lambda: CrostonSBA(alias="croston_sba"),
        "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb"),
        "adida": lambda: ADIDA(alias="adida"),
        "imapa": lambda: IMAPA(alias="imapa"),
        "snaive": lambda: SeasonalNaive(season_length=SEASON_DAYS, alias="snaive"),
        "ma28": lambda: WindowAverage(window_size=28, alias="ma28"),
    }


STAT_MODELS = ("ets", "seso", "mstl", "croston_classic", "croston_sba", "tsb", "adida", "imapa", "snaive", "ma28")
GLOBAL_MODELS = ("lgbm", "lgbmd")


def forecast_stats(
    panel: pd.DataFrame,
    *,
    h: int,
    names: Sequence[str],
    n_jobs: int = 1,
    input_days: int = STAT_INPUT_DAYS,
) -> pd.DataFrame:
    """Point forecasts of the statistical models ``names`` for every series of ``panel``.

    Each model runs over all series (statsforecast, ``n_jobs`` processes). A model that raises on
    some series is retried series by series so that only the failing series get NaN.
    """
    from statsforecast import StatsForecast

    factories = _stat_factories()
    unknown = [n for n in names if n not in factories]
    if unknown:
        raise ValueError(f"unknown statistical model(s) {unknown}; choose from {sorted(factories)}")
    last = panel.groupby("unique_id")["ds"].transform("max")
    df = panel.loc[panel["ds"] > last - pd.Timedelta(days=input_days), ["unique_id", "ds", "y"]]
    out = _horizon_frame(panel, h)
    for name in names:
        if n_jobs > 1:
            _compile_in_this_process(name, df, h, factories[name])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = StatsForecast(models=[factories[name]()], freq="D", n_jobs=n_jobs).forecast(df=df, h=h)
            vals = fc.sort_values(["unique_id", "ds"])[name].to_numpy(dtype=float)
        except Exception:  # a model failing on some series must not stop the others
            vals = _forecast_one_by_one(df, h, factories[name])
        out[name] = np.where(np.isfinite(vals), np.maximum(vals, 0.0), np.nan)
    return out


_COMPILED: set[str] = set()


def _compile_in_this_process(name: str, df: pd.DataFrame, h: int, factory: Callable[[], Any]) -> None:
    """Run model ``name`` once on one series here before statsforecast forks its worker processes.

    The models are numba functions compiled on first use. Compiled in this process, the forked workers
    inherit the machine code; otherwise every worker of every pool (one pool per call) compiles them
    again, which on a 10,000-series partition cost more processor time than the forecasts themselves.
    """
    if name in _COMPILED or df.empty:
        return
    from statsforecast import StatsForecast

    first = df.loc[df["unique_id"] == df["unique_id"].iloc[0]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            StatsForecast(models=[factory()], freq="D", n_jobs=1).forecast(df=first, h=h)
    except Exception:  # only a warm-up: the real call reports failures per series
        return
    _COMPILED.add(name)


def _forecast_one_by_one(df: pd.DataFrame, h: int, factory: Callable[[], Any]) -> np.ndarray:
    """Forecast each series separately; NaN for the series where the model raises."""
    parts = []
    for _, y in df.groupby("unique_id", sort=True)["y"]:
        try:
            model = factory()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parts.append(np.asarray(model.forecast(y=y.to_numpy(dtype=float), h=h)["mean"], dtype=float))
        except Exception:  # recorded as a fallback by the engine
            parts.append(np.full(h, np.nan))
    return np.concatenate(parts) if parts else np.empty(0)


def _horizon_frame(panel: pd.DataFrame, h: int) -> pd.DataFrame:
    """``unique_id, ds`` for ``h`` days after each series' last date, sorted."""
    last = panel.groupby("unique_id", sort=True)["ds"].max()
    uid = np.repeat(last.index.to_numpy(), h)
    ds = np.repeat(last.to_numpy(), h) + np.tile(np.arange(1, h + 1), len(last)).astype("timedelta64[D]")
    return pd.DataFrame({"unique_id": uid, "ds": ds})


LGBM_PARAMS: dict[str, Any] = {
    "objective": "tweedie",
    "tweedie_variance_power": 1.2,
    "learning_rate": 0.05,
    "n_estimators": 300,
    "num_leaves": 63,
    "max_bin": 127,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "verbosity": -1,
}
LAGS = (1, 2, 3, 7, 14, 21, 28)
DIRECT_LAGS = (28, 35, 42, 49, 56)
MAX_TRAIN_DAYS = 1500


def _lag_transforms(name: str) -> dict[int, list[Any]]:
    """The rolling features of global model ``name`` (see the module docstring)."""
    from mlforecast.lag_transforms import RollingMean, RollingStd

    if name == "lgbmd":
        # the quarter mean may start from 4 weeks of history, so young series still get rows to train on
        return {
            28: [RollingMean(window_size=7), RollingMean(window_size=28), RollingMean(window_size=91, min_samples=28)]
        }
    return {
        1: [RollingMean(window_size=7), RollingMean(window_size=28), RollingStd(window_size=28)],
        7: [RollingMean(window_size=7), RollingMean(window_size=28)],
    }


GLOBAL_LAGS: dict[str, tuple[int, ...]] = {"lgbm": LAGS, "lgbmd": DIRECT_LAGS}


def forecast_global(
    panel: pd.DataFrame,
    future_exog: pd.DataFrame,
    *,
    h: int,
    seed: int = 0,
    n_jobs: int = 1,
    n_estimators: int | None = None,
    max_train_rows: int = 3_000_000,
    train_days: int | None = None,
    params: dict[str, Any] | None = None,
    name: str = "lgbm",
) -> pd.DataFrame:
    """One LightGBM model across all series (mlforecast, tweedie objective).

    Features: the lags and rolling statistics of model ``name`` (``lgbm``: lags 1-3, 7, 14, 21, 28,
    rolling means/std of the lag-1 and lag-7 series over 7 and 28 days; ``lgbmd``: lags 28-56 by week and
    rolling means of the lag-28 series over 7, 28 and 91 days); day of week, month and day of month; and
    the exogenous columns (promotions, price ratio, events). The model trains once per call on the last
    ``train_days`` days of every series (default: ``max_train_rows / n_series`` clipped to
    28..``MAX_TRAIN_DAYS`` days), and on a seeded sample of ``max_train_rows`` rows of those when there
    are more.

    Args:
        panel: training panel (``unique_id, ds, y`` + :data:`EXOG_COLUMNS`).
        future_exog: the exogenous columns for the ``h`` days after each series' end.
        h: horizon in days.
        seed: LightGBM seed (deterministic: ``deterministic=True``, ``force_row_wise``).
        n_jobs: mlforecast feature threads. LightGBM itself runs on one thread: on a shared 2-core
            machine its OpenMP threads spin against other processes and run ~10x slower.
        n_estimators: boosting rounds (default :data:`LGBM_PARAMS`).
        max_train_rows: cap on the rows LightGBM sees.
        train_days: training window per series in days (after the lag warm-up).
        params: LightGBM parameters overriding :data:`LGBM_PARAMS`.
        name: which global model (:data:`GLOBAL_MODELS`); also the output column.

    Returns:
        ``unique_id, ds, <name>`` sorted.
    """
    import lightgbm as lgb
    from mlforecast import MLForecast

    if name not in GLOBAL_LAGS:
        raise ValueError(f"unknown global model {name!r}; choose from {sorted(GLOBAL_LAGS)}")
    lags = GLOBAL_LAGS[name]

    lgb_params = dict(LGBM_PARAMS, random_state=seed, n_jobs=1, deterministic=True, force_row_wise=True)
    if n_estimators is not None:
        lgb_params["n_estimators"] = n_estimators
        # fewer rounds, bigger steps: keep rounds x learning rate about constant
        rate = LGBM_PARAMS["learning_rate"] * LGBM_PARAMS["n_estimators"] / n_estimators
        lgb_params["learning_rate"] = min(0.15, rate)
    lgb_params.update(params or {})
    n_series = panel["unique_id"].nunique()
    warmup = max(lags) + 28
    train_window = train_days or int(np.clip(max_train_rows // max(n_series, 1), 28, MAX_TRAIN_DAYS))
    last = panel.groupby("unique_id")["ds"].transform("max")
    train = panel.loc[panel["ds"] > last - pd.Timedelta(days=warmup + train_window)]
    cols = ["unique_id", "ds", "y", *EXOG_COLUMNS]
    fcst = MLForecast(
        models={name: lgb.LGBMRegressor(**lgb_params)},
        freq="D",
        lags=list(lags),
        lag_transforms=_lag_transforms(name),
        date_features=["dayofweek", "month", "day"],
        num_threads=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # features for every series (the recursive forecast needs each one's state) ...
        try:
            X, y = fcst.preprocess(train[cols], static_features=[], dropna=True, return_X_y=True)
        except ValueError:
            # mlforecast cannot build lag features at all (e.g. every series' window holds only the zero
            # days after its last sale, long ago): this model fails, the engine falls back per series.
            return _horizon_frame(panel, h).assign(**{name: np.nan})
        if len(y) > max_train_rows:  # ... but the trees learn from a seeded sample of rows
            pick = np.sort(np.random.default_rng(seed).choice(len(y), size=max_train_rows, replace=False))
            X, y = X.iloc[pick], y[pick]
        if len(y) == 0:  # histories too short for this model's lags: it fails, the engine falls back
            return _horizon_frame(panel, h).assign(**{name: np.nan})
        fcst.fit_models(X, y)
        pred = fcst.predict(h=h, X_df=future_exog[["unique_id", "ds", *EXOG_COLUMNS]])
    pred = pred.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    vals = pred[name].to_numpy(dtype=float)
    pred[name] = np.where(np.isfinite(vals), np.maximum(vals, 0.0), np.nan)
    return pred[["unique_id", "ds", name]]
