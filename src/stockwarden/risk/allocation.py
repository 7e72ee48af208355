"""Service levels per SKU-location by marginal analysis: a category's target spent where it buys most.

A flat service level per category spends safety stock where each unit of inventory value buys little
(fast, cheap-to-miss items) and starves items where it buys much. The classic remedy (Silver, Pyke &
Thomas, *Inventory and Production Management*, sec. 7.7 "the marginal analysis of safety stocks";
Gallego, Katircioglu & Ramachandran on allocating an aggregate service target) keeps the category's
*aggregate* target and chooses the levels of its items so that the last unit of inventory value spent on
each buys the same reduction of the shortage measure.

**Model.** For item ``i`` with order-up-to ``S`` (units), ``X`` its demand over lead time + review period
(the one negative binomial with the mixture's mean and variance), unit cost ``c`` and weight ``w`` (what
one unit short costs in the measure chosen), the expected shortage per review cycle is
``w E[(X - S)+]`` and each extra unit of ``S`` costs ``c`` of inventory and saves ``w P(X > S)``.
Minimising the category's inventory value ``sum c S`` subject to its expected shortage
``sum w E[(X - S)+]`` staying at most what the flat levels give (the category's target) is a convex
separable problem; its Lagrange (marginal) condition is ``w P(X > S) = lambda c``, i.e.

    service level of i = 1 - lambda * c_i / w_i,   clipped to [floor, ceiling],

with one ``lambda`` per category, found by bisection so that the target is just met (the greedy "next
unit to the best ratio" of marginal analysis reaches the same point). Two measures (``w``):

* ``stockout_days``: every SKU-location-day out of stock counts the same (on-shelf availability, the
  measure the simulation reports). A unit short lasts ``1 / d`` days for an item selling ``d`` a day,
  so ``w = 1 / d``: ``service level = 1 - lambda c d``: the less a day of an item's demand is worth at
  cost, the cheaper each day of availability, and the higher its level.
* ``lost_sales``: every unit short costs its selling price ``p`` (else its cost), ``w = p``: ``service
  level = 1 - lambda c / p``, the newsvendor's critical ratio: items with a higher markup get a higher
  level; with one markup for all it is the flat level again.

Rows without demand, rows whose level the item sets itself (``items.service_level``) and categories
whose target cannot be met inside the bounds keep their flat level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALLOCATION_MEASURES = ("flat", "stockout_days", "lost_sales")
"""Values of ``risk.service_allocation``."""

_LOG_TOLERANCE = 1e-3
"""Bisection on log(lambda) stops when lambda is known within 0.1% (levels move by far less than a unit)."""


@dataclass(frozen=True, slots=True)
class AllocationInputs:
    """What the allocation needs per SKU-location (arrays of length n).

    Attributes:
        group: category (or any label): each group keeps its own target.
        unit_cost: money per unit (NaN: the group's median cost, else 1).
        weight: what one unit short costs in the chosen measure (``1 / daily demand`` or the price);
            NaN or <= 0 excludes the row.
        fixed: rows whose level must not move (an item's own service level).
    """

    group: np.ndarray
    unit_cost: np.ndarray
    weight: np.ndarray
    fixed: np.ndarray


def nb_quantile(mean: np.ndarray, size: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Smallest whole ``S`` with ``P(X <= S) >= level`` for ``X ~ NB(mean, size)`` (Poisson where size is inf)."""
    mean = np.asarray(mean, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    level = np.clip(np.asarray(level, dtype=np.float64), 0.0, 1.0 - 1e-12)
    out = np.zeros_like(mean)
    nb = (mean > 0) & np.isfinite(size) & (size > 0)
    po = (mean > 0) & ~nb
    if nb.any():
        out[nb] = stats.nbinom.ppf(level[nb], size[nb], size[nb] / (size[nb] + mean[nb]))
    if po.any():
        out[po] = stats.poisson.ppf(level[po], mean[po])
    return out


def nb_loss(mean: np.ndarray, size: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Expected shortage ``E[(X - s)+]`` of ``X ~ NB(mean, size)`` at whole ``s >= 0`` (Poisson where size is inf).

    Uses ``E[X 1{X > s}] = mean * P(X' >= s)`` with ``X'`` the negative binomial of size ``size + 1``
    and the same success probability (for Poisson ``X' = X + 1``).
    """
    mean = np.asarray(mean, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
    out = np.zeros_like(mean)
    nb = (mean > 0) & np.isfinite(size) & (size > 0)
    po = (mean > 0) & ~nb
    if nb.any():
        r, m, x = size[nb], mean[nb], s[nb]
        p = r / (r + m)
        out[nb] = m * stats.nbinom.sf(x - 1, r + 1, p) - x * stats.nbinom.sf(x, r, p)
    if po.any():
        m, x = mean[po], s[po]
        out[po] = m * stats.poisson.sf(x - 1, m) - x * stats.poisson.sf(x, m)
    return np.maximum(out, 0.0)


def allocate_service_levels(
    *,
    mean: np.ndarray,
    size: np.ndarray,
    flat_level: np.ndarray,
    inputs: AllocationInputs,
    floor: float,
    ceiling: float,
) -> np.ndarray:
    """Per-row cycle service levels meeting each group's flat target at the least inventory value.

    Args:
        mean: (n,) mean demand over lead time + review period.
        size: (n,) negative-binomial size of that demand (``inf`` = Poisson).
        flat_level: (n,) the level each row gets without allocation (category, class or default).
        inputs: groups, unit costs, weights and fixed rows (:class:`AllocationInputs`).
        floor: lowest level any row may get.
        ceiling: highest level any row may get.

    Returns:
        (n,) levels: per group, ``1 - lambda c / w`` clipped to ``[floor, ceiling]`` with the largest
        ``lambda`` whose expected shortage ``sum w E[(X - S)+]`` is at most the flat levels'; the flat
        level where the row is excluded (see the module docstring).

    Example:
        Two items with the same demand, one ten times dearer: the dear one gets the lower level, and
        together they hold less inventory value for the same expected stockout days.
    """
    flat = np.asarray(flat_level, dtype=np.float64)
    out = flat.copy()
    mean = np.asarray(mean, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    weight = np.asarray(inputs.weight, dtype=np.float64)
    cost = _filled_costs(inputs.group, np.asarray(inputs.unit_cost, dtype=np.float64))
    active = (mean > 0) & np.isfinite(weight) & (weight > 0) & ~np.asarray(inputs.fixed, dtype=bool)
    groups = np.asarray(inputs.group, dtype=object)
    for g in np.unique(groups[active].astype(str)):
        rows = np.flatnonzero(active & (groups.astype(str) == g))
        out[rows] = _allocate_group(mean[rows], size[rows], flat[rows], cost[rows], weight[rows], floor, ceiling)
    return out


def _allocate_group(
    mean: np.ndarray,
    size: np.ndarray,
    flat: np.ndarray,
    cost: np.ndarray,
    weight: np.ndarray,
    floor: float,
    ceiling: float,
) -> np.ndarray:
    """One group's levels (see :func:`allocate_service_levels`)."""
    target = float((weight * nb_loss(mean, size, nb_quantile(mean, size, flat))).sum())
    ratio = cost / weight  # level = 1 - lambda * ratio

    def levels(log_lam: float) -> np.ndarray:
        return np.clip(1.0 - np.exp(log_lam) * ratio, floor, ceiling)

    def shortage(log_lam: float) -> float:
        lv = levels(log_lam)
        return float((weight * nb_loss(mean, size, nb_quantile(mean, size, lv))).sum())

    # lambda small: every row at the ceiling (least shortage); large: every row at the floor
    lo = float(np.log((1.0 - ceiling) / ratio.max()))
    hi = float(np.log((1.0 - floor) / ratio.min()))
    if shortage(lo) > target + 1e-9:
        return flat  # the target cannot be met inside the bounds: keep the flat levels
    if shortage(hi) <= target + 1e-9:
        lo = hi
    else:
        while hi - lo > _LOG_TOLERANCE:
            mid = 0.5 * (lo + hi)
            if shortage(mid) <= target + 1e-9:
                lo = mid
            else:
                hi = mid
    out = levels(lo)
    # an item the allocation leaves at its flat order-up-to keeps its flat level (not a lower level in
    # the same whole unit, which the exact lead-time mixture could read as one unit less)
    same = nb_quantile(mean, size, out) == nb_quantile(mean, size, flat)
    return np.where(same, flat, out)


def _filled_costs(group: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Unit costs with gaps filled by the group's median cost (else 1: the allocation is then in units)."""
    out = np.where(np.isfinite(cost) & (cost > 0), cost, np.nan)
    g = np.asarray(group, dtype=object).astype(str)
    for label in np.unique(g):
        rows = g == label
        known = out[rows][np.isfinite(out[rows])]
        fill = float(np.median(known)) if len(known) else 1.0
        out[rows] = np.where(np.isfinite(out[rows]), out[rows], fill)
    return out


def make_allocator(
    *,
    measure: str,
    flat_level: np.ndarray,
    group: np.ndarray,
    unit_cost: np.ndarray,
    price: np.ndarray,
    protection_days: np.ndarray,
    fixed: np.ndarray,
    floor: float,
    ceiling: float,
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The ``allocate`` hook of :func:`stockwarden.risk.policy.protection_policy` for ``measure``.

    Args:
        measure: ``"stockout_days"`` (weight ``1 / daily demand``, the daily demand being the mean over
            the protection interval divided by its expected length ``protection_days``) or
            ``"lost_sales"`` (weight: the selling price, else the unit cost).
        flat_level, group, unit_cost, fixed, floor, ceiling: as in :func:`allocate_service_levels`.
        price: (n,) mean selling price (NaN: unknown).
        protection_days: (n,) expected lead time + review period in days.

    Raises:
        ValueError: for a measure other than the two above.
    """
    if measure not in ("stockout_days", "lost_sales"):
        raise ValueError(f"unknown service allocation {measure!r}; expected one of {', '.join(ALLOCATION_MEASURES)}")
    cost = np.asarray(unit_cost, dtype=np.float64)
    value = np.asarray(price, dtype=np.float64)
    value = np.where(np.isfinite(value) & (value > 0), value, cost)

    def allocate(mean: np.ndarray, size: np.ndarray) -> np.ndarray:
        if measure == "stockout_days":
            weight = np.where(mean > 0, np.asarray(protection_days, dtype=np.float64) / np.maximum(mean, 1e-12), np.nan)
        else:
            weight = value
        inputs = AllocationInputs(group=group, unit_cost=cost, weight=weight, fixed=fixed)
        return allocate_service_levels(
            mean=mean, size=size, flat_level=flat_level, inputs=inputs, floor=floor, ceiling=ceiling
        )

    return allocate
