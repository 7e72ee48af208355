"""SKU-location detail: levels and reasons, history, forecast fan, projected stock, alert log, proposals."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import Response

from stockwarden.domain.actor import Permission
from stockwarden.errors import NotFound
from stockwarden.web import labels, sku_view
from stockwarden.web import readmodel as rm
from stockwarden.web.app import Web
from stockwarden.web.engine_text import engine_text
from stockwarden.web.i18n import Translator, lazy
from stockwarden.web.pages.suppliers import KIND_LABELS


def _row(web: Web, request: Request, sku: str, location_id: str) -> dict[str, object] | None:
    actor = web.need(request)
    if not actor.scope.has_location(location_id):
        raise NotFound(f"{sku} at {location_id}")
    index = web.risk_cache.index(web.ctx.engine)  # type: ignore[attr-defined]
    row = index.find(sku, location_id)
    if row is None:
        return None
    hit = index.frame.iloc[[row]]
    if not actor.scope.has_category(str(hit.iloc[0]["category"]) or None):
        raise NotFound(f"{sku} at {location_id}")
    return rm.records(hit)[0]


def _flat(value: object, t: Translator, key: str = "") -> str:
    if isinstance(value, dict):
        return "; ".join(
            f"{t.gettext(labels.DETAIL_KEYS.get(str(k), str(k)))} {_flat(v, t, str(k))}" for k, v in value.items()
        )
    if isinstance(value, list):
        return " | ".join(_flat(v, t, key) for v in value)
    if isinstance(value, float):
        return t.number(value, 2)
    if key == "kind" and str(value) in KIND_LABELS:
        return t.gettext(KIND_LABELS[str(value)])
    if key == "severity" and str(value) in labels.LEVELS:
        return t.gettext(labels.LEVELS[str(value)])
    if key == "severity" and str(value) == "info":
        return t.gettext(lazy("information"))
    if key == "detail":
        return engine_text(value, t)
    if key == "date" and isinstance(value, str):
        return t.date(value)
    return str(value)


def _details(raw: object, t: Translator) -> dict[str, str]:
    """The stored reason details (JSON: reason -> numbers) as one line of text per reason, in the reader's
    language (names of the numbers, anomaly kinds and severities, and the detector's own sentences through
    :func:`~stockwarden.web.engine_text.engine_text`)."""
    if not raw:
        return {}
    try:
        data = json.loads(str(raw))
    except ValueError:
        return {}
    return {str(k): _flat(v, t) for k, v in data.items()} if isinstance(data, dict) else {}


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/sku/{sku}/{location_id}")
    async def detail(request: Request, sku: str, location_id: str) -> Response:
        actor = web.need(request)
        row = _row(web, request, sku, location_id)
        info = sku_view.summary(web.ctx, actor, sku, location_id)
        if info["item"] is None and row is None:
            raise NotFound(f"SKU {sku} at location {location_id}")
        if info["item"] and not actor.scope.has_category(info["item"].get("category")):
            raise NotFound(f"SKU {sku} at location {location_id}")
        alert = info["alert"]
        reasons = [r for r in str((row or {}).get("reasons") or "").split(";") if r]
        if not reasons and alert is not None:
            reasons = list(alert.reasons)
        details = _details((row or {}).get("reason_details"), web.t(request))
        return web.page(
            request,
            "detail.html",
            details=details,
            sku=sku,
            location_id=location_id,
            row=row,
            item=info["item"],
            alert=alert,
            log=info["log"],
            lines=info["lines"],
            pos=info["pos"],
            reasons=reasons,
            factors=str((row or {}).get("top_factors") or ""),
            can_act=actor.can(Permission.ALERTS_ACT),
            today=web.ctx.now().date(),
        )

    @app.get("/sku/{sku}/{location_id}/charts")
    async def detail_charts(request: Request, sku: str, location_id: str) -> Response:
        actor = web.need(request)
        row = _row(web, request, sku, location_id) or {}
        t = web.t(request)
        as_of = rm.latest_as_of(web.ctx.engine)
        if as_of is None:
            return web.page(request, "detail_charts.html", charts=None)
        lines = sku_view.summary(web.ctx, actor, sku, location_id)["lines"]
        last = lines[0] if lines else {}

        def number(value: object) -> float | None:
            try:
                x = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
            return x if x == x else None

        levels: dict[str, float | None] = {
            "safety_stock": number(row.get("safety_stock")),
            "reorder_point": number(row.get("reorder_point") or last.get("reorder_point")),
            "order_up_to": number(row.get("order_up_to") or last.get("order_up_to")),
            "on_hand": number(row.get("on_hand") if row.get("on_hand") is not None else last.get("on_hand")),
        }
        labels = {
            "sales": t.gettext(lazy("Units sold")),
            "oos": t.gettext(lazy("Out of stock")),
            "band": t.gettext(lazy("p5-p95 range")),
            "median": t.gettext(lazy("Median")),
            "mean": t.gettext(lazy("Mean")),
            "projected": t.gettext(lazy("Projected stock")),
            "safety_stock": t.gettext(lazy("Safety stock")),
            "reorder_point": t.gettext(lazy("Reorder point")),
            "order_up_to": t.gettext(lazy("Order-up-to")),
        }
        charts = await asyncio.to_thread(
            sku_view.charts, web.ctx.engine, sku, location_id, as_of=as_of, levels=levels, labels=labels
        )
        return web.page(request, "detail_charts.html", charts=charts)
