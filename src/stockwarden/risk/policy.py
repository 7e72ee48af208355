"""Dynamic safety stock, reorder point and order-up-to level per SKU-location.

Two ways, both vectorised over SKU-locations:

* **Normal approximation** (Silver, Pyke & Thomas; Chopra & Meindl ch. 12), for a protection interval
  of ``L`` days with daily demand ``d ± sigma_d`` and lead time ``L ± sigma_L``::

      SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2),    ROP = d * L + SS

  with ``z = Phi^-1(CSL)`` for a cycle service level, or, for a fill-rate target ``beta`` and order
  quantity ``Q``, the ``k`` that solves ``sigma * G(k) = (1 - beta) * Q`` with the standard normal loss
  function ``G(k) = phi(k) - k * (1 - Phi(k))``.
* **Computed from the forecast's distribution** (what the assessment uses, :func:`protection_policy`):
  the forecast's model (negative binomial day noise with size ``r`` around ``mu_t`` times a gamma path
  level with shape ``k``, see ``stockwarden.domain.demand``) gives the demand over ``m`` days the mean
  ``M = sum mu_t`` and the variance ``M + (1 + 1/k) * sum mu_t^2 / r + M^2 / k``; that total is taken as
  the negative binomial with the same two moments, and the demand over a random lead time ``L`` (or
  ``L + R``) as the mixture of those over the lead-time pmf. Reorder point and order-up-to are the
  mixture's quantiles, found by bisection on whole units. With independent lead times per order
  (orders cross) the order-up-to level is instead the worst-phase quantile of the demand still waiting for
  outstanding orders (:func:`outstanding_order_pmf`). No random draw is involved, so identical
  inputs give identical levels, and only the days of the protection interval are read, so the length
  of the forecast cannot move them.
* **Simulation** (for demand given only as sample paths): demand over a random lead time is read
  from the forecast's sample paths with a lead time drawn per path from the lead-time model's pmf;
  the reorder point is its service-level quantile over ``L``, the order-up-to level over ``L + R``,
  and SS = order-up-to - mean demand over ``L + R``. For a fill rate the order-up-to level is the
  smallest candidate whose expected shortage E[(X - S)+] is at most (1 - beta) * E[demand over R].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, gammaincc, ndtr, ndtri

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def service_factor(service_level: np.ndarray | float) -> np.ndarray:
    """z = Phi^-1(service level), the safety factor of a cycle service level (0 < level < 1)."""
    return np.asarray(ndtri(np.clip(np.asarray(service_level, dtype=np.float64), 1e-9, 1 - 1e-9)))


def normal_loss(z: np.ndarray | float) -> np.ndarray:
    """Standard normal first-order loss G(z) = E[(Z - z)+] = phi(z) - z * (1 - Phi(z))."""
    z = np.asarray(z, dtype=np.float64)
    return np.asarray(np.exp(-0.5 * z * z) / _SQRT_2PI - z * (1.0 - ndtr(z)))


def fill_rate_factor(
    fill_rate: np.ndarray | float, *, order_qty: np.ndarray | float, sigma: np.ndarray | float
) -> np.ndarray:
    """The safety factor k with sigma * G(k) = (1 - fill rate) * Q (vectorised bisection on [-4, 6]).

    Args:
        fill_rate: target share of demand served from stock (0-1).
        order_qty: units ordered per cycle Q (demand per review period in periodic review).
        sigma: standard deviation of demand over the protection interval.

    Returns:
        k (0 where sigma is 0).
    """
    beta, q, s = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (fill_rate, order_qty, sigma)))
    target = np.where(s > 0, (1.0 - beta) * q / np.where(s > 0, s, 1.0), np.inf)
    lo = np.full(target.shape, -4.0)
    hi = np.full(target.shape, 6.0)
    for _ in range(60):  # G is decreasing: bisection converges to ~1e-17 in 60 steps
        mid = 0.5 * (lo + hi)
        too_low = normal_loss(mid) > target
        lo = np.where(too_low, mid, lo)
        hi = np.where(too_low, hi, mid)
    return np.where(s > 0, 0.5 * (lo + hi), 0.0)


def normal_safety_stock(
    *,
    service_level: np.ndarray | float,
    mean_daily_demand: np.ndarray | float,
    sd_daily_demand: np.ndarray | float,
    lead_time_days: np.ndarray | float,
    sd_lead_time_days: np.ndarray | float = 0.0,
) -> np.ndarray:
    """SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2) for a cycle service level.

    Example:
        Chopra & Meindl: weekly demand 2,500 ± 500, lead time 7 ± 7 weeks, CSL 0.90 -> SS ≈ 22,491.
    """
    d = np.asarray(mean_daily_demand, dtype=np.float64)
    sd = np.asarray(sd_daily_demand, dtype=np.float64)
    L = np.asarray(lead_time_days, dtype=np.float64)
    sL = np.asarray(sd_lead_time_days, dtype=np.float64)
    return np.asarray(service_factor(service_level) * np.sqrt(L * sd**2 + d**2 * sL**2))


@dataclass(frozen=True, slots=True)
class PolicyLevels:
    """Replenishment levels per SKU-location (arrays of length n, units).

    Attributes:
        reorder_point: order when the inventory position falls to or below this.
        safety_stock: order-up-to level minus the mean demand over lead time + review period.
        order_up_to: target inventory position after ordering.
        mean_protection_demand: mean demand over lead time + review period.
        service_level: the level each row's levels were computed at (None: the one given).
    """

    reorder_point: np.ndarray
    safety_stock: np.ndarray
    order_up_to: np.ndarray
    mean_protection_demand: np.ndarray
    service_level: np.ndarray | None = None


def simulated_policy(
    *,
    demand_paths: np.ndarray,
    lead_time_pmf: np.ndarray,
    review_period_days: np.ndarray,
    service_level: np.ndarray,
    service_measure: str = "cycle",
    seed: int = 0,
) -> PolicyLevels:
    """Reorder point, safety stock and order-up-to level from simulated lead-time demand.

    Args:
        demand_paths: (n, P, D) daily demand sample paths (D >= longest lead time + review period;
            longer protection intervals are clipped to D days).
        lead_time_pmf: (n, K) pmf of the lead time of a new order over 0..K-1 days.
        review_period_days: (n,) review period R.
        service_level: (n,) cycle service level, or fill rate when ``service_measure == "fill_rate"``.
        service_measure: ``"cycle"`` or ``"fill_rate"``.
        seed: seed of the lead-time draws.

    Returns:
        :class:`PolicyLevels`.
    """
    n, n_paths, days = demand_paths.shape
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(lead_time_pmf, axis=1)
    cdf = cdf / np.maximum(cdf[:, -1:], 1e-12)
    lead = (cdf[:, None, :] < rng.random((n, n_paths))[:, :, None]).sum(axis=2)  # (n, P) in 0..K-1
    review = np.asarray(review_period_days, dtype=np.int64)[:, None]
    cum = np.zeros((n, n_paths, days + 1))
    np.cumsum(demand_paths, axis=2, out=cum[:, :, 1:])
    x_l = np.take_along_axis(cum, np.clip(lead, 0, days)[:, :, None], axis=2)[:, :, 0]
    x_lr = np.take_along_axis(cum, np.clip(lead + review, 0, days)[:, :, None], axis=2)[:, :, 0]
    x_r = np.take_along_axis(cum, np.clip(review, 0, days)[:, :, None].repeat(n_paths, axis=1), axis=2)[:, :, 0]
    level = np.clip(np.asarray(service_level, dtype=np.float64), 0.0, 1.0)
    mean_lr = x_lr.mean(axis=1)
    if service_measure == "fill_rate":
        grid = np.linspace(0.0, 1.0, 101)
        cand = np.quantile(x_lr, grid, axis=1).T  # (n, G) increasing
        short = np.maximum(x_lr[:, :, None] - cand[:, None, :], 0.0).mean(axis=1)  # (n, G) decreasing
        allowed = (1.0 - level) * x_r.mean(axis=1)
        pick = (short <= allowed[:, None] + 1e-12).argmax(axis=1)
        order_up_to = cand[np.arange(n), pick]
        share = np.clip(grid[pick], 0, 1)
        reorder_point = _row_quantile(x_l, share)
    else:
        order_up_to = _row_quantile(x_lr, level)
        reorder_point = _row_quantile(x_l, level)
    return PolicyLevels(
        reorder_point=reorder_point,
        safety_stock=np.maximum(order_up_to - mean_lr, 0.0),
        order_up_to=order_up_to,
        mean_protection_demand=mean_lr,
    )


def _row_quantile(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-row quantile ``q[i]`` of ``x[i, :]`` (the 'higher' empirical quantile, conservative)."""
    s = np.sort(x, axis=1)
    idx = np.clip(np.ceil(q * s.shape[1]).astype(np.int64) - 1, 0, s.shape[1] - 1)
    return s[np.arange(len(s)), idx]


