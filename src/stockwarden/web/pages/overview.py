"""Overview: SKU-locations by level, value at risk, open alerts by age, overdue POs, late suppliers, heat map,
and how the alerts did (alert effectiveness over the last 90 days, ``services.quality``)."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.responses import Response

from stockwarden.errors import StockwardenError
from stockwarden.services import quality as quality_service
from stockwarden.web import labels
from stockwarden.web import readmodel as rm
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

LEVEL_LABELS = labels.LEVELS
LEVEL_COLOURS = {"critical": "#a40e26", "warning": "#bc4c00", "watch": "#9a6700", "ok": "#1a7f37"}
AGE_LABELS = {
    "lt1": lazy("under 1 day"),
    "d1_7": lazy("1-7 days"),
    "d8_30": lazy("8-30 days"),
    "gt30": lazy("over 30 days"),
}


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app
    if not hasattr(web, "risk_cache"):
        web.risk_cache = rm.RiskCache()  # type: ignore[attr-defined]

    @app.get("/")
    async def overview(request: Request) -> Response:
        actor = web.need(request)
        t = web.t(request)
        index = web.risk_cache.index(web.ctx.engine)  # type: ignore[attr-defined]
        summary, source = index.summary(actor), index.source
        as_of = rm.latest_as_of(web.ctx.engine)
        counts, value_at_risk = summary.counts, summary.value_at_risk
        ages = rm.alert_ages(web.ctx.engine, actor, now=web.ctx.now())
        overdue = rm.overdue_pos(web.ctx.engine, actor, as_of=as_of) if as_of else None
        late_suppliers = (
            overdue.groupby("supplier_id").agg(lines=("po_id", "size"), worst=("days_late", "max")).reset_index()
            if overdue is not None and len(overdue)
            else None
        )
        cats, locs, cells = summary.heat
        try:
            effectiveness = quality_service.alert_quality(web.ctx, actor=actor)
        except StockwardenError:
            effectiveness = None
        level_chart = {
            "tooltip": {"trigger": "item"},
            "xAxis": {"type": "category", "data": [t.gettext(LEVEL_LABELS[lv]) for lv in rm.LEVELS]},
            "yAxis": {"type": "value"},
            "grid": {"left": 50, "right": 16, "top": 16, "bottom": 30},
            "series": [
                {
                    "type": "bar",
                    "name": t.gettext(lazy("SKU-locations")),
                    "data": [
                        {
                            "value": counts[lv],
                            "itemStyle": {"color": LEVEL_COLOURS[lv]},
                            "href": web.renderer.url(f"/risk?level={lv}"),
                        }
                        for lv in rm.LEVELS
                    ],
                }
            ],
            "__clickHref": "",
        }
        age_chart = {
            "tooltip": {"trigger": "item"},
            "xAxis": {"type": "category", "data": [t.gettext(v) for v in AGE_LABELS.values()]},
            "yAxis": {"type": "value"},
            "grid": {"left": 50, "right": 16, "top": 16, "bottom": 30},
            "series": [
                {
                    "type": "bar",
                    "name": t.gettext(lazy("Open alerts")),
                    "data": [{"value": ages[k], "href": web.renderer.url("/inbox")} for k in AGE_LABELS],
                    "itemStyle": {"color": "#0550ae"},
                }
            ],
            "__clickHref": "",
        }
        max_cell = max([c[2] for c in cells] or [0])
        heat_chart = {
            "tooltip": {"position": "top"},
            "grid": {"left": 110, "right": 20, "top": 10, "bottom": 70},
            "xAxis": {"type": "category", "data": locs, "splitArea": {"show": True}},
            "yAxis": {"type": "category", "data": cats, "splitArea": {"show": True}},
            "visualMap": {
                "min": 0,
                "max": max(1, max_cell),
                "calculable": True,
                "orient": "horizontal",
                "left": "center",
                "bottom": 0,
                "inRange": {"color": ["#f6f8fa", "#ffb77c", "#a40e26"]},
            },
            "series": [
                {
                    "type": "heatmap",
                    "name": t.gettext(lazy("At risk (warning or critical)")),
                    "data": [
                        {
                            "value": c,
                            "href": web.renderer.url(
                                "/risk?level=critical&level=warning&"
                                + urllib.parse.urlencode({"location": locs[c[0]], "category": cats[c[1]]})
                            ),
                        }
                        for c in cells
                    ],
                    "label": {"show": True},
                }
            ],
            "__clickHref": "",
        }
        return web.page(
            request,
            "overview.html",
            counts=counts,
            level_labels=LEVEL_LABELS,
            value_at_risk=value_at_risk,
            ages=ages,
            age_labels=AGE_LABELS,
            overdue=rm.records(overdue.head(10)) if overdue is not None else [],
            overdue_count=len(overdue) if overdue is not None else 0,
            late_suppliers=rm.records(late_suppliers.sort_values("worst", ascending=False))
            if late_suppliers is not None
            else [],
            as_of=as_of,
            source=source,
            total=summary.total,
            level_chart=level_chart,
            age_chart=age_chart,
            heat_chart=heat_chart,
            heat_height=max(240, 40 + 28 * len(cats) + 70),
            quality=effectiveness,
        )
