"""The closed loop: day by day, receipts arrive, demand comes, sales happen, policies order.

Day ``t`` of a simulation (vectorised over SKU-locations):

1. receipts: lines arriving on ``t`` add their received quantity to on hand (the whole ordered
   quantity leaves "on order", so a short delivery is not waited for);
2. demand: ``sales = min(demand + backlog, on hand)``; with lost sales (the default) unmet demand is
   gone, with ``backorders=True`` it waits as a backlog served first the next days;
3. shrink: with ``shrink_rate`` > 0 one unit of a SKU-location's remaining stock is lost on the days
   its shrink draw falls under the rate (the same days for every policy);
4. review: on a SKU-location's review days (every ``review_period_days`` from its first review day,
   the rules' review schedule, the same for every policy) the policy sees the end of day ``t`` and says
   how much to order; the quantity is rounded up to whole packs and at least the MOQ, and arrives as
   the delivery model says.

A policy sees only :class:`DayView`: the simulated past (and the real past before the start). It is
never given the demand of ``t + 1`` or later, except the ``hindsight`` policy, which is built with it
on purpose. Units are conserved every day: ``start + receipts - sales - shrink = end``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.policy import round_order_qty
from stockwarden.simulate.world import KEYS, World


@dataclass(frozen=True)
class PlacedOrder:
    """One order line placed by a policy in the simulation."""

    day: int
    series: int
    qty: float
    arrival_day: int
    received_qty: float


@dataclass
class SimulatedPast:
    """What the simulated company recorded so far: sales, end-of-day counts and its own orders."""

    world: World
    sales: np.ndarray
    on_hand_end: np.ndarray
    orders: list[PlacedOrder] = field(default_factory=list)

    def dataset(self, day: int) -> Dataset:
        """The company's dataset as known at the end of simulated ``day`` (the real past before it)."""
        w = self.world
        known = w.known
        date = w.dates[day]
        nd = day + 1
        skus = w.keys["sku"].to_numpy()
        locs = w.keys["location_id"].to_numpy()
        r, c = np.nonzero(self.sales[:, :nd] > 0)
        sales = pd.DataFrame(
            {
                "date": w.dates[c],
                "sku": skus[r],
                "qty": self.sales[r, c],
                "location_id": locs[r],
                "price": w.price[r],
                "on_promotion": 0.0,
            }
        )
        grid_r, grid_c = np.meshgrid(np.arange(w.n_series), np.arange(nd), indexing="ij")
        rr, cc = grid_r.ravel(), grid_c.ravel()
        counts = pd.DataFrame(
            {"date": w.dates[cc], "sku": skus[rr], "on_hand": self.on_hand_end[rr, cc], "location_id": locs[rr]}
        )
        mine = [o for o in self.orders if o.day <= day]
        po = pd.DataFrame(
            {
                "po_id": [f"SIM-{o.day:04d}-{o.series:05d}" for o in mine],
                "sku": skus[[o.series for o in mine]] if mine else [],
                "qty": [o.qty for o in mine],
                "order_date": w.dates[[o.day for o in mine]] if mine else pd.DatetimeIndex([]),
                "location_id": locs[[o.series for o in mine]] if mine else [],
                "supplier_id": w.supplier_id[[o.series for o in mine]] if mine else [],
                "line_no": 1.0,
                "promised_date": (
                    w.dates[[o.day for o in mine]]
                    + pd.to_timedelta(np.ceil(w.stated_lead_time_days[[o.series for o in mine]]), unit="D")
                    if mine
                    else pd.DatetimeIndex([])
                ),
                "received_date": [w.dates[0] + pd.Timedelta(days=o.arrival_day) for o in mine],
                "received_qty": [o.received_qty for o in mine],
                "status": "received",
            }
        )
        full = replace(
            known,
            sales=pd.concat([known.sales, sales], ignore_index=True),
            inventory=pd.concat([known.inventory, counts], ignore_index=True),
            purchase_orders=pd.concat([w.real_purchase_orders, po], ignore_index=True)
            if mine
            else w.real_purchase_orders,
        )
        return full.as_of(date)


@dataclass(frozen=True)
class DayView:
    """What a policy sees at the end of simulated day ``day`` (nothing later).

    Attributes:
        day: simulated day index (0 = start); date: its date.
        on_hand, on_order, backlog: (n,) end-of-day stock, units ordered not yet received, unmet
            demand waiting (backorder mode).
        due: (n,) SKU-locations whose review day it is.
        sales: (n, P + day + 1) daily sales: the real year before the start, then the simulated days.
        past: the recorded past; ``past.dataset(day)`` is the company's dataset as known today.
    """

    day: int
    date: pd.Timestamp
    on_hand: np.ndarray
    on_order: np.ndarray
    backlog: np.ndarray
    due: np.ndarray
    sales: np.ndarray
    past: SimulatedPast

    @property
    def position(self) -> np.ndarray:
        """Inventory position: on hand + on order - backlog."""
        return self.on_hand + self.on_order - self.backlog

    def dataset(self) -> Dataset:
        """The company's dataset as known at the end of this day."""
        return self.past.dataset(self.day)


class Policy(Protocol):
    """An ordering policy: called on review days, returns the units wanted per SKU-location."""

    name: str
    knob: float | str

    def bind(self, world: World) -> None:
        """Read the item facts it needs before day 0 (a policy other than hindsight reads no demand)."""
        ...

    def order_qty(self, view: DayView) -> np.ndarray:
        """Units wanted per SKU-location (only ``view.due`` rows are used; rounded by the simulation)."""
        ...


