"""Stock projection and stockout probability by Monte Carlo sample paths (vectorised across SKUs).

For SKU-location ``i``, path ``k`` and day ``t = 1..H`` after ``as_of`` (lost-sales free, backorder
accounting, nothing new ordered)::

    stock[i, k, t] = on_hand[i] - backorders[i] + sum_{s<=t} (receipts[i, k, s] - demand[i, k, s])

where ``demand`` are the forecast's sample paths and ``receipts`` the open purchase orders, each
arriving on a day drawn from its arrival distribution (a late PO stays uncertain: its pmf comes from
the lead-time model) with a possibly short quantity. A stockout happens on the first day demand
cannot be served, i.e. ``stock < 0``. The first-stockout day per path gives P(stockout by day t)
for every t, the expected date and its 80% range; ``max(0, -stock)`` at the horizon gives the
expected units short.

Everything is numpy over arrays ``(series, paths, days)``, processed in chunks of series to bound
memory. No Python loop runs per SKU or per path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class OpenSupply:
    """Open purchase-order lines as flat arrays (one entry per line).

    Attributes:
        series_index: (m,) row of the SKU-location each line belongs to.
        qty: (m,) ordered (outstanding) units.
        arrival_pmf: (m, D) probability the line arrives on day ``j + 1`` after ``as_of`` (column ``j``);
            mass missing from a row (1 - row sum) means "after day D".
        short_probability: (m,) probability the delivery is short.
        short_fill_ratio: (m,) received / ordered when short.
    """

    series_index: np.ndarray
    qty: np.ndarray
    arrival_pmf: np.ndarray
    short_probability: np.ndarray
    short_fill_ratio: np.ndarray

    @classmethod
    def empty(cls, days: int = 1) -> OpenSupply:
        """No open purchase orders."""
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), z, np.zeros((0, days)), z, z)

    def rows(self, start: int, stop: int) -> OpenSupply:
        """The lines of SKU-location rows ``start..stop-1``, re-indexed from 0."""
        sel = np.flatnonzero((self.series_index >= start) & (self.series_index < stop))
        return OpenSupply(
            series_index=self.series_index[sel] - start,
            qty=self.qty[sel],
            arrival_pmf=self.arrival_pmf[sel],
            short_probability=self.short_probability[sel],
            short_fill_ratio=self.short_fill_ratio[sel],
        )


@dataclass(frozen=True, slots=True)
class CoverageResult:
    """What the projection says per SKU-location (arrays of length n unless noted).

    Attributes:
        stockout_curve: (n, H) P(first stockout on or before day t + 1), non-decreasing in t.
        p_stockout: P(stockout within the SKU's own horizon).
        stockout_day_p10, stockout_day_p50, stockout_day_p90: quantiles of the first-stockout day
            (days after ``as_of``; NaN when that quantile falls beyond the simulated days).
        expected_short: expected units short at the SKU's horizon (backorder accounting).
        expected_receipts: expected units received within the SKU's horizon.
        mean_demand: expected demand within the SKU's horizon.
        sd_demand: standard deviation of the demand within the SKU's horizon.
    """

    stockout_curve: np.ndarray
    p_stockout: np.ndarray
    stockout_day_p10: np.ndarray
    stockout_day_p50: np.ndarray
    stockout_day_p90: np.ndarray
    expected_short: np.ndarray
    expected_receipts: np.ndarray
    mean_demand: np.ndarray
    sd_demand: np.ndarray


def draw_arrival_days(pmf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws of arrival days.

    Args:
        pmf: (m, D) arrival pmf per line over days 1..D (row sums <= 1).
        u: (m, P) uniform draws.

    Returns:
        (m, P) int arrival day in 1..D, or D + 1 for "not within D days".
    """
    cdf = np.cumsum(pmf, axis=1)
    # the number of cdf values strictly below u is the index of the first day whose cdf reaches u
    return (cdf[:, None, :] < u[:, :, None]).sum(axis=2) + 1


def _receipts(n: int, n_paths: int, days: int, supply: OpenSupply, seed: int) -> np.ndarray:
    """(n, P, days) units received per day and path from the open lines.

    Common random numbers: the j-th line of every SKU-location (in the order given) draws its arrival
    and short-delivery uniforms from the same streams ``(seed, j)``, so identical SKU-locations get
    identical receipts wherever they stand, and lines of one SKU-location stay independent.
    """
    out: np.ndarray = np.zeros(n * n_paths * (days + 2), dtype=np.float64)
    m = len(supply.qty)
    if m:
        pmf = supply.arrival_pmf[:, :days]
        if pmf.shape[1] < days:
            pmf = np.pad(pmf, ((0, 0), (0, days - pmf.shape[1])))
        order = np.argsort(supply.series_index, kind="stable")
        rank = np.empty(m, dtype=np.int64)
        first = np.r_[0, np.flatnonzero(np.diff(supply.series_index[order])) + 1]
        rank[order] = np.arange(m) - np.repeat(first, np.diff(np.r_[first, m]))
        u_day = np.empty((m, n_paths))
        u_short = np.empty((m, n_paths))
        for j in np.unique(rank):
            sel = rank == j
            u_day[sel] = np.random.default_rng([seed, 3, int(j)]).random(n_paths)
            u_short[sel] = np.random.default_rng([seed, 4, int(j)]).random(n_paths)
        day = draw_arrival_days(pmf, u_day)  # 1..days+1
        is_short = u_short < supply.short_probability[:, None]
        qty = supply.qty[:, None] * np.where(is_short, supply.short_fill_ratio[:, None], 1.0)
        flat = (supply.series_index[:, None] * n_paths + np.arange(n_paths)[None, :]) * (days + 2) + day
        out = np.bincount(flat.ravel(), weights=qty.ravel(), minlength=out.size)
    return out.reshape(n, n_paths, days + 2)[:, :, 1 : days + 1]


def project_chunk(
    *,
    on_hand: np.ndarray,
    demand_paths: np.ndarray,
    supply: OpenSupply,
    horizon_days: np.ndarray,
    seed: int,
    window_days: np.ndarray | None = None,
) -> CoverageResult:
    """Project stock for one chunk of SKU-locations (see the module docstring for the model).

    Args:
        on_hand: (n,) usable stock at the end of ``as_of`` (on hand minus backorders; may be < 0).
        demand_paths: (n, P, D) demand sample paths for days 1..D after ``as_of``.
        supply: open lines with ``series_index`` in 0..n-1.
        horizon_days: (n,) the horizon H_i <= D over which ``p_stockout`` is reported.
        seed: seed of the arrival and short-delivery draws (common to all rows, see :func:`_receipts`).
        window_days: (n,) days simulated for each row (<= D; default D): a first stockout after a row's
            own window counts as none, so what a row gets never depends on the other rows of the chunk.

    Returns:
        The :class:`CoverageResult` of the chunk.
    """
    n, n_paths, days = demand_paths.shape
    h = np.clip(np.asarray(horizon_days, dtype=np.int64), 1, days)
    rec = _receipts(n, n_paths, days, supply, seed)
    cum_dem = np.cumsum(demand_paths, axis=2)
    cum_rec = np.cumsum(rec, axis=2)
    stock = on_hand[:, None, None] + cum_rec - cum_dem
    out = stock < -_EPS
    has = out.any(axis=2)
    first = np.where(has, out.argmax(axis=2) + 1, days + 1)  # (n, P), day index 1..D, D+1 = none
    if window_days is not None:
        first = np.where(first > np.asarray(window_days, dtype=np.int64)[:, None], days + 1, first)
    flat = (np.arange(n)[:, None] * (days + 2) + first).ravel()
    counts = np.bincount(flat, minlength=n * (days + 2)).reshape(n, days + 2).astype(np.float64)
    curve = np.cumsum(counts[:, 1 : days + 1], axis=1) / n_paths
    p_h = np.take_along_axis(curve, (h - 1)[:, None], axis=1)[:, 0]

    def quantile_day(q: float) -> np.ndarray:
        idx = (curve >= q - 1e-12).argmax(axis=1) + 1.0
        return np.where(curve[:, -1] >= q - 1e-12, idx, np.nan)

    at_h = np.broadcast_to((h - 1)[:, None, None], (n, n_paths, 1))
    stock_h = np.take_along_axis(stock, at_h, axis=2)[:, :, 0]
    dem_h = np.take_along_axis(cum_dem, at_h, axis=2)[:, :, 0]
    rec_h = np.take_along_axis(cum_rec, at_h, axis=2)[:, :, 0]
    return CoverageResult(
        stockout_curve=curve,
        p_stockout=p_h,
        stockout_day_p10=quantile_day(0.1),
        stockout_day_p50=quantile_day(0.5),
        stockout_day_p90=quantile_day(0.9),
        expected_short=np.maximum(-stock_h, 0.0).mean(axis=1),
        expected_receipts=rec_h.mean(axis=1),
        mean_demand=dem_h.mean(axis=1),
        sd_demand=dem_h.std(axis=1),
    )


def project_stock(
    *,
    on_hand: np.ndarray,
    demand_paths: Callable[[np.ndarray], np.ndarray] | np.ndarray,
    supply: OpenSupply,
    horizon_days: np.ndarray,
    seed: int = 0,
    chunk_series: int = 1000,
) -> CoverageResult:
    """Project stock for all SKU-locations, chunk by chunk, and stitch the results.

    Args:
        on_hand: (n,) usable stock at the end of ``as_of``.
        demand_paths: (n, P, D) sample paths, or a function ``rows -> (len(rows), P, D)`` that makes
            them for a chunk of rows on demand (keeps memory bounded for 30,000 SKU-locations).
        supply: open lines (``series_index`` into 0..n-1).
        horizon_days: (n,) horizon per SKU-location.
        seed: seed of the arrival draws (common random numbers across rows).
        chunk_series: SKU-locations per chunk.

    Returns:
        The :class:`CoverageResult` over all n rows.
    """
    on_hand = np.asarray(on_hand, dtype=np.float64)
    horizon_days = np.asarray(horizon_days)
    n = len(on_hand)
    parts: list[CoverageResult] = []
    for start in range(0, n, chunk_series):
        rows = np.arange(start, min(start + chunk_series, n))
        if callable(demand_paths):
            paths = np.asarray(demand_paths(rows), dtype=np.float64)
        else:
            paths = np.asarray(demand_paths[rows], dtype=np.float64)
        parts.append(
            project_chunk(
                on_hand=on_hand[rows],
                demand_paths=paths,
                supply=supply.rows(start, start + len(rows)),
                horizon_days=horizon_days[rows],
                seed=seed,
            )
        )
    return concat_coverage(parts)


def concat_coverage(parts: list[CoverageResult]) -> CoverageResult:
    """Stitch chunk results back together in row order."""
    if not parts:
        z = np.zeros(0)
        return CoverageResult(np.zeros((0, 1)), z, z, z, z, z, z, z, z)
    return CoverageResult(*(np.concatenate([getattr(p, f) for p in parts]) for f in CoverageResult.__slots__))


def first_stockout_before(curve: np.ndarray, day: np.ndarray) -> np.ndarray:
    """P(first stockout on a day before ``day``) per row, read off the stockout curve.

    Args:
        curve: (n, D) ``stockout_curve`` of :class:`CoverageResult` (P(first stockout by day t + 1)).
        day: (n,) day 1..D after ``as_of``; 1 gives 0 (nothing happens before the first day).

    Returns:
        (n,) ``curve[i, day_i - 2]``, 0 where ``day_i <= 1``.
    """
    curve = np.asarray(curve, dtype=np.float64)
    d = np.clip(np.asarray(day, dtype=np.int64), 1, max(curve.shape[1], 1) + 1)
    if not len(d):
        return np.zeros(0)
    before = np.take_along_axis(curve, np.maximum(d - 2, 0)[:, None], axis=1)[:, 0]
    return np.where(d <= 1, 0.0, before)


def window_probability(
    *,
    stockout_probability: np.ndarray,
    projection_within: np.ndarray,
    projection_before: np.ndarray,
    window_days: np.ndarray,
    horizon_days: np.ndarray,
    resolution: float,
) -> np.ndarray:
    """P(the first stockout falls in the window ``[L, H]``) consistent with a refined ``stockout_probability``.

    ``P(first in [L, H]) = P(stockout by H) * P(first >= L | stockout by H)``: the overall probability may
    come from the learned model, the timing comes from the projection's paths. Where fewer paths than
    ``resolution`` ran out, the projection says nothing about the timing and the window's share of the
    horizon's days is used (a uniform first-stockout day).

    Args:
        stockout_probability: (n,) P(stockout within H), possibly refined.
        projection_within: (n,) the projection's P(stockout within H).
        projection_before: (n,) the projection's P(first stockout before day L).
        window_days: (n,) days in the window, ``H - L + 1``.
        horizon_days: (n,) H.
        resolution: the smallest probability the projection resolves (1 / number of paths).
    """
    within = np.asarray(projection_within, dtype=np.float64)
    late = np.clip(within - np.asarray(projection_before, dtype=np.float64), 0.0, None)
    uniform = np.clip(np.asarray(window_days, dtype=np.float64) / np.maximum(horizon_days, 1), 0.0, 1.0)
    share = np.where(within >= resolution - 1e-12, late / np.maximum(within, 1e-12), uniform)
    return np.clip(np.asarray(stockout_probability, dtype=np.float64) * share, 0.0, 1.0)


def days_of_cover(stock: np.ndarray, mean_daily_demand: np.ndarray, *, cap_days: float = 999.0) -> np.ndarray:
    """Days the stock lasts at the mean forecast rate (``cap_days`` when demand is ~0)."""
    stock = np.maximum(np.asarray(stock, dtype=np.float64), 0.0)
    rate = np.asarray(mean_daily_demand, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(rate > _EPS, stock / rate, cap_days)
    return np.minimum(cover, cap_days)