def round_order_qty(qty: np.ndarray, *, pack_size: np.ndarray, moq: np.ndarray) -> np.ndarray:
    """Round a wanted order up to whole packs and at least the MOQ (0 stays 0)."""
    qty = np.maximum(np.asarray(qty, dtype=np.float64), 0.0)
    pack = np.where(np.asarray(pack_size, dtype=np.float64) > 0, pack_size, 1.0)
    moq = np.nan_to_num(np.asarray(moq, dtype=np.float64))
    rounded = np.ceil(np.maximum(qty, np.where(qty > 0, moq, 0.0)) / pack - 1e-9) * pack
    return np.where(qty > 0, rounded, 0.0)


PMF_FLOOR = 1e-9
"""Lead-time probabilities below this are left out of the mixtures."""

GROUP_CUTS = (0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.995)
"""Cumulative lead-time probabilities at which the per-day components are split into groups (the
tail, which decides high service levels, keeps finer groups)."""


def extend_daily_mean(daily_mean: np.ndarray, days: int) -> np.ndarray:
    """The first ``days`` columns of ``daily_mean``, the last week repeated when the forecast is shorter.

    A lead time in the lead-time model's tail can reach past the forecast; its days are taken to repeat
    the last forecast week (weekday pattern kept), so no protection interval is cut short.
    """
    n, have = daily_mean.shape
    if have >= days:
        return daily_mean[:, :days]
    if have == 0:
        return np.zeros((n, days))
    week = daily_mean[:, -min(7, have) :]
    reps = int(np.ceil((days - have) / week.shape[1]))
    return np.concatenate([daily_mean, np.tile(week, (1, reps))[:, : days - have]], axis=1)


