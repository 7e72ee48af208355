"""Count distributions around the point forecast, fitted from rolling-origin backtest residuals.

Model (see :mod:`stockwarden.domain.demand`): ``Y ~ NegBin(mu * L, r)`` with a per-path level factor
``L ~ Gamma(k, 1/k)``, both by the method of moments:

* day-to-day over-dispersion per series, in sample over the last ``DAY_WINDOW_DAYS`` days, around the
  local level ``m`` (trailing 28-day mean x the series' weekday profile):
  ``1/r = sum((y - m)^2 - m) / sum(m^2)`` so that ``Var(y) = m + m^2 / r``, shrunk towards the pooled
  value of the series' demand class (weight: a typical series' ``sum(m^2)``). A year of days is a far
  steadier judge of the shape than a few backtest windows (which scored worse on M5 origins);
* level uncertainty, pooled over all series, from the rolling-origin backtest windows (forecast
  ``f``, actual ``y``): the variance of window totals beyond the sum of the daily squared errors,
  ``1/k = median over windows of (S^2 - sum (y - f)^2) / F^2`` with ``S`` = window residual total and
  ``F`` = window forecast total (the median, so a few badly missed series do not widen all the others).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwarden.domain.demand import QUANTILE_LEVELS, effective_size

SHRINK_WEIGHT = 0.1
MIN_PHI = 1e-3
MAX_PHI = 20.0
DEFAULT_PHI = 0.5
DEFAULT_INV_K = 0.05


@dataclass(frozen=True)
class Dispersion:
    """Fitted dispersion per series: NB ``size`` (day noise) and gamma ``level_shape`` (path level)."""

    size: np.ndarray
    level_shape: np.ndarray


DAY_WINDOW_DAYS = 365
LEVEL_WINDOW_DAYS = 28


def fit_dispersion(
    panel: pd.DataFrame,
    residuals: pd.DataFrame,
    n_series: int,
    demand_class: np.ndarray,
) -> Dispersion:
    """Fit the per-series NB size (in sample) and the pooled level shape (from backtest rows).

    Args:
        panel: the long panel ``unique_id, ds, y`` (sorted by id and date).
        residuals: rows ``unique_id, cutoff, y, f`` (actual and forecast) from the backtest windows.
        n_series: number of series (ids are ``0 .. n_series - 1``).
        demand_class: class per series, for pooling.

    Returns:
        :class:`Dispersion`; series without enough history get their class's pooled value.
    """
    phi = fit_day_dispersion(panel, n_series, demand_class)
    inv_k = fit_level_dispersion(residuals)
    return Dispersion(size=1.0 / phi, level_shape=np.full(n_series, 1.0 / inv_k if inv_k > 0 else np.inf))


def fit_level_dispersion(residuals: pd.DataFrame) -> float:
    """Pooled ``1/k`` of the per-path level factor from backtest windows (default when none)."""
    if residuals.empty:
        return DEFAULT_INV_K
    e = residuals["y"] - residuals["f"]
    r = residuals.assign(e=e, e2=e**2)
    win = r.groupby(["unique_id", "cutoff"]).agg(s=("e", "sum"), e2=("e2", "sum"), F=("f", "sum"))
    win = win.loc[win["F"] > 0]
    if win.empty:
        return DEFAULT_INV_K
    # the median over windows: a few badly missed heavy series must not widen every series' paths
    inv_k = float(np.median((win["s"] ** 2 - win["e2"]) / win["F"] ** 2))
    return float(np.clip(inv_k, 0.0, 1.0))


def fit_day_dispersion(
    panel: pd.DataFrame, n_series: int, demand_class: np.ndarray, *, window_days: int = DAY_WINDOW_DAYS
) -> np.ndarray:
    """Per-series ``phi = 1/r`` around the local weekday-adjusted level (see the module docstring)."""
    if panel.empty:
        return np.full(n_series, DEFAULT_PHI)
    uid = panel["unique_id"].to_numpy()
    y = panel["y"].to_numpy(dtype=float)
    level = _trailing_mean(y, uid, LEVEL_WINDOW_DAYS)
    dow = panel["ds"].dt.dayofweek.to_numpy()
    last = panel.groupby("unique_id")["ds"].transform("max").to_numpy()
    recent = (panel["ds"].to_numpy() > last - np.timedelta64(window_days, "D")) & np.isfinite(level)
    frame = pd.DataFrame({"uid": uid[recent], "dow": dow[recent], "y": y[recent], "m": level[recent]})
    by_day = frame.groupby(["uid", "dow"])["y"].mean()
    overall = frame.groupby("uid")["y"].mean()
    profile = (by_day / overall.reindex(by_day.index.get_level_values(0)).to_numpy()).fillna(1.0)
    frame["m"] = (
        frame["m"].to_numpy()
        * profile.reindex(pd.MultiIndex.from_arrays([frame["uid"], frame["dow"]])).fillna(1.0).to_numpy()
    )
    frame["num"] = (frame["y"] - frame["m"]) ** 2 - frame["m"]
    frame["den"] = frame["m"] ** 2
    per = frame.groupby("uid")[["num", "den"]].sum()
    num = per["num"].reindex(np.arange(n_series)).fillna(0.0).to_numpy()
    den = per["den"].reindex(np.arange(n_series)).fillna(0.0).to_numpy()
    return _shrink(num, den, np.asarray(demand_class))


def _trailing_mean(y: np.ndarray, uid: np.ndarray, window: int, min_obs: int = 7) -> np.ndarray:
    """Mean of the previous ``window`` values within each series (NaN with fewer than ``min_obs``)."""
    c = np.cumsum(np.r_[0.0, y])
    pos = np.arange(len(y))
    starts = np.r_[0, np.flatnonzero(np.diff(uid)) + 1]
    series_start = np.repeat(starts, np.diff(np.r_[starts, len(y)]))
    lo = np.maximum(pos - window, series_start)
    n = pos - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_obs, (c[pos] - c[lo]) / np.maximum(n, 1), np.nan)


def _shrink(num: np.ndarray, den: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``num/den`` per series, shrunk towards its class's pooled ratio, clipped."""
    n_series = len(num)
    phi = np.full(n_series, DEFAULT_PHI)
    pooled_all = _ratio(num.sum(), den.sum(), DEFAULT_PHI)
    for cls in np.unique(classes):
        m = classes == cls
        pooled = _ratio(num[m].sum(), den[m].sum(), pooled_all)
        # shrink each series towards its class: weight SHRINK_WEIGHT x a typical series' sum m^2
        tau = SHRINK_WEIGHT * (np.median(den[m][den[m] > 0]) if (den[m] > 0).any() else 1.0)
        phi[m] = (num[m] + tau * pooled) / (den[m] + tau)
    return np.clip(phi, MIN_PHI, MAX_PHI)


