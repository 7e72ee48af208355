"""The forecasting entry point: history -> models -> per-series choice -> distribution.

``forecast_demand(ds, as_of=..., horizon_days=...)`` is the one call the rest of stockwarden makes.

1. demand history (censored days imputed) and per-series profile (demand class, ABC);
2. rolling-origin backtest of the candidate models on each series' own history (``n_windows``
   windows of 28 days ending at ``as_of``, whatever the horizon);
3. per series, the candidate with the lowest backtest squared error (``mode="select"``), or one fixed
   combination: ``"auto"`` = the recursive and the direct global LightGBM (3/7 each) with the 28-day
   mean (1/7); ``"fast"`` = the recursive LightGBM (0.6) with seasonal exponential smoothing and the
   28-day mean (0.2 each), fewer rounds; ``"stats"`` = the equal-weight mean of seasonal exponential
   smoothing, TSB, IMAPA and the 28-day mean. Fixed combinations won across four M5 origins where the
   per-series choice over-fitted its short backtest, and on replay_dev's risk backtest (``stats`` as
   a per-series choice among the same four: AP 0.798 / 0.696 in stock, lead-time recall 0.584; as
   their mean: 0.801 / 0.700, 0.600);
4. final fit on the whole history; a series whose model fails (or is too short to fit) gets the
   fallback model, recorded in ``.series`` (``is_fallback``, ``fallback_reason``);
5. negative-binomial day-to-day dispersion in sample, and the per-path level uncertainty from the
   backtest residuals (see :mod:`stockwarden.forecast.distribution`).

Backends: ``"local"`` (this machine: statsforecast processes, LightGBM) and ``"dask"`` (the same
steps shard by shard on a Dask cluster, :mod:`stockwarden.forecast.distributed`); callers only change
the ``backend`` argument (a name, or a :class:`~stockwarden.forecast.distributed.DaskBackend`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stockwarden.domain.demand import DAILY_COLUMNS, QUANTILE_LEVELS, SERIES_COLUMNS, DemandForecast
from stockwarden.errors import ForecastError
from stockwarden.forecast.classify import compute_series_profile
from stockwarden.forecast.distribution import compute_quantiles, fit_dispersion
from stockwarden.forecast.features import add_event_features, build_future_exog, build_panel
from stockwarden.forecast.history import history_as_of
from stockwarden.forecast.models import GLOBAL_MODELS, forecast_global, forecast_stats
from stockwarden.ingest.dataset import Dataset

if TYPE_CHECKING:
    from stockwarden.forecast.distributed import DaskBackend

BACKENDS = ("local", "dask")
MIN_HISTORY_DAYS = 14
BACKTEST_DAYS = 28
FALLBACK_MODEL = "ma28"
BACKTEST_SAMPLE_SERIES = 1000
# weight of a model inside a combination (default 1): lgbm+lgbmd+ma28 = 3/7 recursive LightGBM + 3/7 direct
# LightGBM + 1/7 28-day mean (auto); lgbm+seso+ma28 = 0.6 lgbm + 0.2 seso + 0.2 ma28 (fast). On four M5 origins the
# recursive+direct pair cut WRMSSE by 1.2% against lgbm+seso+ma28 (3 of 4 origins better), and the result moved
# by less than 0.2% between 2:2:1, 3:3:1 and 3:3:1:1 (+ seso) weightings; either LightGBM alone was worse
COMBINATION_WEIGHTS = {"lgbm": 3.0, "lgbmd": 3.0}


@dataclass(frozen=True)
class ModeSpec:
    """What a mode runs: candidate models (``a+b`` = mean of a and b), backtest windows, boosting rounds."""

    candidates: tuple[str, ...]
    n_windows: int
    n_estimators: int
    max_train_rows: int


MODES: dict[str, ModeSpec] = {
    "auto": ModeSpec(candidates=("lgbm+lgbmd+ma28",), n_windows=1, n_estimators=300, max_train_rows=1_500_000),
    "select": ModeSpec(
        candidates=("lgbm+lgbmd+ma28", "lgbm+seso+ma28", "lgbm", "lgbmd", "seso", "ma28", "tsb", "imapa", "ets"),
        n_windows=2,
        n_estimators=150,
        max_train_rows=300_000,
    ),
    "fast": ModeSpec(candidates=("lgbm+seso+ma28",), n_windows=1, n_estimators=80, max_train_rows=60_000),
    "stats": ModeSpec(candidates=("seso+tsb+imapa+ma28",), n_windows=1, n_estimators=0, max_train_rows=0),
}


def forecast_demand(
    ds: Dataset | None,
    *,
    as_of: pd.Timestamp | str,
    horizon_days: int,
    backend: str | DaskBackend = "local",
    seed: int = 0,
    mode: str = "auto",
    history: pd.DataFrame | None = None,
    n_jobs: int | None = None,
) -> DemandForecast:
    """Forecast daily demand of every active SKU-location for ``horizon_days`` after ``as_of``.

    Args:
        ds: the dataset (only what was known at the end of ``as_of`` is used). May be None when
            ``history`` is given (then no events or planned promotions are used).
        as_of: last day of known data.
        horizon_days: days to forecast (> 0).
        backend: ``"local"``, ``"dask"`` (a private local Dask cluster) or a
            :class:`~stockwarden.forecast.distributed.DaskBackend` (scheduler address, shards).
        seed: seed of the global model (results are deterministic for a given seed).
        mode: ``"auto"`` (recursive + direct LightGBM + 28-day mean, best accuracy), ``"fast"`` (one
            recursive LightGBM + seasonal ES + 28-day mean, fewer boosting rounds and training rows:
            large panels), ``"stats"`` (statistical
            models only: the mean of SES, TSB, IMAPA and the 28-day mean; risk backtests), or
            ``"select"`` (per-series backtest choice among all candidates, slowest).
        history: a prebuilt :func:`build_demand_history` frame (rows after ``as_of`` are dropped),
            to skip rebuilding it at every checkpoint of a backtest.
        n_jobs: worker threads/processes (default: all cores).

    Returns:
        The :class:`~stockwarden.domain.demand.DemandForecast`.

    Raises:
        ForecastError: bad horizon, mode or backend, or nothing to forecast from.
    """
    if not isinstance(horizon_days, int | np.integer) or horizon_days <= 0:
        raise ForecastError(f"horizon_days must be a positive whole number of days, got {horizon_days!r}")
    if mode not in MODES:
        raise ForecastError(f"unknown forecast mode {mode!r}; choose one of {', '.join(MODES)}")
    if isinstance(backend, str) and backend not in BACKENDS:
        raise ForecastError(f"unknown or unavailable backend {backend!r}; available: {', '.join(BACKENDS)}")
    if backend != "local":
        from stockwarden.forecast.distributed import forecast_distributed  # lazy: dask is optional

        return forecast_distributed(
            ds, backend=backend, as_of=as_of, horizon_days=int(horizon_days), seed=seed, mode=mode, history=history
        )
    day = pd.Timestamp(as_of).normalize()
    history = history_as_of(ds, history, day)
    jobs = n_jobs or os.cpu_count() or 1
    spec = MODES[mode]
    h = int(horizon_days)
    profile = compute_series_profile(history)
    events = ds.events if ds is not None else pd.DataFrame(columns=["date", "kind", "location_id"])
    promotions = (
        ds.promotions if ds is not None else pd.DataFrame(columns=["sku", "location_id", "start_date", "end_date"])
    )
    panel = add_event_features(build_panel(history, profile), events, profile)
    dates = pd.date_range(day + pd.Timedelta(days=1), periods=h, freq="D")
    n = len(profile)
    fit_ok = (profile["history_days"].to_numpy() >= MIN_HISTORY_DAYS) & (profile["mean_daily_demand"].to_numpy() > 0)
    fit_ids = np.flatnonzero(fit_ok)
    fit_panel = panel.loc[panel["unique_id"].isin(fit_ids)]

    models = _models_needed(spec.candidates)
    bt_panel = fit_panel
    if len(spec.candidates) == 1 and len(fit_ids) > BACKTEST_SAMPLE_SERIES:
        # one fixed model: the backtest only feeds the pooled level factor, so a seeded sample will do
        sample = np.random.default_rng(seed).choice(fit_ids, size=BACKTEST_SAMPLE_SERIES, replace=False)
        bt_panel = fit_panel.loc[fit_panel["unique_id"].isin(sample)]
    # the window length is fixed, not the forecast's: the level uncertainty (and so every level and quantity
    # derived from the paths) must not change with how many days are forecast
    bt = _backtest(bt_panel, models, spec=spec, h=BACKTEST_DAYS, seed=seed, n_jobs=jobs)
    choice = _choose(bt, spec.candidates, n)

    future = add_event_features(build_future_exog(fit_panel, profile, promotions, dates), events, profile)
    future = future.loc[future["unique_id"].isin(fit_ids)]
    final = _run_models(fit_panel, future, models, spec=spec, h=h, seed=seed, n_jobs=jobs)
    mean, model_name, is_fallback, reason = _assemble(final, choice, fit_ok, panel, profile, h)

    resid = _chosen_residuals(bt, choice)
    disp = fit_dispersion(fit_panel, resid, n, profile["demand_class"].to_numpy())
    quant = compute_quantiles(mean, disp)
    series = profile.assign(
        model=model_name,
        is_fallback=is_fallback,
        fallback_reason=reason,
        dispersion=1.0 / disp.size,
        level_cv=1.0 / np.sqrt(disp.level_shape),
    )
    daily = _daily_frame(profile, dates, mean, quant, model_name)
    return DemandForecast(
        daily=daily,
        series=series[list(SERIES_COLUMNS)].reset_index(drop=True),
        dates=dates,
        mean=mean,
        size=disp.size,
        level_shape=disp.level_shape,
        as_of=day,
    )


def choose_by_backtest(
    panel: pd.DataFrame,
    candidates: tuple[str, ...],
    *,
    h: int,
    n_windows: int = 2,
    n_jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Statistical candidates only: choose per series by rolling-origin backtest, then forecast.

    Args:
        panel: ``unique_id`` (0..n-1), ``ds``, ``y``.
        candidates: model names or ``a+b`` means of them (first = default when a series cannot be judged).
        h: horizon (and backtest window length).
        n_windows: backtest windows.
        n_jobs: statsforecast processes.

    Returns:
        (chosen candidate per series, forecasts of shape ``(n_series * h,)`` in ``unique_id, ds`` order).
    """
    spec = ModeSpec(candidates=candidates, n_windows=n_windows, n_estimators=0, max_train_rows=0)
    models = tuple(sorted({p for c in candidates for p in c.split("+")}))
    bt = _backtest(panel, models, spec=spec, h=h, seed=0, n_jobs=n_jobs)
    n = int(panel["unique_id"].max()) + 1
    choice = _choose(bt, candidates, n)
    final = _run_models(panel, pd.DataFrame(), models, spec=spec, h=h, seed=0, n_jobs=n_jobs)
    uid = final["unique_id"].to_numpy()
    out = np.full(len(final), np.nan)
    for cand in np.unique(choice):
        m = choice[uid] == cand
        out[m] = _candidate_values(final.loc[m], cand)
    return choice, out


