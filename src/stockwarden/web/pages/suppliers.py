"""Suppliers and anomalies: each supplier's delivery delays over time with the detected change points,
overdue POs, short deliveries, demand spikes and drops, phantom stock (the latest run's anomalies)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.responses import Response

from stockwarden.domain.actor import Actor
from stockwarden.errors import StockwardenError
from stockwarden.services import assessments as assessment_service
from stockwarden.services.common import MAX_LIMIT
from stockwarden.services.rules import current_rules
from stockwarden.web.app import Web
from stockwarden.web.i18n import Translator, lazy

KIND_LABELS: dict[str, str] = {
    "overdue_po": lazy("Overdue POs"),
    "short_delivery": lazy("Short deliveries"),
    "lead_time_drift": lazy("Lead-time changes"),
    "supplier_unreliable": lazy("Unreliable suppliers"),
    "demand_spike": lazy("Demand spikes"),
    "demand_drop": lazy("Demand drops"),
    "phantom_stock": lazy("Phantom stock"),
    "negative_stock": lazy("Negative stock"),
    "stale_count": lazy("Old stock counts"),
    "count_mismatch": lazy("Count mismatches"),
}
SEVERITIES = ("critical", "warning", "watch", "info")
MAX_SUPPLIERS = 60


def supplier_delays(ds: Any, *, actor: Actor, rules: Any) -> list[dict[str, Any]]:
    """Per supplier: its deliveries (one per truck) in receipt order, the stream the detector reads
    (delay against the promise, else lead time), the regimes found and their change points."""
    from stockwarden.forecast.leadtime.changepoint import delivery_batches, find_regime_starts, uses_delay
    from stockwarden.forecast.leadtime.model import received_po_history

    last = ds.last_date
    if last is None or not len(ds.purchase_orders):
        return []
    history = received_po_history(ds, as_of=last)
    if actor.scope.locations:
        history = history.loc[history["location_id"].isin(actor.scope.locations)]
    if history.empty:
        return []
    out = []
    batches = delivery_batches(history)
    short = history.groupby("supplier_id")["is_short"].agg(["sum", "size"])
    for supplier, g in batches.groupby("supplier_id", sort=True):
        by_delay = uses_delay(g)
        values = g["delay_days" if by_delay else "lead_time_days"].to_numpy(float)
        ok = ~np.isnan(values)
        gv, vv = g.loc[ok], values[ok]
        if not len(vv):
            continue
        starts = find_regime_starts(
            vv, threshold=rules.leadtime.shift_threshold, baseline_deliveries=rules.leadtime.shift_baseline_deliveries
        )
        dates = gv["received_date"].dt.strftime("%Y-%m-%d").tolist()
        bounds = [*starts, len(vv)]
        regimes = [
            {
                "start": dates[bounds[j]],
                "end": dates[bounds[j + 1] - 1],
                "mean": float(np.mean(vv[bounds[j] : bounds[j + 1]])),
            }
            for j in range(len(starts))
        ]
        recent = vv[-20:]
        on_time = float(np.mean(recent <= 0)) if by_delay else None
        s = short.loc[supplier] if supplier in short.index else None
        out.append(
            {
                "supplier_id": str(supplier),
                "by_delay": by_delay,
                "deliveries": len(vv),
                "points": [[d, float(v)] for d, v in zip(dates, vv, strict=True)],
                "regimes": regimes,
                "changes": [dates[i] for i in starts[1:]],
                "recent_mean": float(np.mean(recent)),
                "on_time": on_time,
                "short_lines": int(s["sum"]) if s is not None else 0,
                "lines": int(s["size"]) if s is not None else 0,
            }
        )
    out.sort(key=lambda r: (-len(cast(list[Any], r["changes"])), -cast(float, r["recent_mean"])))
    return out[:MAX_SUPPLIERS]


def delay_chart(t: Translator, sup: dict[str, Any]) -> dict[str, Any]:
    """An ECharts option: the deliveries as points, each regime's mean as a step, change points as lines."""
    regime_line: list[list[Any]] = []
    for r in sup["regimes"]:
        regime_line += [[r["start"], round(r["mean"], 2)], [r["end"], round(r["mean"], 2)]]
    name = t.gettext(lazy("Delay against the promise (days)") if sup["by_delay"] else lazy("Lead time (days)"))
    return {
        "tooltip": {"trigger": "item"},
        "legend": {"top": 0},
        "grid": {"left": 45, "right": 16, "top": 32, "bottom": 30},
        "xAxis": {"type": "time"},
        "yAxis": {"type": "value", "name": name, "nameLocation": "middle", "nameGap": 32},
        "series": [
            {
                "type": "scatter",
                "name": t.gettext(lazy("Deliveries")),
                "symbolSize": 6,
                "data": sup["points"],
                "itemStyle": {"color": "#0550ae"},
            },
            {
                "type": "line",
                "name": t.gettext(lazy("Regime mean")),
                "data": regime_line,
                "showSymbol": False,
                "itemStyle": {"color": "#bc4c00"},
                "markLine": {
                    "symbol": "none",
                    # the label inside the plot, beside the line's top (above it, it met the legend)
                    "label": {"formatter": t.gettext(lazy("change")), "position": "insideEndTop"},
                    "lineStyle": {"color": "#a40e26", "type": "dashed"},
                    "data": [{"xAxis": d} for d in sup["changes"]],
                },
            },
        ],
    }


def _dataset(web: Web, actor: Actor) -> Any:
    """The stored data as the actor may see it, cached until the next import (one entry per scope)."""
    import sqlalchemy as sa

    from stockwarden.services.data import load_dataset

    with web.ctx.engine.connect() as conn:
        key = (tuple(conn.execute(sa.text("SELECT MAX(id), COUNT(*) FROM import_batches")).one()), actor.scope)
    cached = web.ctx.cache.get("web_suppliers_ds")
    if cached is not None and cached[0] == key:
        return cached[1]
    ds = load_dataset(web.ctx, actor=actor)
    web.ctx.cache["web_suppliers_ds"] = (key, ds)
    return ds


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/suppliers")
    async def suppliers(request: Request) -> Response:
        actor = web.need(request)
        t = web.t(request)
        kind = request.query_params.get("kind", "")
        severity = request.query_params.get("severity", "")
        kind = kind if kind in KIND_LABELS else ""
        severity = severity if severity in SEVERITIES else ""
        _version, rules = current_rules(web.ctx)
        try:
            ds = _dataset(web, actor)
        except StockwardenError:
            ds = None
        delays = supplier_delays(ds, actor=actor, rules=rules) if ds is not None else []
        for sup in delays:
            sup["chart"] = delay_chart(t, sup)
        items, total = assessment_service.list_anomalies(
            web.ctx, actor=actor, kind=kind or None, severity=severity or None, limit=MAX_LIMIT
        )
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            groups.setdefault(str(item.get("kind")), []).append(item)
        order = [k for k in KIND_LABELS if k in groups]
        counts = pd.Series([str(i.get("kind")) for i in items]).value_counts().to_dict() if items else {}
        return web.page(
            request,
            "suppliers.html",
            delays=delays,
            groups=[(k, groups[k]) for k in order],
            counts=counts,
            total=total,
            kind=kind,
            severity=severity,
            kind_labels=KIND_LABELS,
            severities=SEVERITIES,
            has_data=ds is not None,
        )