@dataclass(frozen=True)
class SimulationResult:
    """Daily arrays of one policy's world, (n, T) each, and its orders.

    ``demand`` is the day's new demand; ``served`` the units of it served that day; ``sales`` every
    unit sold that day (backlog included); ``unmet`` demand (new + backlog) left unserved at the end
    of the day; ``on_hand_end`` the end-of-day stock; ``receipts`` units received; ``shrink`` units lost.
    """

    policy: str
    knob: float | str
    demand: np.ndarray
    served: np.ndarray
    sales: np.ndarray
    unmet: np.ndarray
    on_hand_start: np.ndarray
    on_hand_end: np.ndarray
    receipts: np.ndarray
    shrink: np.ndarray
    orders: tuple[PlacedOrder, ...]
    backorders: bool


ProgressFn = Callable[[int], None]


def simulate(
    world: World,
    policy: Policy,
    *,
    backorders: bool = False,
    shrink_rate: float = 0.0,
    progress: ProgressFn | None = None,
) -> SimulationResult:
    """Run ``policy`` on ``world`` from day 0 to the last day.

    Args:
        world: the simulated company (:func:`stockwarden.simulate.world.build_world`).
        policy: the ordering policy.
        backorders: unmet demand waits (True) instead of being lost (False, the default).
        shrink_rate: daily probability that one unit of a SKU-location's stock is lost.
        progress: called with the number of days done after each day.

    Returns:
        The daily arrays and the orders placed.
    """
    n, t_days = world.n_series, world.n_days
    policy.bind(world)
    on_hand = world.on_hand_start.astype(float).copy()
    on_order = np.zeros(n)
    backlog = np.zeros(n)
    arrive_qty = np.zeros((n, t_days + 1))
    leave_order = np.zeros((n, t_days + 1))
    for line in world.open_lines:
        on_order[line.series] += line.qty
        if line.arrival_day is not None:
            arrive_qty[line.series, line.arrival_day] += line.received_qty
            leave_order[line.series, line.arrival_day] += line.qty
    shape = (n, t_days)
    served, sales, unmet, end, receipts, shrink = (np.zeros(shape) for _ in range(6))
    p = world.past_sales.shape[1]
    sales_all = np.concatenate([world.past_sales, np.zeros(shape)], axis=1)
    past = SimulatedPast(world=world, sales=sales, on_hand_end=end)
    for t in range(t_days):
        got = arrive_qty[:, t]
        on_hand += got
        on_order -= leave_order[:, t]
        receipts[:, t] = got
        d = world.demand[:, t]
        from_backlog = np.minimum(backlog, on_hand)
        new = np.minimum(d, on_hand - from_backlog)
        sold = from_backlog + new
        on_hand -= sold
        left = backlog + d - sold
        backlog = left if backorders else np.zeros(n)
        lost = (world.shrink_draws[:, t] < shrink_rate) & (on_hand >= 1.0)
        on_hand -= lost
        served[:, t], sales[:, t], unmet[:, t], end[:, t], shrink[:, t] = new, sold, left, on_hand, lost
        sales_all[:, p + t] = sold
        due = world.review_due(t)
        if due.any():
            view = DayView(
                day=t,
                date=world.dates[t],
                on_hand=on_hand.copy(),
                on_order=on_order.copy(),
                backlog=backlog.copy(),
                due=due,
                sales=sales_all[:, : p + t + 1],
                past=past,
            )
            want = np.where(due, np.nan_to_num(np.asarray(policy.order_qty(view), dtype=float)), 0.0)
            qty = round_order_qty(want, pack_size=world.pack_size, moq=world.moq)
            for i in np.flatnonzero(qty > 0):
                lead, fill = world.deliveries.delivery(int(i), t)
                got_qty = float(np.floor(qty[i] * fill + 1e-9))
                arrival = t + lead
                past.orders.append(PlacedOrder(t, int(i), float(qty[i]), arrival, got_qty))
                on_order[i] += qty[i]
                if arrival < t_days:
                    arrive_qty[i, arrival] += got_qty
                    leave_order[i, arrival] += qty[i]
        if progress is not None:
            progress(t + 1)
    return SimulationResult(
        policy=policy.name,
        knob=policy.knob,
        demand=world.demand,
        served=served,
        sales=sales,
        unmet=unmet,
        on_hand_start=world.on_hand_start.astype(float),
        on_hand_end=end,
        receipts=receipts,
        shrink=shrink,
        orders=tuple(past.orders),
        backorders=backorders,
    )


def orders_frame(world: World, result: SimulationResult) -> pd.DataFrame:
    """The orders of a result: ``order_date, sku, location_id, supplier_id, qty, arrival_date, received_qty``."""
    o = result.orders
    idx = [x.series for x in o]
    return pd.DataFrame(
        {
            "order_date": world.dates[[x.day for x in o]] if o else pd.DatetimeIndex([]),
            "sku": world.keys["sku"].to_numpy()[idx],
            "location_id": world.keys["location_id"].to_numpy()[idx],
            "supplier_id": world.supplier_id[idx],
            "qty": [x.qty for x in o],
            "arrival_date": [world.dates[0] + pd.Timedelta(days=x.arrival_day) for x in o],
            "received_qty": [x.received_qty for x in o],
        }
    )


__all__ = ["KEYS", "DayView", "PlacedOrder", "Policy", "SimulatedPast", "SimulationResult", "orders_frame", "simulate"]
