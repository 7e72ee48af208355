"""Dynamic safety stock, reorder point and order-up-to level per SKU-location.

Two ways, both vectorised over SKU-locations:

* **Normal approximation** (Silver, Pyke & Thomas; Chopra & Meindl ch. 12), for a protection interval
  of ``L`` days with daily demand ``d ± sigma_d`` and lead time ``L ± sigma_L``::

      SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2),    ROP = d * L + SS

  with ``z = Phi^-1(CSL)`` for a cycle service level, or, for a fill-rate target ``beta`` and order
  quantity ``Q``, the ``k`` that solves ``sigma * G(k) = (1 - beta) * Q`` with the standard normal loss
  function ``G(k) = phi(k) - k * (1 - Phi(k))``.
* **Simulation** (the general case used by the assessment): demand over a random lead time is read
  from the forecast's sample paths with a lead time drawn per path from the lead-time model's pmf;
  the reorder point is its service-level quantile over ``L``, the order-up-to level over ``L + R``,
  and SS = order-up-to - mean demand over ``L + R``. For a fill rate the order-up-to level is the
  smallest candidate whose expected shortage E[(X - S)+] is at most (1 - beta) * E[demand over R].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

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
    """

    reorder_point: np.ndarray
    safety_stock: np.ndarray
    order_up_to: np.ndarray
    mean_protection_demand: np.ndarray


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
