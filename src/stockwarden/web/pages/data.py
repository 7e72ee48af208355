"""Data: upload files or a zip (the same import as ``stockwarden import``), the import report, the rejects
with file, line, column, value and reason (filter, download), and the data-health warnings."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import sqlalchemy as sa
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import StockwardenError
from stockwarden.services import data as data_service
from stockwarden.services.common import MAX_LIMIT
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

PAGE_SIZE = 100
MAX_REJECTS = 200_000
WARNING_LABELS: dict[str, str] = {
    "no_data": lazy("no data"),
    "missing_table": lazy("a table is missing"),
    "stale_count": lazy("stock counts are old"),
    "stale_sku_count": lazy("some SKUs have an old count"),
    "sales_without_count": lazy("sales without a stock count"),
    "po_overdue": lazy("purchase orders overdue"),
    "stale_feed": lazy("a feed stopped"),
    "no_lead_time": lazy("no lead time known"),
    "future_rows": lazy("rows dated in the future"),
}
COUNT_LABELS: dict[str, str] = {
    "read": lazy("read"),
    "accepted": lazy("accepted"),
    "rejected": lazy("rejected"),
    "duplicates": lazy("duplicates"),
    "inserted": lazy("inserted"),
    "updated": lazy("updated"),
    "unchanged": lazy("unchanged"),
}


def table_names() -> tuple[str, ...]:
    """The dataset tables, in import order."""
    from stockwarden.ingest.schema import TABLE_ORDER

    return tuple(TABLE_ORDER)


def all_rejects(web: Web, actor: Actor, *, table: str | None, batch_id: int | None, all_batches: bool) -> pd.DataFrame:
    """Every reject matching the filters (paged through the service, at most :data:`MAX_REJECTS`)."""
    rows: list[dict[str, Any]] = []
    offset = 0
    while offset < MAX_REJECTS:
        page = data_service.list_rejects(
            web.ctx,
            actor=actor,
            table=table or None,
            batch_id=batch_id,
            all_batches=all_batches,
            limit=MAX_LIMIT,
            offset=offset,
        )
        rows.extend(page.items)
        offset += MAX_LIMIT
        if offset >= page.total:
            break
    columns = ["batch_id", "table", "file", "line", "column", "value", "reason"]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def filter_text(frame: pd.DataFrame, q: str) -> pd.DataFrame:
    """Rows whose file, column, value or reason contains ``q`` (case-insensitive)."""
    if not q or frame.empty:
        return frame
    hay = frame[["file", "column", "value", "reason"]].astype(str).agg(" ".join, axis=1).str.lower()
    return frame.loc[hay.str.contains(q.lower(), regex=False)]


def recent_batches(web: Web, limit: int = 10) -> list[dict[str, Any]]:
    """The latest imports: id, source, when, status."""
    with web.ctx.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, source, started_at, finished_at, status FROM import_batches ORDER BY id DESC LIMIT :n"),
            {"n": limit},
        ).all()
    return [dict(r._mapping) for r in rows]


def _int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    def filters(request: Request) -> dict[str, Any]:
        qp = request.query_params
        table = qp.get("table", "")
        return {
            "table": table if table in table_names() else "",
            "q": qp.get("q", "").strip()[:200],
            "batch": _int(qp.get("batch")),
            "all_batches": qp.get("all") == "1",
            "page": max(_int(qp.get("page")) or 1, 1),
        }

    @app.get("/data")
    async def data_page(request: Request) -> Response:
        actor = web.need(request)
        f = filters(request)
        can_import = actor.can(Permission.IMPORT)
        reports: dict[int, Any] = web.ctx.cache.setdefault("web_import_reports", {})
        report = reports.get(f["batch"]) if f["batch"] is not None else None
        rejects = None
        total = 0
        if can_import:
            frame = filter_text(
                all_rejects(web, actor, table=f["table"], batch_id=f["batch"], all_batches=f["all_batches"]), f["q"]
            )
            total = len(frame)
            start = (f["page"] - 1) * PAGE_SIZE
            rejects = frame.iloc[start : start + PAGE_SIZE].to_dict("records")
        query = {k: v for k, v in (("table", f["table"]), ("q", f["q"])) if v}
        if f["batch"] is not None:
            query["batch"] = str(f["batch"])
        if f["all_batches"]:
            query["all"] = "1"
        return web.page(
            request,
            "data.html",
            f=f,
            tables=table_names(),
            can_import=can_import,
            report=report,
            rejects=rejects,
            total=total,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            query=query,
            batches=recent_batches(web),
            count_labels=COUNT_LABELS,
            warning_labels=WARNING_LABELS,
            max_mb=web.ctx.settings.max_upload_bytes // 1_000_000,
        )

    @app.post("/data/upload")
    async def upload(request: Request) -> Response:
        actor = web.need(request, Permission.IMPORT)
        form = await web.form(request)
        t = web.t(request)
        files: list[tuple[str, bytes]] = []
        for item in form.getlist("files"):
            if isinstance(item, UploadFile) and item.filename:
                files.append((item.filename, await item.read()))
        if not files:
            return web.redirect("/data", flash=("error", t.gettext(lazy("Choose at least one file to upload."))))
        try:
            outcome = data_service.import_upload(web.ctx, files, actor=actor)
        except StockwardenError as exc:
            return web.redirect("/data", flash=("error", web.error_message(request, exc)))
        reports: dict[int, Any] = web.ctx.cache.setdefault("web_import_reports", {})
        reports[outcome.batch_id] = outcome.report
        while len(reports) > 20:
            reports.pop(next(iter(reports)))
        n = len(outcome.report.get("rejects", []))
        message = (
            t.gettext(lazy("Imported. %(n)s rows were put aside; see them below.")) % {"n": n}
            if n
            else t.gettext(lazy("Imported; no row was rejected."))
        )
        return web.redirect(f"/data?batch={outcome.batch_id}", flash=("ok" if not n else "info", message))

    @app.get("/data/rejects.csv")
    async def download(request: Request) -> Response:
        actor = web.need(request, Permission.IMPORT)
        f = filters(request)
        frame = filter_text(
            all_rejects(web, actor, table=f["table"], batch_id=f["batch"], all_batches=f["all_batches"]), f["q"]
        )
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        stamp = web.ctx.now().strftime("%Y%m%d-%H%M")
        return Response(
            buf.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="rejects-{stamp}.csv"'},
        )

    @app.get("/data/health")
    async def health(request: Request) -> Response:
        actor = web.need(request)
        from stockwarden.ingest.health import check_health
        from stockwarden.services.data import load_dataset
        from stockwarden.services.rules import current_rules

        _, rules = current_rules(web.ctx)
        try:
            ds = load_dataset(web.ctx, actor=actor)
        except StockwardenError:
            warnings: list[dict[str, Any]] | None = None
            as_of = None
        else:
            report = check_health(ds, rules=rules.health)
            warnings, as_of = report.warnings_json(), report.as_of
        html = web.renderer.render(
            request, "data_health.html", warnings=warnings, as_of=as_of, warning_labels=WARNING_LABELS
        )
        return HTMLResponse(html)


__all__ = ["all_rejects", "filter_text", "recent_batches", "register", "table_names"]
