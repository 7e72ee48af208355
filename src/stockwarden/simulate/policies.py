"""The ordering policies a simulation compares (all see only the simulated past, but hindsight).

* ``reorder_level``: the ERP's fixed min/max. On a review day, when the inventory position is at or
  under ``min``, order up to ``max``. ``min``/``max`` are the company's own (the dataset's optional
  ``reorder_rules`` table), else set once from the year before the start the way an ERP consultant
  does: with ``d`` and ``s`` the mean and standard deviation of daily sales that year, ``L`` the stated
  lead time and ``R`` the review period, ``min = d (L + R) + k s sqrt(L + R)`` and ``max = min + d R``.
  The knob is the safety factor ``k``; with company rules it is a multiplier of their min and max
  (1 = as the ERP has them). The levels never change during the simulation: that is the point.
* ``days_of_cover``: with ``a`` the mean daily sales of the last 28 days, when the position covers
  fewer than ``L + R`` days, order up to ``max(N, L + R)`` days of ``a``. The knob is ``N``.
* ``textbook``: periodic review, order up to the service-level quantile of a negative binomial of
  demand over ``L + R`` days, mean ``a (L + R)`` (``a`` from the last 28 days of sales), variance
  ``v (L + R)`` with ``v`` the daily variance of the last 91 days (at least the mean: Poisson when
  the sales are not over-dispersed). The knob is the service level.
* ``hindsight``: knows the future: orders exactly the demand of the ``L + R + k`` days after today
  (``L`` the real lead time of this very order) minus the position, scaled up by the delivery's fill
  ratio. The knob is the extra days ``k``: a curve of the best any policy could do.
* ``stockwarden``: the product's daily job as a company runs it: the assessment of the simulated
  dataset (forecast, lead times, risk; see :class:`StockwardenPolicy`) and the order proposals,
  every line approved. The knob is the service level (every class and category); ``"rules"`` keeps
  the rules in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import Dataset
from stockwarden.simulate.engine import DayView
from stockwarden.simulate.world import KEYS, World

AVERAGE_DAYS = 28
VARIANCE_DAYS = 91

POLICY_NAMES: tuple[str, ...] = ("stockwarden", "reorder_level", "days_of_cover", "textbook", "hindsight")

DEFAULT_KNOBS: dict[str, float | str] = {
    "stockwarden": "rules",
    "reorder_level": 1.65,
    "days_of_cover": 28.0,
    "textbook": 0.95,
    "hindsight": 0.0,
}
"""The knob of each policy when not sweeping (reorder_level with company rules: 1.0)."""

SWEEPS: dict[str, tuple[float, ...]] = {
    "stockwarden": (0.75, 0.85, 0.92, 0.96, 0.985),
    "reorder_level": (0.0, 0.5, 1.0, 1.65, 2.5, 3.5, 5.0),
    "days_of_cover": (14.0, 21.0, 28.0, 35.0, 42.0, 56.0, 70.0),
    "textbook": (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.9995),
    "hindsight": (0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0),
}
"""Knob values of ``--sweep`` per policy."""

COMPANY_RULE_SWEEP: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
"""Multipliers of the company's own min/max swept by ``reorder_level`` when ``reorder_rules`` exists."""


def _mean_last(sales: np.ndarray, days: int) -> np.ndarray:
    return sales[:, -days:].mean(axis=1) if sales.shape[1] else np.zeros(len(sales))


@dataclass
class ReorderLevelPolicy:
    """The ERP's fixed min/max (see the module docstring)."""

    knob: float = 1.65
    rules: pd.DataFrame | None = None
    name: str = "reorder_level"
    min_qty: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_qty: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def bind(self, world: World) -> None:
        """Set min and max once from the company's rules or the year before the start."""
        self.min_qty, self.max_qty = reorder_levels(world, safety_factor=self.knob, company=self.rules)

    def order_qty(self, view: DayView) -> np.ndarray:
        """Up to max where the position is at or under min."""
        pos = view.position
        return np.where(pos <= self.min_qty + 1e-9, self.max_qty - pos, 0.0)


