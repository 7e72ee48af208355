"""Imports (upload, push), assessments of the latest run (list, download), SKU-location detail, anomalies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import AssessmentList, AssessmentPublic, ImportReportPublic, ListOf
from stockwarden.errors import InputError, PayloadTooLarge
from stockwarden.services import assessments, data

router = APIRouter(tags=["data"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Multi = Annotated[list[str] | None, Query(description="repeat or comma-separate")]
Text = Annotated[str | None, Query(max_length=200)]


@router.post("/imports", response_model=ImportReportPublic, status_code=201)
async def upload(ctx: Ctx, actor: CurrentActor, files: list[UploadFile]) -> ImportReportPublic:
    """Import uploaded dataset files (``sales.csv``, ``inventory.csv``, ...) or one ``.zip`` of them
    (multipart field ``files``): the same validation, quarantine and report as ``stockwarden import``."""
    limit = ctx.settings.max_upload_bytes
    got: list[tuple[str, bytes]] = []
    for f in files:
        body = await f.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"{f.filename}: larger than the {limit}-byte upload limit")
        got.append((f.filename or "upload", body))
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(data.import_upload, ctx, got, actor=actor)
    return ImportReportPublic(**outcome.report)


@router.get("/imports/rejects", response_model=ListOf[dict[str, Any]])
def rejects(
    ctx: Ctx,
    actor: CurrentActor,
    table: Text = None,
    batch_id: Annotated[int | None, Query(ge=1)] = None,
    all_batches: bool = False,
    limit: Limit = 200,
    offset: Offset = 0,
) -> ListOf[dict[str, Any]]:
    """Rows put aside by imports (the latest import by default)."""
    page = data.list_rejects(
        ctx, actor=actor, table=table, batch_id=batch_id, all_batches=all_batches, limit=limit, offset=offset
    )
    return ListOf(items=page.items, total=page.total)


@router.post(
    "/ingest/{table}",
    response_model=ImportReportPublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def ingest(table: str, request: Request, ctx: Ctx, actor: CurrentActor) -> ImportReportPublic:
    """Push rows of one table (``sales``, ``inventory``, ``purchase_orders``, ...) as a JSON array of
    objects (or ``{"rows": [...]}``) or a CSV body (``Content-Type: text/csv``): same validation,
    quarantine and idempotency as a file import."""
    import json

    from starlette.concurrency import run_in_threadpool

    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("the CSV body is not UTF-8") from None
        outcome = await run_in_threadpool(data.ingest_rows, ctx, table, actor=actor, csv_text=text)
    elif kind in ("application/json", ""):
        try:
            payload = json.loads(body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"the body is not valid JSON: {exc}") from None
        if isinstance(payload, dict) and "rows" in payload:
            payload = payload["rows"]
        if not isinstance(payload, list):
            raise InputError("send a JSON array of row objects (or {'rows': [...]})")
        outcome = await run_in_threadpool(data.ingest_rows, ctx, table, actor=actor, rows=payload)
    else:
        raise InputError(f"Content-Type {kind!r} is not supported: send application/json or text/csv")
    return ImportReportPublic(**outcome.report)


@router.get("/assessments", response_model=AssessmentList)
def list_assessments(
    ctx: Ctx,
    actor: CurrentActor,
    level: Multi = None,
    location: Multi = None,
    category: Multi = None,
    supplier: Multi = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the SKU")] = None,
    sort: Annotated[str | None, Query(max_length=60, description="column, -column for descending")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AssessmentList:
    """Assessments of the latest completed run, most urgent first (filter, sort, page)."""
    page = assessments.list_assessments(
        ctx,
        actor=actor,
        level=level,
        location=location,
        category=category,
        supplier=supplier,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return AssessmentList(
        items=[AssessmentPublic(**i) for i in page.items], total=page.total, run_id=page.run_id, as_of=page.as_of
    )


@router.get(
    "/assessments/download",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
    },
)
def download_assessments(
    ctx: Ctx,
    actor: CurrentActor,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    level: Multi = None,
    location: Multi = None,
    category: Multi = None,
    supplier: Multi = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    """Every matching assessment of the latest run as CSV or XLSX."""
    content, media, name = assessments.download_assessments(
        ctx,
        actor=actor,
        fmt=format,
        level=level,
        location=location,
        category=category,
        supplier=supplier,
        q=q,
        sort=sort,
    )
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/skus/{sku}/locations/{location_id}", response_model=dict[str, Any])
def sku_detail(sku: str, location_id: str, ctx: Ctx, actor: CurrentActor) -> dict[str, Any]:
    """One SKU-location: assessment, levels, reasons, model factors, history with stockout days,
    forecast quantiles, open purchase orders with arrival ranges, projected stock."""
    return assessments.sku_detail(ctx, sku, location_id, actor=actor)


@router.get("/anomalies", response_model=ListOf[dict[str, Any]])
def anomalies(
    ctx: Ctx,
    actor: CurrentActor,
    kind: Text = None,
    severity: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ListOf[dict[str, Any]]:
    """Supply, demand and stock anomalies as of the latest run's date."""
    items, total = assessments.list_anomalies(
        ctx, actor=actor, kind=kind, severity=severity, limit=limit, offset=offset
    )
    return ListOf(items=items, total=total)
