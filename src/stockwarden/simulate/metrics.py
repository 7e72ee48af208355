"""What a simulated year cost and earned: the ``summary.csv`` columns, overall and per SKU-location.

* ``stockout_days``: SKU-location-days that ended with demand unmet;
* ``fill_rate``: share of demand served from stock the day it came;
* ``lost_sales_value``: units never served (lost, or still backordered at the end) at the selling
  price (mean price of the year before the start, else unit cost);
* ``avg_inventory_value``: mean over days of the end-of-day stock at unit cost;
* ``turnover``: cost of goods sold over the simulated period / average inventory value;
* ``orders``: purchase orders (one per supplier, location and day with at least one line);
* ``order_lines``: order lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.simulate.engine import SimulationResult
from stockwarden.simulate.world import World

SUMMARY_COLUMNS: tuple[str, ...] = (
    "policy",
    "knob",
    "stockout_days",
    "fill_rate",
    "lost_sales_value",
    "avg_inventory_value",
    "turnover",
    "orders",
    "order_lines",
)
"""The columns of ``summary.csv`` (a contract)."""


def _lost_units(result: SimulationResult) -> np.ndarray:
    """(n,) units never served: lost every day, or the backlog left at the end."""
    if result.backorders:
        return result.unmet[:, -1] if result.unmet.shape[1] else np.zeros(len(result.unmet))
    return result.unmet.sum(axis=1)


def per_series_metrics(world: World, result: SimulationResult) -> pd.DataFrame:
    """One row per SKU-location: the summary metrics (orders = distinct order days)."""
    demand = result.demand.sum(axis=1)
    served = result.served.sum(axis=1)
    inv_value = result.on_hand_end * world.unit_cost[:, None]
    avg_inv = inv_value.mean(axis=1) if inv_value.shape[1] else np.zeros(world.n_series)
    cogs = result.sales.sum(axis=1) * world.unit_cost
    lines = np.zeros(world.n_series, dtype=np.int64)
    for o in result.orders:
        lines[o.series] += 1
    out = world.keys.copy()
    out.insert(0, "knob", result.knob)
    out.insert(0, "policy", result.policy)
    out["stockout_days"] = (result.unmet > 1e-9).sum(axis=1)
    out["fill_rate"] = np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), 1.0)
    out["lost_sales_value"] = _lost_units(result) * world.price
    out["avg_inventory_value"] = avg_inv
    out["turnover"] = np.where(avg_inv > 0, cogs / np.where(avg_inv > 0, avg_inv, 1.0), np.nan)
    out["order_lines"] = lines
    out["demand_units"] = demand
    out["sales_units"] = result.sales.sum(axis=1)
    out["received_units"] = result.receipts.sum(axis=1)
    out["shrink_units"] = result.shrink.sum(axis=1)
    return out


def summary_row(world: World, result: SimulationResult) -> dict[str, object]:
    """The ``summary.csv`` row of one result."""
    demand = float(result.demand.sum())
    inv_value = (result.on_hand_end * world.unit_cost[:, None]).sum(axis=0)
    avg_inv = float(inv_value.mean()) if len(inv_value) else 0.0
    cogs = float((result.sales.sum(axis=1) * world.unit_cost).sum())
    orders = {(o.day, world.supplier_id[o.series], world.keys["location_id"].iat[o.series]) for o in result.orders}
    return {
        "policy": result.policy,
        "knob": result.knob,
        "stockout_days": int((result.unmet > 1e-9).sum()),
        "fill_rate": float(result.served.sum() / demand) if demand > 0 else 1.0,
        "lost_sales_value": float((_lost_units(result) * world.price).sum()),
        "avg_inventory_value": avg_inv,
        "turnover": cogs / avg_inv if avg_inv > 0 else float("nan"),
        "orders": len(orders),
        "order_lines": len(result.orders),
    }