def reorder_levels(
    world: World, *, safety_factor: float, company: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(min, max)`` per SKU-location: the consultant's rule, or the company's scaled by ``safety_factor``.

    With ``company`` (``sku, location_id, min_qty, max_qty, safety_stock``) its rows replace the
    consultant's rule (computed with k = 1.65) and ``safety_factor`` multiplies them; ``max_qty``
    missing is ``min + d R``.
    """
    past = world.past_sales
    d = past.mean(axis=1) if past.shape[1] else np.zeros(world.n_series)
    s = past.std(axis=1, ddof=1) if past.shape[1] > 1 else np.zeros(world.n_series)
    cover = world.stated_lead_time_days + world.review_period_days
    k = 1.65 if company is not None else safety_factor
    lo = d * cover + k * s * np.sqrt(cover)
    hi = lo + d * world.review_period_days
    if company is None:
        return lo, hi
    c = world.keys.merge(company, on=KEYS, how="left")
    has = c["min_qty"].notna().to_numpy()
    cmin = c["min_qty"].to_numpy(float)
    cmax = c["max_qty"].to_numpy(float) if "max_qty" in c else np.full(len(c), np.nan)
    cmax = np.where(np.isnan(cmax), cmin + d * world.review_period_days, cmax)
    lo = np.where(has, cmin, lo) * safety_factor
    hi = np.where(has, np.maximum(cmax, cmin), hi) * safety_factor
    return lo, hi


@dataclass
class DaysOfCoverPolicy:
    """Order up to N days of the 28-day average when cover falls under lead time + review."""

    knob: float = 28.0
    name: str = "days_of_cover"
    cover_days: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def bind(self, world: World) -> None:
        """Lead time + review period per SKU-location."""
        self.cover_days = world.stated_lead_time_days + world.review_period_days

    def order_qty(self, view: DayView) -> np.ndarray:
        """Up to max(N, L + R) days of average sales when cover < L + R."""
        avg = _mean_last(view.sales, AVERAGE_DAYS)
        pos = view.position
        low = pos < avg * self.cover_days - 1e-9
        target = avg * np.maximum(float(self.knob), self.cover_days)
        return np.where(low, target - pos, 0.0)


def negative_binomial_quantile(mean: np.ndarray, variance: np.ndarray, level: float) -> np.ndarray:
    """The ``level`` quantile of a negative binomial with this mean and variance (Poisson when var <= mean)."""
    mean = np.asarray(mean, dtype=float)
    var = np.maximum(np.asarray(variance, dtype=float), mean)
    out = np.zeros_like(mean)
    pos = mean > 0
    over = pos & (var > mean * (1 + 1e-9))
    pois = pos & ~over
    if pois.any():
        out[pois] = stats.poisson.ppf(level, mean[pois])
    if over.any():
        m, v = mean[over], var[over]
        out[over] = stats.nbinom.ppf(level, m * m / (v - m), m / v)
    return out


@dataclass
class TextbookPolicy:
    """Periodic review up to a negative-binomial service-level quantile over lead time + review."""

    knob: float = 0.95
    name: str = "textbook"
    cover_days: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def bind(self, world: World) -> None:
        """Lead time + review period per SKU-location."""
        self.cover_days = world.stated_lead_time_days + world.review_period_days

    def order_qty(self, view: DayView) -> np.ndarray:
        """Order-up-to minus position, every review."""
        mean = _mean_last(view.sales, AVERAGE_DAYS) * self.cover_days
        recent = view.sales[:, -VARIANCE_DAYS:]
        var = (recent.var(axis=1, ddof=1) if recent.shape[1] > 1 else np.zeros(len(recent))) * self.cover_days
        up_to = negative_binomial_quantile(mean, var, float(self.knob))
        return np.maximum(up_to - view.position, 0.0)


@dataclass
class HindsightPolicy:
    """Knows the future demand and every delivery: the best possible (see the module docstring).

    On a review day it projects its stock with lost sales (today's stock, the receipts of its open
    orders when and as they will really come, the real demand), and orders what this order must
    bring at its real arrival so that nothing is short until the next review's order arrives
    (``k`` more days with the knob), divided by this delivery's fill ratio.
    """

    knob: float = 0.0
    name: str = "hindsight"
    world: World | None = None

    def bind(self, world: World) -> None:
        """Keep the world: this policy reads the future on purpose."""
        self.world = world

    def order_qty(self, view: DayView) -> np.ndarray:
        """Units that keep stock non-negative from this order's arrival to the next one's (+ k days)."""
        w = self.world
        assert w is not None  # bound before day 0
        t, last = view.day, w.n_days - 1
        pending: dict[int, list[tuple[int, float]]] = {}
        for line in w.open_lines:
            if line.arrival_day is not None and line.arrival_day > t:
                pending.setdefault(line.series, []).append((line.arrival_day, line.received_qty))
        for o in view.past.orders:
            if o.arrival_day > t:
                pending.setdefault(o.series, []).append((o.arrival_day, o.received_qty))
        out = np.zeros(w.n_series)
        for i in np.flatnonzero(view.due):
            lead, fill = w.deliveries.delivery(int(i), t)
            nxt = t + int(w.review_period_days[i])
            next_arrival = nxt + w.deliveries.delivery(int(i), nxt)[0] if nxt <= last else last + 1
            arrive = t + lead
            until = min(max(next_arrival - 1, arrive) + int(self.knob), last)
            if arrive > last:
                continue
            rec = np.zeros(last + 2)
            for day, q in pending.get(int(i), ()):
                if day <= last:
                    rec[day] += q
            stock = float(view.on_hand[i])
            need = 0.0
            for day in range(t + 1, until + 1):
                stock += rec[day]
                d = float(w.demand[i, day])
                if day < arrive:
                    stock = max(stock - d, 0.0)
                else:
                    stock -= d
                    need = max(need, -stock)
            if need > 0:
                out[i] = need / max(fill, 0.05)
        return out


AssessFn = Callable[[Dataset, pd.Timestamp, RulesConfig], pd.DataFrame]
"""``(dataset, as_of, rules) -> assessment frame``: the product's assessment of one day."""


@dataclass
class StockwardenPolicy:
    """The product's daily job: assessment of the simulated dataset, then order proposals, all approved.

    ``assess`` is the product's assessment of a dataset on a date (the CLI passes the daily run's);
    the proposals are :func:`stockwarden.actions.replenish.propose_orders` with the same rules.

    The engine calls it on the rules' review days, where the proposals top every SKU-location below its
    order-up-to level up to it (periodic review, :mod:`stockwarden.actions.replenish`).
    """

    assess: AssessFn
    rules: RulesConfig
    knob: float | str = "rules"
    name: str = "stockwarden"
    row_of: pd.Series | None = None
    assessments: int = 0

    def bind(self, world: World) -> None:
        """Index SKU-locations and set the knob's service level into the rules."""
        self.row_of = pd.Series(np.arange(world.n_series), index=pd.MultiIndex.from_frame(world.keys[KEYS]))
        if not isinstance(self.knob, str):
            level = float(self.knob)
            risk = self.rules.risk.model_copy(
                update={
                    "service_level": level,
                    "service_level_by_abc": {},
                    "service_level_by_category": {},
                }
            )
            self.rules = self.rules.model_copy(update={"risk": risk})

    def assessment(self, ds: Dataset, view: DayView) -> pd.DataFrame:
        """Today's assessment frame of the simulated dataset ``ds`` (the product's own)."""
        return self.assess(ds, view.date, self.rules)

    def order_qty(self, view: DayView) -> np.ndarray:
        """Approved proposal quantities of today's run."""
        from stockwarden.actions.replenish import propose_orders

        assert self.row_of is not None  # bound before day 0
        ds = view.dataset()
        frame = self.assessment(ds, view)
        self.assessments += 1
        proposal = propose_orders(frame, ds, as_of=view.date, rules=self.rules)
        out = np.zeros(len(self.row_of))
        for order in proposal.orders:
            for line in order.lines:
                i = self.row_of.get((line.sku, line.location_id))
                if i is not None:
                    out[int(i)] += float(line.qty)
        return out


def make_policy(
    name: str,
    knob: float | str | None = None,
    *,
    assess: AssessFn | None = None,
    rules: RulesConfig | None = None,
    company_rules: pd.DataFrame | None = None,
) -> ReorderLevelPolicy | DaysOfCoverPolicy | TextbookPolicy | HindsightPolicy | StockwardenPolicy:
    """A policy by name with its knob (``None``: the default knob).

    Raises:
        ValueError: for an unknown name, or ``stockwarden`` without ``assess``.
    """
    if name not in POLICY_NAMES:
        raise ValueError(f"unknown policy {name!r}; expected one of {', '.join(POLICY_NAMES)}")
    k = DEFAULT_KNOBS[name] if knob is None else knob
    if name == "reorder_level":
        if knob is None and company_rules is not None:
            k = 1.0
        return ReorderLevelPolicy(knob=float(k), rules=company_rules)
    if name == "days_of_cover":
        return DaysOfCoverPolicy(knob=float(k))
    if name == "textbook":
        return TextbookPolicy(knob=float(k))
    if name == "hindsight":
        return HindsightPolicy(knob=float(k))
    if assess is None:
        raise ValueError("the stockwarden policy needs the product's assessment function")
    return StockwardenPolicy(assess=assess, rules=rules or RulesConfig(), knob=k)


def sweep_knobs(name: str, *, has_company_rules: bool = False) -> tuple[float, ...]:
    """Knob values ``--sweep`` runs for a policy."""
    if name == "reorder_level" and has_company_rules:
        return COMPANY_RULE_SWEEP
    return SWEEPS[name]
