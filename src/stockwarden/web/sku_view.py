"""What the SKU-location detail page shows: history, forecast fan, projected stock, POs, alert, proposals.

The page itself (``/sku/{sku}/{location}``) reads only small, indexed slices and answers fast; its
charts come from ``/sku/{sku}/{location}/charts``, loaded after the page: they forecast this one series
with the statistical models (``forecast_demand(mode="stats")``) on the data known at the latest run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from stockwarden.domain.actor import Actor
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.ingest.schema import TABLES, Kind
from stockwarden.services.context import AppContext
from stockwarden.store.tables import DATASET_TABLES

HISTORY_DAYS = 180
HORIZON_DAYS = 56
CLOSED_PO = ("cancelled", "canceled", "closed", "received")


def _frame(conn: sa.Connection, name: str, where: sa.ColumnElement[bool] | None) -> pd.DataFrame:
    spec = TABLES[name]
    table = DATASET_TABLES[name]
    cols = list(spec.column_names)
    stmt = sa.select(*(table.c[c] for c in cols)).order_by(table.c.id)
    if where is not None:
        stmt = stmt.where(where)
    rows = conn.execute(stmt).all()
    if not rows:
        return empty_frame(name)
    frame = pd.DataFrame(rows, columns=cols)
    for c in cols:
        kind = spec.column(c).kind
        if kind is Kind.DATE:
            frame[c] = pd.to_datetime(frame[c], errors="coerce")
        elif kind is not Kind.STR:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return frame


def load_series_dataset(engine: Engine, sku: str, location_id: str) -> Dataset:
    """The stored data of one SKU at one location (plus its item, supplier, location and events)."""
    t = DATASET_TABLES
    with engine.connect() as conn:
        items = _frame(conn, "items", t["items"].c.sku == sku)
        supplier_ids = list(items["supplier_id"].dropna().unique()) if len(items) else []
        frames = {
            "items": items,
            "locations": _frame(conn, "locations", t["locations"].c.location_id == location_id),
            "suppliers": _frame(conn, "suppliers", t["suppliers"].c.supplier_id.in_(supplier_ids))
            if supplier_ids
            else empty_frame("suppliers"),
            "sales": _frame(conn, "sales", (t["sales"].c.sku == sku) & (t["sales"].c.location_id == location_id)),
            "inventory": _frame(
                conn, "inventory", (t["inventory"].c.sku == sku) & (t["inventory"].c.location_id == location_id)
            ),
            "purchase_orders": _frame(
                conn,
                "purchase_orders",
                (t["purchase_orders"].c.sku == sku) & (t["purchase_orders"].c.location_id == location_id),
            ),
            "promotions": _frame(conn, "promotions", t["promotions"].c.sku == sku),
            "events": _frame(conn, "events", None),
        }
    present = frozenset(n for n, f in frames.items() if len(f))
    return Dataset(**frames, present=present)


def summary(ctx: AppContext, actor: Actor, sku: str, location_id: str) -> dict[str, Any]:
    """The item, its live or latest alert with handling log (``services.alerts``), its proposal lines and
    open POs (fast reads)."""
    from stockwarden.services.alerts import get_alert

    engine = ctx.engine
    t = DATASET_TABLES
    out: dict[str, Any] = {"item": None, "alert": None, "log": [], "lines": [], "pos": []}
    with engine.connect() as conn:
        item = conn.execute(sa.select(t["items"]).where(t["items"].c.sku == sku).limit(1)).mappings().first()
        out["item"] = dict(item) if item else None
        pos = (
            conn.execute(
                sa.select(t["purchase_orders"])
                .where(t["purchase_orders"].c.sku == sku, t["purchase_orders"].c.location_id == location_id)
                .where(t["purchase_orders"].c.received_date.is_(None))
                .order_by(t["purchase_orders"].c.order_date)
            )
            .mappings()
            .all()
        )
        out["pos"] = [dict(p) for p in pos if str(p.get("status") or "").lower() not in CLOSED_PO]
        lines = (
            conn.execute(
                sa.text(
                    "SELECT id, po_id, line_no, supplier_id, qty, status, order_by_date, expected_arrival_date, "
                    "reorder_point, order_up_to, on_hand, on_order, explanation, reasons, unit_cost "
                    "FROM order_proposal_lines WHERE sku = :s AND location_id = :l ORDER BY id DESC"
                ),
                {"s": sku, "l": location_id},
            )
            .mappings()
            .all()
        )
        out["lines"] = [dict(r) for r in lines]
        alert_id = conn.execute(
            sa.text(
                "SELECT id FROM alerts WHERE sku = :s AND location_id = :l "
                "ORDER BY CASE WHEN state <> 'resolved' THEN 0 ELSE 1 END, id DESC LIMIT 1"
            ),
            {"s": sku, "l": location_id},
        ).scalar()
    if alert_id is not None:
        out["alert"], out["log"] = get_alert(ctx, int(alert_id), actor=actor)
    return out


def _iso(values: pd.Series) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.to_datetime(values)]


def charts(
    engine: Engine,
    sku: str,
    location_id: str,
    *,
    as_of: dt.date,
    levels: dict[str, float | None],
    labels: dict[str, str],
) -> dict[str, Any]:
    """ECharts options: sales history with out-of-stock days, forecast fan, projected stock with POs.

    Args:
        engine: the database.
        sku: the SKU.
        location_id: the location.
        as_of: the latest run's date (nothing after it is used).
        levels: ``safety_stock``, ``reorder_point``, ``order_up_to`` and ``on_hand`` (None when unknown).
        labels: translated series names.
    """
    from stockwarden.forecast.engine import forecast_demand

    ds = load_series_dataset(engine, sku, location_id)
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=HISTORY_DAYS - 1)
    days = pd.date_range(start, end, freq="D")
    sales = ds.sales
    daily = (
        sales[(sales["date"] >= start) & (sales["date"] <= end)]
        .groupby("date")["qty"]
        .sum()
        .reindex(days, fill_value=0.0)
        if len(sales)
        else pd.Series(0.0, index=days)
    )
    inv = ds.inventory.sort_values("date")
    oos_days: list[str] = []
    on_hand_now = levels.get("on_hand")
    if len(inv):
        counted = inv.groupby("date")["on_hand"].last()
        window = counted[(counted.index >= start) & (counted.index <= end)]
        oos_days = [d.strftime("%Y-%m-%d") for d, v in window.items() if v <= 0]
        if on_hand_now is None:
            on_hand_now = float(counted[counted.index <= end].iloc[-1]) if (counted.index <= end).any() else None
    history = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 45, "right": 16, "top": 36, "bottom": 60},
        "xAxis": {"type": "category", "data": _iso(pd.Series(days))},
        "yAxis": {"type": "value"},
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 18, "bottom": 8}],
        "series": [
            {"type": "bar", "name": labels["sales"], "data": [round(float(v), 2) for v in daily.to_numpy()]},
            {
                "type": "scatter",
                "name": labels["oos"],
                "symbol": "triangle",
                "symbolSize": 9,
                "itemStyle": {"color": "#a40e26"},
                "data": [[d, 0] for d in oos_days],
            },
        ],
    }
    fan: dict[str, Any] | None = None
    projection: dict[str, Any] | None = None
    if len(sales) and len(ds.items):
        fc = forecast_demand(ds, as_of=end, horizon_days=HORIZON_DAYS, mode="stats", n_jobs=1)
        f = fc.daily[(fc.daily["sku"] == sku) & (fc.daily["location_id"] == location_id)].sort_values("date")
        if len(f):
            dates = _iso(f["date"])
            lo, hi = f["p5"].to_numpy(float), f["p95"].to_numpy(float)
            fan = {
                "tooltip": {"trigger": "axis"},
                "legend": {"top": 0, "data": [labels["band"], labels["median"], labels["mean"]]},
                "grid": {"left": 45, "right": 16, "top": 36, "bottom": 30},
                "xAxis": {"type": "category", "data": dates},
                "yAxis": {"type": "value"},
                "series": [
                    {
                        "type": "line",
                        "name": "p5",
                        "data": lo.round(2).tolist(),
                        "stack": "fan",
                        "symbol": "none",
                        "lineStyle": {"opacity": 0},
                    },
                    {
                        "type": "line",
                        "name": labels["band"],
                        "data": (hi - lo).round(2).tolist(),
                        "stack": "fan",
                        "symbol": "none",
                        "lineStyle": {"opacity": 0},
                        "areaStyle": {"color": "#9ec5fe", "opacity": 0.6},
                    },
                    {
                        "type": "line",
                        "name": labels["median"],
                        "data": f["p50"].round(2).tolist(),
                        "symbol": "none",
                        "lineStyle": {"color": "#0550ae", "width": 2},
                    },
                    {
                        "type": "line",
                        "name": labels["mean"],
                        "data": f["mean"].round(2).tolist(),
                        "symbol": "none",
                        "lineStyle": {"type": "dashed", "color": "#57606a"},
                    },
                ],
            }
            projection = _projection(f, ds, end, on_hand_now, levels, labels)
    return {"history": history, "fan": fan, "projection": projection, "oos_days": len(oos_days)}


def _projection(
    f: pd.DataFrame,
    ds: Dataset,
    end: pd.Timestamp,
    on_hand: float | None,
    levels: dict[str, float | None],
    labels: dict[str, str],
) -> dict[str, Any] | None:
    if on_hand is None:
        return None
    dates = pd.to_datetime(f["date"]).reset_index(drop=True)
    arrivals = np.zeros(len(dates))
    po_points: list[dict[str, Any]] = []
    po = ds.purchase_orders
    if len(po):
        open_po = po[po["received_date"].isna()]
        for _, row in open_po.iterrows():
            due = row["promised_date"] if pd.notna(row["promised_date"]) else None
            if due is None:
                continue
            day = max(pd.Timestamp(due), end + pd.Timedelta(days=1))
            idx = int((day - dates.iloc[0]).days)
            if 0 <= idx < len(dates):
                arrivals[idx] += float(row["qty"])
                po_points.append(
                    {
                        "name": str(row["po_id"]),
                        "xAxis": day.strftime("%Y-%m-%d"),
                        "label": {"formatter": str(row["po_id"])},
                    }
                )
    # Daily quantiles do not add up; the band of the cumulative demand assumes independent days, with the
    # daily spread taken from the p5-p95 width (a normal approximation, as a guide for the eye).
    mean = f["mean"].to_numpy(float)
    sd = np.maximum(f["p95"].to_numpy(float) - f["p5"].to_numpy(float), 0.0) / 3.29
    cum_mean, cum_sd = np.cumsum(mean), np.sqrt(np.cumsum(sd**2))
    supply = on_hand + np.cumsum(arrivals)
    mid = supply - cum_mean
    low = supply - (cum_mean + 1.645 * cum_sd)
    high = supply - np.maximum(cum_mean - 1.645 * cum_sd, 0.0)
    marks = []
    for key in ("safety_stock", "reorder_point", "order_up_to"):
        value = levels.get(key)
        if value is not None and value == value:
            marks.append({"name": labels[key], "yAxis": round(float(value), 1), "label": {"formatter": labels[key]}})
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [labels["band"], labels["projected"]]},
        "grid": {"left": 45, "right": 90, "top": 36, "bottom": 30},
        "xAxis": {"type": "category", "data": _iso(dates)},
        "yAxis": {"type": "value"},
        "series": [
            {
                "type": "line",
                "name": "low",
                "data": low.round(1).tolist(),
                "stack": "band",
                "symbol": "none",
                "lineStyle": {"opacity": 0},
            },
            {
                "type": "line",
                "name": labels["band"],
                "data": (high - low).round(1).tolist(),
                "stack": "band",
                "symbol": "none",
                "lineStyle": {"opacity": 0},
                "areaStyle": {"color": "#ffd8b5", "opacity": 0.7},
            },
            {
                "type": "line",
                "name": labels["projected"],
                "data": mid.round(1).tolist(),
                "symbol": "none",
                "lineStyle": {"color": "#bc4c00", "width": 2},
                "markLine": {"symbol": "none", "data": marks + po_points, "lineStyle": {"type": "dashed"}},
            },
        ],
    }


__all__ = ["charts", "load_series_dataset", "summary"]