def window_moments(
    daily_mean: np.ndarray, size: np.ndarray, level_shape: np.ndarray, *, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each row's demand over its first ``days[i]`` days (the model above)."""
    n = len(daily_mean)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    d = np.asarray(days, dtype=np.int64)
    mu = extend_daily_mean(np.maximum(np.asarray(daily_mean, dtype=np.float64), 0.0), int(d.max()))
    m = np.cumsum(mu, axis=1)[np.arange(n), d - 1]
    q = np.cumsum(mu**2, axis=1)[np.arange(n), d - 1]
    inv_r, inv_k = _inverse(size), _inverse(level_shape)
    var = m + (1.0 + inv_k) * q * inv_r + m**2 * inv_k
    return m, np.sqrt(var)


def _inverse(v: np.ndarray) -> np.ndarray:
    """1 / v, with 0 for an infinite (or non-positive) shape parameter."""
    v = np.asarray(v, dtype=np.float64)
    ok = np.isfinite(v) & (v > 0)
    return np.where(ok, 1.0 / np.where(ok, v, 1.0), 0.0)


@dataclass(frozen=True, slots=True)
class _Mixture:
    """Per-row mixtures of negative binomials: component ``c`` belongs to row ``row[c]`` with weight ``w[c]``."""

    row: np.ndarray
    w: np.ndarray
    mean: np.ndarray
    size: np.ndarray  # inf = Poisson
    n: int

    def cdf(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """P(X <= x[row]) per row (x whole units; x < 0 gives 0); only ``rows`` (a mask) are computed."""
        c = self._components(rows)
        return self._sum(_nb_cdf(x[self.row[c]], self.mean[c], self.size[c]), c)

    def loss(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """E[(X - x[row])+] per row; only ``rows`` (a mask) are computed."""
        c = self._components(rows)
        s, mean, size = x[self.row[c]], self.mean[c], self.size[c]
        upper = np.where(np.isfinite(size), size + 1.0, np.inf)
        tail_shifted = 1.0 - _nb_cdf(s - 1, mean, upper, p_of=size)
        part = mean * tail_shifted - s * (1.0 - _nb_cdf(s, mean, size))
        return self._sum(np.maximum(part, 0.0), c)

    def _components(self, rows: np.ndarray | None) -> np.ndarray:
        return np.arange(len(self.row)) if rows is None else np.flatnonzero(rows[self.row])

    def expectation(self) -> np.ndarray:
        return self._sum(self.mean)

    def grouped(self, cuts: tuple[float, ...] = GROUP_CUTS) -> _Mixture:
        """Neighbouring components merged into a few by the row's cumulative weight (``cuts``), each group
        replaced by the one NB with its mean and variance: a handful of components instead of one per day."""
        if not len(self.row):
            return self
        order = np.lexsort((self.mean, self.row))  # components are per row, in lead-time order
        row, w, mean = self.row[order], self.w[order], self.mean[order]
        var = self.mean[order] + _nb_extra(mean, self.size[order])
        cum = np.cumsum(w)
        first = np.r_[0, np.flatnonzero(np.diff(row)) + 1]
        start = np.repeat(cum[first] - w[first], np.diff(np.r_[first, len(row)]))
        mid = cum - start - w / 2  # cumulative weight of the row at the component's middle
        group = row * (len(cuts) + 1) + np.searchsorted(np.asarray(cuts), mid)
        ids, inv = np.unique(group, return_inverse=True)
        gw = np.bincount(inv, weights=w)
        gm = np.bincount(inv, weights=w * mean) / gw
        second = np.bincount(inv, weights=w * (var + mean**2)) / gw
        extra = second - gm**2 - gm
        size = np.where(extra > 1e-12 * np.maximum(gm, 1.0), gm**2 / np.maximum(extra, 1e-300), np.inf)
        return _Mixture(row=ids // (len(cuts) + 1), w=gw, mean=gm, size=size, n=self.n)

    def collapsed(self) -> _Mixture:
        """One negative binomial per row with the mixture's mean and variance (the law of total variance)."""
        var = self.mean + _nb_extra(self.mean, self.size)
        m = self._sum(self.mean)
        second = self._sum(var + self.mean**2)
        extra = second - m**2 - m
        size = np.where(extra > 1e-12 * np.maximum(m, 1.0), m**2 / np.maximum(extra, 1e-300), np.inf)
        return _Mixture(row=np.arange(self.n), w=np.ones(self.n), mean=m, size=size, n=self.n)

    def bracket(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` around each row's ``level`` quantile: from the one-NB approximation of the mixture
        (:meth:`collapsed`), widened until ``cdf(lo) < level <= cdf(hi)`` (``lo = -1`` at the least)."""
        one = self.collapsed()
        guess = _smallest(np.full(self.n, -1.0), one.upper_bound(), lambda x, r: one.cdf(x, r) >= level)
        lo = np.floor(guess * 0.8) - 2.0
        hi = np.ceil(guess * 1.25) + 2.0
        lo = np.where(self.cdf(np.maximum(lo, 0.0)) >= level, -1.0, np.maximum(lo, -1.0))
        hi = np.where(self.cdf(hi) >= level, hi, np.maximum(self.upper_bound(), hi))
        return lo, hi

    def upper_bound(self) -> np.ndarray:
        """A value every component exceeds with negligible probability (start of the bisection)."""
        var = self.mean + np.where(np.isfinite(self.size), self.mean**2 / np.where(self.size > 0, self.size, 1), 0)
        hi = np.ceil(self.mean + 15.0 * np.sqrt(var) + 10.0)
        return np.maximum(_row_max(self.row, hi, self.n), 1.0)

    def _sum(self, v: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        if c is None:
            return np.bincount(self.row, weights=self.w * v, minlength=self.n)
        return np.bincount(self.row[c], weights=self.w[c] * v, minlength=self.n)


def _nb_extra(mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The variance of NB(mean, size) beyond Poisson, mean^2 / size (0 for an infinite size)."""
    ok = np.isfinite(size) & (size > 0)
    return np.where(ok, mean**2 / np.where(ok, size, 1.0), 0.0)


def _row_max(row: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    np.maximum.at(out, row, v)
    return out


def _nb_cdf(x: np.ndarray, mean: np.ndarray, size: np.ndarray, *, p_of: np.ndarray | None = None) -> np.ndarray:
    """CDF at whole ``x`` of NB(mean, size) (Poisson where size is infinite; a point at 0 where mean is 0).

    With ``p_of`` the success probability is that of NB(mean, p_of) and ``size`` only sets the shape (the
    size-shifted NB of the loss-function identity ``E[X 1{X > s}] = mean * P(X' >= s)``).
    """
    x = np.floor(np.asarray(x, dtype=np.float64))
    ref = size if p_of is None else p_of
    poisson = ~np.isfinite(size)
    safe_ref = np.where(np.isfinite(ref) & (ref > 0), ref, 1.0)
    safe_size = np.where(poisson | ~(size > 0), 1.0, size)
    p = safe_ref / (safe_ref + np.maximum(mean, 1e-300))
    xx = np.maximum(x, 0.0)
    with np.errstate(all="ignore"):
        nb = betainc(safe_size, xx + 1.0, p)
        po = gammaincc(xx + 1.0, mean)
    out = np.where(poisson, po, nb)
    out = np.where(mean <= 0, 1.0, out)
    return np.where(x < 0, 0.0, out)


def _mixture(
    cum_mean: np.ndarray,
    cum_sq: np.ndarray,
    inv_size: np.ndarray,
    inv_level: np.ndarray,
    rows: np.ndarray,
    days: np.ndarray,
    w: np.ndarray,
) -> _Mixture:
    """The moment-matched NB of demand over ``days[c]`` days for each component (see the module docstring)."""
    m = cum_mean[rows, days]
    q = cum_sq[rows, days]
    var = m + (1.0 + inv_level[rows]) * q * inv_size[rows] + m**2 * inv_level[rows]
    extra = var - m
    size = np.where(extra > 1e-12 * np.maximum(m, 1.0), m**2 / np.maximum(extra, 1e-300), np.inf)
    return _Mixture(row=rows, w=w, mean=m, size=size, n=len(cum_mean))


def _smallest(lo: np.ndarray, hi: np.ndarray, ok: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per row, the smallest whole x in (lo, hi] with ``ok(x, rows)`` true (monotone in x; ``ok(lo)`` false,
    hi where none is). ``ok`` is only asked about the rows (a mask) whose interval is still open."""
    lo = np.asarray(lo, dtype=np.float64).copy()
    hi = np.asarray(hi, dtype=np.float64).copy()
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            return hi
        mid = np.where(open_, np.floor((lo + hi) / 2), hi)
        good = ok(mid, open_)
        hi = np.where(open_ & good, mid, hi)
        lo = np.where(open_ & ~good, mid, lo)


def protection_policy(
    *,
    daily_mean: np.ndarray,
    size: np.ndarray,
    level_shape: np.ndarray,
    lead_time_pmf: np.ndarray,
    review_period_days: np.ndarray,
    service_level: np.ndarray,
    service_measure: str = "cycle",
    allocate: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    independent_lead_times: bool = False,
) -> PolicyLevels:
    """Reorder point, safety stock and order-up-to level computed from the forecast's distribution.

    See the module docstring for the model. The same inputs always give the same levels (no random
    draws), and only the days of the protection interval (longest lead time with mass + review period)
    are read from ``daily_mean``: a longer forecast cannot move them.

    Args:
        daily_mean: (n, D) expected daily demand from the day after the assessment date (shorter
            forecasts are extended by repeating their last week, :func:`extend_daily_mean`).
        size: (n,) negative-binomial size of the day-to-day noise (``inf`` = Poisson).
        level_shape: (n,) gamma shape of the path level factor (``inf`` = none).
        lead_time_pmf: (n, K) pmf of a new order's lead time over 0..K-1 days.
        review_period_days: (n,) review period R.
        service_level: (n,) cycle service level, or fill rate when ``service_measure == "fill_rate"``.
        service_measure: ``"cycle"`` or ``"fill_rate"``.
        allocate: optional (cycle service only): called with the mean and negative-binomial size of each
            row's demand over lead time + review period (the mixture's two moments) and returning the
            levels to use instead of ``service_level`` (:mod:`stockwarden.risk.allocation`).
        independent_lead_times: (cycle service only) each order's lead time is its own draw from the
            pmf, so later orders may overtake a late one: the order-up-to level is the largest, over the
            phases of the review cycle, of the service-level quantile of the demand still waiting for
            outstanding orders (:func:`outstanding_order_pmf`). False: one lead time for the whole
            interval (the mixture of demand over ``L + R``). Both agree when the lead time is certain.

    Returns:
        :class:`PolicyLevels` (whole units for the reorder point and order-up-to).
    """
    n = len(daily_mean)
    if n == 0:
        z = np.zeros(0)
        return PolicyLevels(z, z, z, z)
    review = np.asarray(review_period_days, dtype=np.int64)
    pmf = np.asarray(lead_time_pmf, dtype=np.float64)
    pmf = np.where(pmf > PMF_FLOOR, pmf, 0.0)
    no_pmf = pmf.sum(axis=1) <= 0
    pmf[no_pmf, 0] = 1.0  # no lead-time information at all: protect the review period only
    pmf = pmf / pmf.sum(axis=1, keepdims=True)
    need = pmf.shape[1] - 1 + int(review.max())
    mu = extend_daily_mean(np.maximum(np.asarray(daily_mean, dtype=np.float64), 0.0), need)
    cum_mean = np.zeros((n, need + 1))
    cum_sq = np.zeros((n, need + 1))
    np.cumsum(mu, axis=1, out=cum_mean[:, 1:])
    np.cumsum(mu**2, axis=1, out=cum_sq[:, 1:])
    inv_size, inv_level = _inverse(size), _inverse(level_shape)
    rows, lead = np.nonzero(pmf)
    w = pmf[rows, lead]
    over_l = _mixture(cum_mean, cum_sq, inv_size, inv_level, rows, lead, w).grouped()
    over_lr = _mixture(cum_mean, cum_sq, inv_size, inv_level, rows, lead + review[rows], w).grouped()

    level = np.clip(np.asarray(service_level, dtype=np.float64), 0.0, 1.0 - 1e-9)
    if allocate is not None and service_measure == "cycle":
        one = over_lr.collapsed()
        level = np.clip(np.asarray(allocate(one.mean, one.size), dtype=np.float64), 0.0, 1.0 - 1e-9)
    if service_measure == "cycle" and independent_lead_times:
        target = level - 1e-12
        order_up_to = np.zeros(n)
        for shortfall in _outstanding_mixtures(cum_mean, cum_sq, inv_size, inv_level, pmf, review):
            order_up_to = np.maximum(order_up_to, _quantile(shortfall, target))
        reorder_point = _smallest(*over_l.bracket(target), lambda x, r: over_l.cdf(x, r) >= target)
    elif service_measure == "fill_rate":
        allowed = (1.0 - level) * cum_mean[np.arange(n), review]
        start = np.full(n, -1.0)
        order_up_to = _smallest(start, over_lr.upper_bound(), lambda x, r: over_lr.loss(x, r) <= allowed + 1e-9)
        share = np.minimum(over_lr.cdf(order_up_to), 1.0 - 1e-9) - 1e-12
        reorder_point = _smallest(*over_l.bracket(share), lambda x, r: over_l.cdf(x, r) >= share)
    else:
        target = level - 1e-12
        order_up_to = _smallest(*over_lr.bracket(target), lambda x, r: over_lr.cdf(x, r) >= target)
        reorder_point = _smallest(*over_l.bracket(target), lambda x, r: over_l.cdf(x, r) >= target)
    mean_lr = over_lr.expectation()
    return PolicyLevels(
        reorder_point=reorder_point,
        safety_stock=np.maximum(order_up_to - mean_lr, 0.0),
        order_up_to=order_up_to,
        mean_protection_demand=mean_lr,
        service_level=level,
    )


def _quantile(mix: _Mixture, level: np.ndarray) -> np.ndarray:
    """Each row's smallest whole x with P(X <= x) >= level."""
    return _smallest(*mix.bracket(level), lambda x, r: mix.cdf(x, r) >= level)


def outstanding_order_pmf(lead_time_pmf: np.ndarray, *, review_period_days: np.ndarray, phase: int) -> np.ndarray:
    """(n, J + 1) pmf of how many review periods' demand is still waiting for its order ``phase`` days into a
    review cycle, when every order's lead time is an independent draw from ``lead_time_pmf``.

    Periodic review up to S orders at each review what the last review period sold. At day ``phase`` (1..R)
    after a review, the order placed ``j`` reviews before that one is still out when its lead time is at
    least ``phase + j * R`` days (the lead-time convention of the ``L + R`` interval: an order of lead time
    ``L`` is still out after ``L`` days). With independent lead times the count of outstanding orders is
    Poisson-binomial over those probabilities, and the shortfall the position must cover is the demand of
    ``phase + N * R`` days. With a certain lead time ``L`` the phase ``L mod R`` (R when 0) gives exactly
    ``L + R`` days; a variable lead time makes late orders overlap with the next ones (orders cross)
    instead of making the whole pipeline late at once.

    Example:
        >>> outstanding_order_pmf(np.array([[0, 0, 0, 1.0]]), review_period_days=np.array([7]), phase=3)
        array([[0., 1.]])
    """
    pmf = np.asarray(lead_time_pmf, dtype=np.float64)
    n, k = pmf.shape
    review = np.maximum(np.asarray(review_period_days, dtype=np.int64), 1)
    at_least = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]  # P(L >= l), l = 0..K-1
    at_least = np.concatenate([at_least, np.zeros((n, 1))], axis=1)
    blocks = int(np.max(np.ceil(np.maximum(k - phase, 0) / review))) if n else 0
    out = np.zeros((n, blocks + 1))
    out[:, 0] = 1.0
    for j in range(blocks):
        p = at_least[np.arange(n), np.minimum(phase + j * review, k)]
        shifted = np.zeros_like(out)
        shifted[:, 1:] = out[:, :-1]
        out = out * (1.0 - p)[:, None] + shifted * p[:, None]
    return out


def _outstanding_mixtures(
    cum_mean: np.ndarray,
    cum_sq: np.ndarray,
    inv_size: np.ndarray,
    inv_level: np.ndarray,
    pmf: np.ndarray,
    review: np.ndarray,
) -> list[_Mixture]:
    """Per phase 1..R of the review cycle, each row's demand waiting for outstanding orders (a mixture over
    their count, :func:`outstanding_order_pmf`); rows with a shorter R repeat their last phase."""
    n = len(cum_mean)
    longest = cum_mean.shape[1] - 1
    out = []
    for phase in range(1, int(review.max()) + 1):
        ph = np.minimum(phase, review)
        counts = np.zeros((n, 1))
        for r in np.unique(ph):
            rows_r = ph == r
            c = outstanding_order_pmf(pmf[rows_r], review_period_days=review[rows_r], phase=int(r))
            if c.shape[1] > counts.shape[1]:
                counts = np.pad(counts, ((0, 0), (0, c.shape[1] - counts.shape[1])))
            counts[rows_r, : c.shape[1]] = c
        counts = np.where(counts > PMF_FLOOR, counts, 0.0)
        counts = counts / counts.sum(axis=1, keepdims=True)
        rows, k = np.nonzero(counts)
        days = np.minimum(ph[rows] + k * review[rows], longest)
        out.append(_mixture(cum_mean, cum_sq, inv_size, inv_level, rows, days, counts[rows, k]).grouped())
    return out
