"""The demand forecast as a value: daily means and quantiles, per-series facts, and sample paths.

The distribution behind every number is a negative-binomial mixture: for series ``i``, path ``p``
and day ``t``::

    Y[i, p, t] ~ NegBin(mean = mu[i, t] * L[i, p], size = r[i])      (day-to-day noise)
    L[i, p]    ~ Gamma(shape = k[i], scale = 1 / k[i])                (path level, mean 1)

``L`` carries forecast (level) uncertainty shared by all days of a path, so window totals are not
too narrow; ``r`` carries the day-to-day over-dispersion. Both are fitted from backtest residuals
(see ``stockwarden.forecast.distribution``). The daily quantiles use the negative binomial with the
same mean and variance as the mixture (``1/r_eff = 1/r + 1/k + 1/(r k)``), so they agree with the
marginals of :meth:`DemandForecast.sample_paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAILY_COLUMNS = ("sku", "location_id", "date", "mean", "p5", "p25", "p50", "p75", "p95", "model")
QUANTILE_LEVELS = (0.05, 0.25, 0.50, 0.75, 0.95)
SERIES_COLUMNS = (
    "sku",
    "location_id",
    "demand_class",
    "abc",
    "model",
    "is_fallback",
    "fallback_reason",
    "adi",
    "cv2",
    "mean_daily_demand",
    "history_days",
    "censored_days",
    "dispersion",
    "level_cv",
)

DemandClass = str
"""One of ``smooth``, ``erratic``, ``intermittent``, ``lumpy`` (Syntetos-Boylan) or ``no_demand``."""


@dataclass(frozen=True)
class DemandForecast:
    """A probabilistic daily demand forecast for many SKU-locations.

    Attributes:
        daily: one row per series and future day, columns :data:`DAILY_COLUMNS` (plus ``demand_class``).
        series: one row per series, columns :data:`SERIES_COLUMNS`; row order defines the first axis
            of :attr:`mean` and of :meth:`sample_paths`.
        dates: the forecast dates (the day after ``as_of`` onwards), the last axis of :attr:`mean`.
        mean: expected demand, shape ``(n_series, horizon_days)``.
        size: negative-binomial size ``r`` of the day-to-day noise per series (``inf`` = Poisson).
        level_shape: gamma shape ``k`` of the per-path level factor per series (``inf`` = no level noise).
        as_of: the date the forecast was made as of.
    """

    daily: pd.DataFrame
    series: pd.DataFrame
    dates: pd.DatetimeIndex
    mean: np.ndarray
    size: np.ndarray
    level_shape: np.ndarray
    as_of: pd.Timestamp

    @property
    def horizon_days(self) -> int:
        """Number of forecast days."""
        return len(self.dates)

    def index_of(self, sku: str, location_id: str) -> int:
        """Row of a series in :attr:`series` (and the first axis of the arrays).

        Raises:
            KeyError: when the series is not in the forecast.
        """
        skus, locs = self.series["sku"].to_numpy(), self.series["location_id"].to_numpy()
        hit = np.flatnonzero((skus == sku) & (locs == location_id))
        if not len(hit):
            raise KeyError(f"no forecast for sku {sku!r} at location {location_id!r}")
        return int(hit[0])

    def sample_paths(self, n_paths: int, *, seed: int) -> np.ndarray:
        """Simulated daily demand paths, consistent with the daily quantiles.

        Args:
            n_paths: paths per series.
            seed: random seed; the same seed gives the same paths.

        Returns:
            Array of shape ``(n_series, n_paths, horizon_days)`` (float64 counts), rows aligned with
            :attr:`series`, columns with :attr:`dates`.

        Example:
            >>> paths = fc.sample_paths(500, seed=0)
            >>> lead_time_demand = paths[:, :, :14].sum(axis=2)   # (n_series, 500)
        """
        if n_paths <= 0:
            raise ValueError(f"n_paths must be positive, got {n_paths}")
        rng = np.random.default_rng(seed)
        n = self.mean.shape[0]
        k = self.level_shape[:, None]
        finite_k = np.isfinite(k)
        shape = np.where(finite_k, k, 1.0)
        level = rng.gamma(np.broadcast_to(shape, (n, n_paths)), 1.0 / np.broadcast_to(shape, (n, n_paths)))
        level = np.where(finite_k, level, 1.0)
        mu = self.mean[:, None, :] * level[:, :, None]
        r = np.broadcast_to(self.size[:, None, None], mu.shape)
        finite_r = np.isfinite(r)
        r_safe = np.where(finite_r, r, 1.0)
        # NegBin(mean mu, size r) as Poisson(mu * Gamma(r, 1/r)); Poisson where r is infinite.
        lam = np.where(finite_r, mu * rng.gamma(r_safe, 1.0 / r_safe), mu)
        return rng.poisson(lam).astype(np.float64)


def effective_size(size: np.ndarray, level_shape: np.ndarray) -> np.ndarray:
    """Negative-binomial size with the mean and variance of the day-noise x level mixture.

    ``Var = mu + mu^2 * (1/r + 1/k + 1/(r k))`` so ``1/r_eff = 1/r + 1/k + 1/(r k)``.
    """
    inv_r = np.where(np.isfinite(size), 1.0 / np.maximum(size, 1e-12), 0.0)
    inv_k = np.where(np.isfinite(level_shape), 1.0 / np.maximum(level_shape, 1e-12), 0.0)
    phi = inv_r + inv_k + inv_r * inv_k
    with np.errstate(divide="ignore"):
        return np.where(phi > 0, 1.0 / np.maximum(phi, 1e-12), np.inf)
