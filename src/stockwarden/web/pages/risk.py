"""Risk list: every SKU-location of the latest run; filter, sort, page, bulk acknowledge/snooze, CSV/XLSX."""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse

import pandas as pd
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from stockwarden.domain.actor import Permission
from stockwarden.errors import InputError
from stockwarden.web import actions, labels
from stockwarden.web import readmodel as rm
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

LEVEL_LABELS = labels.LEVELS

SORT_LABELS = {
    "urgency": lazy("Urgency"),
    "probability": lazy("Probability"),
    "stockout_date": lazy("Stockout date"),
    "value_at_risk": lazy("Value at risk"),
}
EXPORT_COLUMNS = [c for c in rm.RISK_COLUMNS if c not in ("alert_state",)]


def parse_query(request: Request) -> rm.RiskQuery:
    """The risk list's filters from the query string (unknown values are ignored, not guessed)."""
    qp = request.query_params
    levels = tuple(lv for lv in qp.getlist("level") if lv in rm.LEVELS)
    try:
        page = max(1, int(qp.get("page", "1")))
    except ValueError:
        page = 1
    sort = qp.get("sort", "urgency")
    return rm.RiskQuery(
        levels=levels,
        location=qp.get("location", "").strip(),
        category=qp.get("category", "").strip(),
        supplier=qp.get("supplier", "").strip(),
        demand_class=qp.get("demand_class", "").strip(),
        text=qp.get("q", "").strip()[:100],
        sort=sort if sort in rm.SORTS else "urgency",
        page=page,
    )


def query_string(q: rm.RiskQuery, **changes: object) -> str:
    """The query string of ``q`` with some values changed (for pager, sort and download links)."""
    values: list[tuple[str, str]] = [("level", lv) for lv in q.levels]
    for key, value in (
        ("location", q.location),
        ("category", q.category),
        ("supplier", q.supplier),
        ("demand_class", q.demand_class),
        ("q", q.text),
        ("sort", q.sort),
        ("page", str(q.page)),
    ):
        value = str(changes.get(key, value))
        if value and not (key == "page" and value == "1") and not (key == "sort" and value == "urgency"):
            values.append((key, value))
    return urllib.parse.urlencode(values)


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/risk")
    async def risk_list(request: Request) -> Response:
        actor = web.need(request)
        q = parse_query(request)
        index = web.risk_cache.index(web.ctx.engine)  # type: ignore[attr-defined]
        result = index.page(actor, q)
        template = "risk_rows.html" if request.headers.get("hx-request") else "risk.html"
        return web.page(
            request,
            template,
            q=q,
            result=result,
            choices=index.choices(actor),
            level_labels=LEVEL_LABELS,
            sort_labels=SORT_LABELS,
            qs=lambda **kw: query_string(q, **kw),
            can_act=actor.can(Permission.ALERTS_ACT),
            today=web.ctx.now().date(),
        )

    @app.get("/risk/export")
    async def risk_export(request: Request) -> Response:
        actor = web.need(request)
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            raise InputError(f"format {fmt!r} is not offered; use csv or xlsx")
        q = parse_query(request)
        frame, _source = web.risk_cache.frame(web.ctx.engine)  # type: ignore[attr-defined]
        out = rm.filter_risk(rm.in_scope(frame, actor), q)[EXPORT_COLUMNS].copy()
        out["expected_stockout_date"] = out["expected_stockout_date"].dt.date
        stamp = web.ctx.now().strftime("%Y%m%d")
        if fmt == "csv":
            data = out.to_csv(index=False).encode("utf-8-sig")  # BOM: Excel opens Chinese text correctly
            media = "text/csv; charset=utf-8"
        else:
            buf = io.BytesIO()
            with pd.ExcelWriter(buf, engine="openpyxl") as writer:
                out.to_excel(writer, index=False, sheet_name="risk")
            data = buf.getvalue()
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return StreamingResponse(
            iter([data]),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="risk-{stamp}.{fmt}"'},
        )

    @app.post("/risk/bulk")
    async def risk_bulk(request: Request) -> Response:
        actor = web.need(request, Permission.ALERTS_ACT)
        form = await web.form(request)
        t = web.t(request)
        ids = [int(x) for x in form.getlist("alert_id") if isinstance(x, str) and x.isdigit()]
        back = str(form.get("back") or "/risk")
        if not back.startswith("/"):
            back = "/risk"
        if not ids:
            return web.redirect(back, flash=("error", t.gettext(lazy("Select at least one row with an alert first."))))
        action = str(form.get("action") or "")
        comment = str(form.get("comment") or "").strip()
        if action == "ack":
            done = actions.acknowledge(web.ctx, ids, actor=actor, comment=comment)
            text = t.gettext(lazy("%(n)s alerts acknowledged.")) % {"n": done}
        elif action == "snooze":
            until_text = str(form.get("until") or "")
            try:
                until = dt.date.fromisoformat(until_text) if until_text else None
            except ValueError:
                return web.redirect(back, flash=("error", t.gettext(lazy("The snooze date is not a valid date."))))
            worse = form.get("until_worse") == "1"
            if until is None and not worse:
                return web.redirect(
                    back, flash=("error", t.gettext(lazy("Choose a date, or snooze until it gets worse.")))
                )
            done = actions.snooze(web.ctx, ids, actor=actor, until=until, until_worse=worse, comment=comment)
            text = t.gettext(lazy("%(n)s alerts snoozed.")) % {"n": done}
        else:
            return web.redirect(back, flash=("error", t.gettext(lazy("Unknown action."))))
        return web.redirect(back, flash=("ok", text))