def _models_needed(candidates: tuple[str, ...]) -> tuple[str, ...]:
    names = {part for c in candidates for part in c.split("+")}
    names.add(FALLBACK_MODEL)
    return tuple(sorted(names))


def _run_models(
    panel: pd.DataFrame,
    future: pd.DataFrame,
    models: tuple[str, ...],
    *,
    spec: ModeSpec,
    h: int,
    seed: int,
    n_jobs: int,
) -> pd.DataFrame:
    """Point forecasts of every model in ``models`` (``unique_id, ds, <model>...``)."""
    stat_names = [m for m in models if m not in GLOBAL_MODELS]
    stat_jobs = n_jobs if panel["unique_id"].nunique() >= 2000 else 1
    out = forecast_stats(panel, h=h, names=stat_names, n_jobs=stat_jobs)
    for name in (m for m in GLOBAL_MODELS if m in models):
        g = forecast_global(
            panel,
            future,
            h=h,
            seed=seed,
            n_jobs=n_jobs,
            n_estimators=spec.n_estimators,
            max_train_rows=spec.max_train_rows,
            name=name,
        )
        out = out.merge(g, on=["unique_id", "ds"], how="left")
    return out


def _backtest(
    panel: pd.DataFrame, models: tuple[str, ...], *, spec: ModeSpec, h: int, seed: int, n_jobs: int
) -> pd.DataFrame:
    """Rolling-origin windows ending at the last date: rows ``unique_id, cutoff, ds, y, <model>...``."""
    if panel.empty:
        return pd.DataFrame(columns=["unique_id", "cutoff", "ds", "y", *models])
    end = panel["ds"].max()
    frames = []
    for w in range(spec.n_windows, 0, -1):
        cutoff = end - pd.Timedelta(days=w * h)
        train = panel.loc[panel["ds"] <= cutoff]
        sizes = train.groupby("unique_id").size()
        ok = sizes.index[sizes >= MIN_HISTORY_DAYS]
        train = train.loc[train["unique_id"].isin(ok)]
        if train.empty:
            continue
        test = panel.loc[
            (panel["ds"] > cutoff) & (panel["ds"] <= cutoff + pd.Timedelta(days=h)) & panel["unique_id"].isin(ok)
        ]
        future = test.drop(columns=["y"])
        if "price_ratio" in test:
            last_ratio = train.groupby("unique_id")["price_ratio"].last()
            future = future.assign(price_ratio=test["unique_id"].map(last_ratio).to_numpy())
        fc = _run_models(train, future, models, spec=spec, h=h, seed=seed, n_jobs=n_jobs)
        fc = fc.merge(test[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
        frames.append(fc.assign(cutoff=cutoff))
    if not frames:
        return pd.DataFrame(columns=["unique_id", "cutoff", "ds", "y", *models])
    return pd.concat(frames, ignore_index=True)


def _candidate_values(frame: pd.DataFrame, cand: str) -> np.ndarray:
    """A candidate's forecast: ``a+b`` is the weighted mean of a and b (weights :data:`COMBINATION_WEIGHTS`).

    A part that failed (NaN) is left out of the mean and the other parts' weights are rescaled;
    :func:`_assemble` records that as a fallback. NaN only where every part failed.
    """
    parts = cand.split("+")
    w = np.array([COMBINATION_WEIGHTS.get(p, 1.0) for p in parts])
    vals = np.column_stack([frame[p].to_numpy(dtype=float) for p in parts])
    ok = np.isfinite(vals)
    total = ok.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.where(ok, vals, 0.0) @ w / total, np.nan)


def _choose(bt: pd.DataFrame, candidates: tuple[str, ...], n: int) -> np.ndarray:
    """Per series, the candidate with the lowest backtest mean squared error (first candidate on ties)."""
    choice = np.full(n, candidates[0], dtype=object)
    if len(candidates) == 1 or bt.empty:
        return choice
    errs = pd.DataFrame({c: (_candidate_values(bt, c) - bt["y"].to_numpy()) ** 2 for c in candidates})
    errs["unique_id"] = bt["unique_id"].to_numpy()
    mse = errs.groupby("unique_id")[list(candidates)].mean()  # NaN (failed) forecasts are skipped...
    rows = errs.groupby("unique_id").size().to_numpy()[:, None]
    complete = errs.groupby("unique_id")[list(candidates)].count() == rows
    mse = mse.where(complete)
    best = mse.fillna(np.inf).to_numpy().argmin(axis=1)
    choice[mse.index.to_numpy()] = np.asarray(candidates, dtype=object)[best]
    return choice


def _chosen_residuals(bt: pd.DataFrame, choice: np.ndarray) -> pd.DataFrame:
    """Backtest rows ``unique_id, cutoff, y, f`` with ``f`` = the chosen candidate's forecast."""
    if bt.empty:
        return pd.DataFrame(columns=["unique_id", "cutoff", "y", "f"])
    uid = bt["unique_id"].to_numpy()
    f = np.full(len(bt), np.nan)
    for cand in np.unique(choice):
        m = choice[uid] == cand
        if m.any():
            f[m] = _candidate_values(bt.loc[m], cand)
    out = pd.DataFrame({"unique_id": uid, "cutoff": bt["cutoff"].to_numpy(), "y": bt["y"].to_numpy(), "f": f})
    return out.loc[np.isfinite(out["f"])]


def _record_failed_parts(
    final: pd.DataFrame,
    cand: str,
    rows: np.ndarray,
    uid: np.ndarray,
    h: int,
    *,
    model: np.ndarray,
    is_fb: np.ndarray,
    reason: np.ndarray,
) -> None:
    """Series of a combination where some (not all) parts failed: name the parts used, mark the fallback."""
    parts = cand.split("+")
    if len(parts) < 2:
        return
    failed = np.column_stack(
        [~np.isfinite(final[p].to_numpy(dtype=float).reshape(-1, h)[rows]).all(axis=1) for p in parts]
    )
    partial = failed.any(axis=1) & ~failed.all(axis=1)  # all failed: the fallback model takes over later
    for r, miss in zip(rows[partial], failed[partial], strict=True):
        i = uid[r]
        model[i] = "+".join(p for p, m in zip(parts, miss, strict=True) if not m)
        is_fb[i] = True
        reason[i] = "+".join(p for p, m in zip(parts, miss, strict=True) if m) + " failed"


def _assemble(
    final: pd.DataFrame, choice: np.ndarray, fit_ok: np.ndarray, panel: pd.DataFrame, profile: pd.DataFrame, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean matrix (n_series, h), model names, fallback flags and reasons."""
    n = len(profile)
    mean = np.zeros((n, h))
    model = np.asarray(choice, dtype=object).copy()
    is_fb = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    last28 = panel.loc[panel["ds"] > panel["ds"].max() - pd.Timedelta(days=28)].groupby("unique_id")["y"].mean()
    simple = last28.reindex(np.arange(n)).fillna(0.0).to_numpy()
    if len(final):
        uid = final["unique_id"].to_numpy().reshape(-1, h)[:, 0]
        for cand in np.unique(choice[uid]):
            rows = np.flatnonzero(choice[uid] == cand)
            vals = _candidate_values(final, cand).reshape(-1, h)[rows]
            mean[uid[rows]] = vals
            _record_failed_parts(final, cand, rows, uid, h, model=model, is_fb=is_fb, reason=reason)
        fb_vals = final[FALLBACK_MODEL].to_numpy(dtype=float).reshape(-1, h)
        bad = ~np.isfinite(mean[uid]).all(axis=1)
        for r in np.flatnonzero(bad):
            i = uid[r]
            reason[i] = f"{model[i]} failed"
            ok = np.isfinite(fb_vals[r]).all()
            mean[i] = fb_vals[r] if ok else simple[i]
            model[i] = FALLBACK_MODEL if ok else "mean28"
            is_fb[i] = True
    no_demand = profile["mean_daily_demand"].to_numpy() <= 0
    short = ~fit_ok & ~no_demand
    mean[short] = simple[short][:, None]
    model[short] = "mean28"
    is_fb[short] = True
    reason[short] = f"history shorter than {MIN_HISTORY_DAYS} days"
    mean[no_demand] = 0.0
    model[no_demand] = "zero"
    return np.maximum(mean, 0.0), model, is_fb, reason


def _daily_frame(
    profile: pd.DataFrame, dates: pd.DatetimeIndex, mean: np.ndarray, quant: np.ndarray, model: np.ndarray
) -> pd.DataFrame:
    n, h = mean.shape
    rep = np.repeat(np.arange(n), h)
    data = {
        "sku": profile["sku"].to_numpy()[rep],
        "location_id": profile["location_id"].to_numpy()[rep],
        "date": np.tile(dates.to_numpy(), n),
        "mean": mean.ravel(),
    }
    for i, q in enumerate(QUANTILE_LEVELS):
        data[f"p{round(q * 100)}"] = quant[i].ravel()
    data["model"] = model[rep]
    frame = pd.DataFrame(data)
    frame["demand_class"] = profile["demand_class"].to_numpy()[rep]
    return frame[[*DAILY_COLUMNS, "demand_class"]]
