"""How new orders arrive in a simulation: each supplier's own realised behaviour around the date.

A new order placed on day ``t`` with supplier ``s`` borrows the outcome of one purchase-order line
that ``s`` really delivered around ``t``: the realised lead time (``received_date - order_date``,
so early arrivals, delays and drift over time come along) and the fill ratio
(``received_qty / qty``, so short deliveries do too). The line is picked with a uniform draw
``u[i, t]`` per SKU-location and day that is made once per simulation: every policy that orders
the same SKU-location on the same day gets the same delivery (common random numbers), so the
policies are compared on the same luck.

The window is the ``window_days`` either side of ``t`` (at least ``min_lines`` lines: it widens to
the nearest lines by order date when fewer). A supplier with no delivered line at all delivers in
full after its stated lead time (item, else supplier, else ``default_lead_time_days``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOW_DAYS = 60
MIN_LINES = 12


@dataclass(frozen=True, slots=True)
class SupplierHistory:
    """Delivered purchase-order lines of one supplier, sorted by order date.

    Attributes:
        order_day: day number (days since the epoch) of each line's order date.
        lead_time_days: realised lead time of each line (received - ordered), >= 0.
        fill_ratio: received / ordered of each line, in [0, 1].
    """

    order_day: np.ndarray
    lead_time_days: np.ndarray
    fill_ratio: np.ndarray


def realised_deliveries(purchase_orders: pd.DataFrame) -> dict[str, SupplierHistory]:
    """Every supplier's delivered lines (received, with a positive ordered quantity), by supplier id."""
    po = purchase_orders
    status = po["status"].fillna("").astype(str).str.lower()
    ok = po["received_date"].notna() & po["order_date"].notna() & (po["qty"] > 0) & (status != "cancelled")
    ok &= po["supplier_id"].notna()
    po = po.loc[ok]
    out: dict[str, SupplierHistory] = {}
    for sup, g in po.groupby("supplier_id", sort=True):
        g = g.sort_values("order_date", kind="stable")
        lead = (g["received_date"] - g["order_date"]).dt.days.to_numpy(float).clip(min=0)
        got = g["received_qty"].fillna(g["qty"]).to_numpy(float)
        fill = np.clip(got / g["qty"].to_numpy(float), 0.0, 1.0)
        day = (g["order_date"].to_numpy("datetime64[D]").astype(np.int64)).astype(np.int64)
        out[str(sup)] = SupplierHistory(order_day=day, lead_time_days=lead, fill_ratio=fill)
    return out


def pick_line(history: SupplierHistory, *, day: int, u: float, window_days: int, min_lines: int) -> int:
    """Index of the delivered line that uniform draw ``u`` picks among those ordered around ``day``."""
    lo = int(np.searchsorted(history.order_day, day - window_days, side="left"))
    hi = int(np.searchsorted(history.order_day, day + window_days, side="right"))
    n = len(history.order_day)
    if hi - lo < min(min_lines, n):
        # widen to the min_lines lines nearest in order date
        nearest = np.argsort(np.abs(history.order_day - day), kind="stable")[: min(min_lines, n)]
        window = np.sort(nearest)
        return int(window[min(int(u * len(window)), len(window) - 1)])
    return lo + min(int(u * (hi - lo)), hi - lo - 1)


@dataclass(frozen=True)
class DeliveryModel:
    """Delivery of a new order per SKU-location and order day, the same for every policy.

    Attributes:
        supplier_of: (n,) supplier id of each SKU-location (None: no supplier known).
        stated_lead_time_days: (n,) the lead time the planner is told (item, else supplier, else default).
        histories: delivered lines per supplier.
        draws: (n, T) uniform draws in [0, 1), one per SKU-location and simulated day.
        first_day: day number of simulated day 0.
        window_days, min_lines: the window of lines a draw picks from.
    """

    supplier_of: tuple[str | None, ...]
    stated_lead_time_days: np.ndarray
    histories: dict[str, SupplierHistory]
    draws: np.ndarray
    first_day: int
    window_days: int = WINDOW_DAYS
    min_lines: int = MIN_LINES

    def delivery(self, series: int, day: int) -> tuple[int, float]:
        """``(lead_time_days >= 1, fill_ratio)`` of an order of SKU-location ``series`` on simulated ``day``.

        An order is placed at the end of its day, so it arrives one day later at the earliest.
        """
        sup = self.supplier_of[series]
        hist = self.histories.get(sup) if sup is not None else None
        if hist is None or not len(hist.order_day):
            return max(1, round(float(self.stated_lead_time_days[series]))), 1.0
        k = pick_line(
            hist,
            day=self.first_day + day,
            u=float(self.draws[series, day]),
            window_days=self.window_days,
            min_lines=self.min_lines,
        )
        return max(1, round(float(hist.lead_time_days[k]))), float(hist.fill_ratio[k])