def _ratio(num: float, den: float, default: float) -> float:
    return float(num / den) if den > 0 else default


def compute_quantiles(mean: np.ndarray, disp: Dispersion, levels: tuple[float, ...] = QUANTILE_LEVELS) -> np.ndarray:
    """Daily quantiles of the NB with the mixture's mean and variance.

    Vectorised: the NB (or Poisson, for an infinite size) CDF is accumulated term by term with the
    pmf recurrence ``P(k) = P(k-1) * (k - 1 + r) / k * (1 - p)`` for all cells at once, and each cell
    leaves the loop once its highest quantile is reached (scipy's ``nbinom.ppf`` is ~50x slower).

    Args:
        mean: expected demand, shape ``(n_series, h)``.
        disp: fitted dispersion.
        levels: quantile levels in (0, 1), increasing.

    Returns:
        Array ``(len(levels), n_series, h)`` of integer-valued quantiles (0 where the mean is 0).
    """
    r_series = effective_size(disp.size, disp.level_shape)
    out = np.zeros((len(levels), *mean.shape))
    mu = np.maximum(mean, 0.0).ravel()
    r = np.broadcast_to(r_series[:, None], mean.shape).ravel()
    active = np.flatnonzero(mu > 0)
    if not len(active):
        return out
    flat = out.reshape(len(levels), -1)
    lv = np.asarray(levels)[:, None]
    m, rr = mu[active], r[active]
    poisson = ~np.isfinite(rr)
    r_safe = np.where(poisson, 1.0, rr)
    p = r_safe / (r_safe + m)
    log_p0 = np.where(poisson, -m, r_safe * np.log(p))
    pmf = np.exp(log_p0)
    cdf = pmf.copy()
    k = 0
    unresolved = np.ones((len(levels), len(active)), dtype=bool)
    idx = active
    while True:
        hit = unresolved & (cdf[None, :] >= lv - 1e-12)
        for i in range(len(levels)):
            flat[i, idx[hit[i]]] = k
        unresolved &= ~hit
        keep = unresolved.any(axis=0)
        if not keep.any() or k > 100_000:
            break
        idx, m, r_safe, p, pmf, cdf, poisson = (a[keep] for a in (idx, m, r_safe, p, pmf, cdf, poisson))
        unresolved = unresolved[:, keep]
        k += 1
        pmf = np.where(poisson, pmf * m / k, pmf * (k - 1 + r_safe) / k * (1.0 - p))
        cdf = cdf + pmf
    return out
