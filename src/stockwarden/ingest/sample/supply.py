"""The sample company's replenishment: a periodic-review (s, S) policy run day by day over all series.

Every review day of a supplier (some reviews are forgotten), each of its items at a location whose
inventory position (on hand + on order) is below ``s = d * (L + safety)`` is ordered up to
``S = d * (L + R + safety)``, rounded up to the pack size and at least the MOQ, where ``d`` is the
company's naive demand estimate: an exponentially weighted average of past *sales* (so stockouts bias
it down, as in real life). Deliveries are late, early, short, very late or cancelled according to the
supplier's profile; suppliers shut down around Spring Festival. Sales are ``min(demand, on hand)``.
The loop runs over days; every step is vectorised over series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from stockwarden.ingest.sample.catalog import SUPPLIERS

_FORGET_REVIEW = 0.06  # share of reviews the planner skips
_P_CANCEL = 0.008  # order lines cancelled a few days after ordering
_P_VERY_LATE = 0.004  # a delivery that goes missing for weeks
_P_SHRINK = 0.002  # unrecorded loss (damage, theft) per series-day
_EWMA_ALPHA = 2 / (28 + 1)
_SHUTDOWN = (-2, 8)  # suppliers do not deliver from 2 days before to 8 days after Spring Festival


@dataclass(frozen=True, slots=True)
class Supply:
    """The simulated stock and supply.

    Attributes:
        on_hand: end-of-day stock per series and day.
        sales: units sold per series and day (``min(demand, stock)``).
        lines: one row per PO line: ``day, series, qty, arrival_day, received_qty, is_cancelled``
            (``arrival_day`` may lie beyond the history: the line is still open at the end).
    """

    on_hand: np.ndarray
    sales: np.ndarray
    lines: pd.DataFrame


def simulate_supply(
    items: pd.DataFrame,
    locations: pd.DataFrame,
    dates: pd.DatetimeIndex,
    demand: np.ndarray,
    launch_day: np.ndarray,
    shutdown_days: list[date],
    rng: np.random.Generator,
) -> Supply:
    """Run the replenishment policy over ``dates`` for every series (see the module docstring)."""
    n_items, n_loc = len(items), len(locations)
    n_series, n_days = demand.shape
    sup_pos = {s.supplier_id: k for k, s in enumerate(SUPPLIERS)}
    item_sup = items["supplier_id"].map(sup_pos).to_numpy()
    sup = np.repeat(item_sup, n_loc)
    loc = np.tile(np.arange(n_loc), n_items)
    group = sup * n_loc + loc
    sup_lt = np.array([s.lead_time_days for s in SUPPLIERS], dtype=float)
    lead = np.repeat(items["lead_time_days"].fillna(pd.Series(sup_lt[item_sup])).to_numpy(dtype=float), n_loc)
    review_period = np.array([7.0 * s.review_every_weeks / len(s.review_weekdays) for s in SUPPLIERS])[sup]
    pack = np.repeat(items["pack_size"].to_numpy(dtype=float), n_loc)
    moq = np.ceil(np.repeat(items["moq"].to_numpy(dtype=float), n_loc) / pack) * pack
    safety = np.repeat(items["safety_days"].to_numpy(), n_loc)
    launch = np.repeat(launch_day, n_loc)

    reviews = _review_calendar(dates, n_loc, rng)
    shift = _shutdown_shift(dates, shutdown_days, horizon=n_days + 200)
    late_sup = int(np.argmax([s.p_late for s in SUPPLIERS]))

    # The company's opening estimate: the average demand of each series' first four weeks of life.
    idx = launch[:, None] + np.arange(28)[None, :]
    est = np.take_along_axis(demand, np.minimum(idx, n_days - 1), axis=1).mean(axis=1) + 0.01
    opening = np.maximum(np.round(est * (lead + review_period + safety) * rng.uniform(0.7, 1.1, n_series)), pack)

    buffer = n_days + 260
    arr_qty = np.zeros((n_series, buffer))
    arr_ord = np.zeros((n_series, buffer))
    oh = np.where(launch == 0, opening, 0.0)
    oo = np.zeros(n_series)
    on_hand = np.empty((n_series, n_days))
    sales = np.empty((n_series, n_days))
    lines: list[tuple[np.ndarray, ...]] = []
    forced_stuck = False

    for t in range(n_days):
        oh += arr_qty[:, t]
        oo -= arr_ord[:, t]
        starting = np.equal(launch, t)
        if t and starting.any():
            oh[starting] = opening[starting]
        sold = np.minimum(demand[:, t], oh)
        oh -= sold
        shrink = np.less(rng.random(size=n_series), _P_SHRINK)
        if shrink.any():
            oh[shrink] -= np.minimum(oh[shrink], rng.integers(1, 3, size=shrink.sum()))
        # The planner learns from sales, but knows a day that ended empty may hide lost demand.
        learn = (launch <= t) & ((oh > 0) | (sold > est))
        est = np.where(learn, est + _EWMA_ALPHA * (sold - est), est)
        active = launch <= t
        sales[:, t] = sold
        on_hand[:, t] = oh

        ip = oh + oo
        reorder_level = np.maximum(est * (lead + safety), 1.0)
        order_up_to = est * (lead + review_period + safety)
        ordering = reviews[group, t] & active & (ip <= reorder_level)
        if not ordering.any():
            continue
        s_idx = np.flatnonzero(ordering)
        qty = np.ceil(np.maximum(order_up_to[s_idx] - ip[s_idx], 1.0) / pack[s_idx]) * pack[s_idx]
        qty = np.maximum(qty, moq[s_idx])
        delay = _delivery_delays(t, n_days, n_loc, rng)
        if not forced_stuck and t >= n_days - 1 - (SUPPLIERS[late_sup].lead_time_days + 40):
            # One delivery of the often-late supplier goes missing near the end: an overdue open PO.
            mine = s_idx[(sup[s_idx] == late_sup) & (loc[s_idx] == 0)]
            if len(mine):
                delay[late_sup * n_loc] = 60
                forced_stuck = True
        lt = np.maximum(lead[s_idx] + delay[group[s_idx]], 1.0).astype(int)
        arrival = shift[np.minimum(t + lt, len(shift) - 1)]
        received = qty.copy()
        prof_short = np.array([SUPPLIERS[k].p_short for k in sup[s_idx]])
        short = rng.random(len(s_idx)) < prof_short
        if short.any():
            lo_hi = np.array([SUPPLIERS[k].short_fraction for k in sup[s_idx][short]])
            frac = rng.uniform(lo_hi[:, 0], lo_hi[:, 1])
            received[short] = np.maximum(np.floor(qty[short] * frac), 1.0)
        cancelled = (rng.random(len(s_idx)) < _P_CANCEL) & (t < n_days - 10)
        oo[s_idx] += qty
        ok = ~cancelled & (arrival < buffer)
        np.add.at(arr_qty, (s_idx[ok], arrival[ok]), received[ok])
        np.add.at(arr_ord, (s_idx[ok], arrival[ok]), qty[ok])
        np.add.at(arr_ord, (s_idx[cancelled], t + 3), qty[cancelled])
        lines.append((np.full(len(s_idx), t), s_idx, qty, np.where(cancelled, -1, arrival), received, cancelled))

    cols = ("day", "series", "qty", "arrival_day", "received_qty", "is_cancelled")
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0, int), np.zeros(0), np.zeros(0, bool))
    parts = lines or [empty]
    frame = pd.DataFrame({c: np.concatenate([x[k] for x in parts]) for k, c in enumerate(cols)})
    return Supply(on_hand=on_hand, sales=sales, lines=frame)


def _review_calendar(dates: pd.DatetimeIndex, n_loc: int, rng: np.random.Generator) -> np.ndarray:
    """Review days per (supplier, location) group and day, with some reviews forgotten."""
    dow = dates.dayofweek.to_numpy()
    week = (np.arange(len(dates)) + dates[0].dayofweek) // 7
    out = np.zeros((len(SUPPLIERS) * n_loc, len(dates)), dtype=bool)
    for k, s in enumerate(SUPPLIERS):
        day = np.isin(dow, s.review_weekdays) & (week % s.review_every_weeks == 0)
        out[k * n_loc : (k + 1) * n_loc] = day[None, :]
    return out & (rng.random(out.shape) >= _FORGET_REVIEW)


def _delivery_delays(t: int, n_days: int, n_loc: int, rng: np.random.Generator) -> np.ndarray:
    """Days late (negative = early) of each (supplier, location) group's delivery ordered on day ``t``."""
    out = np.zeros(len(SUPPLIERS) * n_loc)
    for k, s in enumerate(SUPPLIERS):
        u = rng.random(n_loc)
        late = rng.integers(s.late_days[0], s.late_days[1] + 1, size=n_loc)
        d = np.where(u < s.p_late, late, np.where(u > 1 - s.p_early, -rng.integers(1, 3, size=n_loc), 0))
        if s.drift_window_days:
            frac = np.clip((t - (n_days - s.drift_window_days)) / s.drift_window_days, 0.0, 1.0)
            d = d + np.round(s.drift_days * frac + rng.normal(0, 1.0, n_loc) * frac)
        very_late = rng.random(n_loc) < _P_VERY_LATE * (1 + 2 * s.p_late)
        d = d + very_late * rng.integers(25, 60, size=n_loc)
        out[k * n_loc : (k + 1) * n_loc] = d
    return out


def _shutdown_shift(dates: pd.DatetimeIndex, shutdown_days: list[date], *, horizon: int) -> np.ndarray:
    """Map each day index to the day a delivery due then really arrives (after the festival shutdown)."""
    shift = np.arange(horizon)
    for d in shutdown_days:
        i0 = (pd.Timestamp(d) - dates[0]).days
        a, b = max(i0 + _SHUTDOWN[0], 0), min(i0 + _SHUTDOWN[1], horizon)
        if a < b:
            shift[a:b] = min(b, horizon - 1)
    return shift
