"""Count distributions around the point forecast, fitted from rolling-origin backtest residuals.

Model (see :mod:`stockwarden.domain.demand`): ``Y ~ NegBin(mu * L, r)`` with a per-path level factor
``L ~ Gamma(k, 1/k)``. By the method of moments on backtest windows (forecast ``f``, actual ``y``):

* total over-dispersion per series: ``phi = sum((y - f)^2 - f) / sum(f^2)`` so that
  ``Var(y) = f + phi f^2``; shrunk towards the pooled value of its demand class with weight
  ``SHRINK_WEIGHT`` (a short window is a noisy judge of one series);
* level share, pooled over all windows: the variance of window totals beyond the sum of the daily
  variances, ``1/k = sum(S^2 - sum (y - f)^2) / sum(F^2)`` with ``S`` = window residual total and
  ``F`` = window forecast total; then ``1/r = (phi - 1/k) / (1 + 1/k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from stockwarden.domain.demand import QUANTILE_LEVELS, effective_size

SHRINK_WEIGHT = 1.0
MIN_PHI = 1e-3
MAX_PHI = 20.0
DEFAULT_PHI = 0.5
DEFAULT_INV_K = 0.05


@dataclass(frozen=True)
class Dispersion:
    """Fitted dispersion per series: NB ``size`` (day noise) and gamma ``level_shape`` (path level)."""

    size: np.ndarray
    level_shape: np.ndarray


def fit_dispersion(residuals: pd.DataFrame, n_series: int, demand_class: np.ndarray) -> Dispersion:
    """Fit the per-series NB size and level shape from backtest rows.

    Args:
        residuals: rows ``unique_id, cutoff, y, f`` (actual and forecast) from the backtest windows.
        n_series: number of series (ids are ``0 .. n_series - 1``).
        demand_class: class per series, for pooling.

    Returns:
        :class:`Dispersion`; series without backtest rows get their class's pooled values.
    """
    if residuals.empty:
        phi = np.full(n_series, DEFAULT_PHI)
        return _split(phi, DEFAULT_INV_K)
    r = residuals.assign(num=(residuals["y"] - residuals["f"]) ** 2 - residuals["f"], den=residuals["f"] ** 2,
                         e=residuals["y"] - residuals["f"], e2=(residuals["y"] - residuals["f"]) ** 2)
    per = r.groupby("unique_id").agg(num=("num", "sum"), den=("den", "sum"))
    num = per["num"].reindex(np.arange(n_series)).fillna(0.0).to_numpy()
    den = per["den"].reindex(np.arange(n_series)).fillna(0.0).to_numpy()
    phi = np.full(n_series, DEFAULT_PHI)
    classes = np.asarray(demand_class)
    pooled_all = _ratio(num.sum(), den.sum(), DEFAULT_PHI)
    for cls in np.unique(classes):
        m = classes == cls
        pooled = _ratio(num[m].sum(), den[m].sum(), pooled_all)
        # shrink each series towards its class: weight SHRINK_WEIGHT x a typical window's sum f^2
        tau = SHRINK_WEIGHT * (np.median(den[m][den[m] > 0]) if (den[m] > 0).any() else 1.0)
        phi[m] = (num[m] + tau * pooled) / (den[m] + tau)
    phi = np.clip(phi, MIN_PHI, MAX_PHI)
    win = r.groupby(["unique_id", "cutoff"]).agg(s=("e", "sum"), e2=("e2", "sum"), F=("f", "sum"))
    inv_k = _ratio(float((win["s"] ** 2 - win["e2"]).sum()), float((win["F"] ** 2).sum()), DEFAULT_INV_K)
    return _split(phi, float(np.clip(inv_k, 0.0, 1.0)))


def _ratio(num: float, den: float, default: float) -> float:
    return float(num / den) if den > 0 else default


def _split(phi: np.ndarray, inv_k: float) -> Dispersion:
    inv_k = min(inv_k, 0.9 * float(np.min(phi))) if inv_k > 0 else 0.0
    inv_r = np.maximum((phi - inv_k) / (1.0 + inv_k), MIN_PHI)
    size = 1.0 / inv_r
    level_shape = np.full(len(phi), 1.0 / inv_k if inv_k > 0 else np.inf)
    return Dispersion(size=size, level_shape=level_shape)


def compute_quantiles(mean: np.ndarray, disp: Dispersion, levels: tuple[float, ...] = QUANTILE_LEVELS) -> np.ndarray:
    """Daily quantiles of the NB with the mixture's mean and variance.

    Args:
        mean: expected demand, shape ``(n_series, h)``.
        disp: fitted dispersion.
        levels: quantile levels in (0, 1).

    Returns:
        Array ``(len(levels), n_series, h)`` of integer-valued quantiles (0 where the mean is 0).
    """
    r = effective_size(disp.size, disp.level_shape)[:, None] * np.ones_like(mean)
    mu = np.maximum(mean, 0.0)
    out = np.zeros((len(levels), *mean.shape))
    pos = mu > 0
    if not pos.any():
        return out
    rp, mp = r[pos], mu[pos]
    poisson = ~np.isfinite(rp)
    for i, q in enumerate(levels):
        vals = np.empty(len(mp))
        if poisson.any():
            vals[poisson] = stats.poisson.ppf(q, mp[poisson])
        nb = ~poisson
        if nb.any():
            vals[nb] = stats.nbinom.ppf(q, rp[nb], rp[nb] / (rp[nb] + mp[nb]))
        out[i][pos] = vals
    return out
