"""Use-cases of the risk assessments: assess a date (the daily run's own path), list the assessments of
the latest completed run (filters, sort, pages, CSV/XLSX), one SKU-location's detail, and anomalies.

Readers see the last *completed* run (``store.assessment_repo.latest_assessed_run``): a run in progress
is invisible until it completes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from stockwarden.domain.actor import Actor, Permission
from stockwarden.domain.risk import ALL_ASSESSMENT_COLUMNS, LEVEL_RANK
from stockwarden.errors import InputError, NotFound
from stockwarden.services.common import check_page, require, scope_clause, split_csv
from stockwarden.services.context import AppContext, read_scope
from stockwarden.store.assessment_repo import latest_assessed_run
from stockwarden.store.assessments import assessments as A  # noqa: N812 - the table is named once, briefly

LIST_COLUMNS: tuple[str, ...] = tuple(c for c in ALL_ASSESSMENT_COLUMNS if c != "reason_details")
SORTABLE = frozenset(LIST_COLUMNS) | {"urgency"}
MAX_DOWNLOAD_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class AssessmentPage:
    """A page of the latest run's assessments."""

    items: list[dict[str, Any]]
    total: int
    run_id: int | None
    as_of: dt.date | None


def json_value(value: Any) -> Any:
    """A frame or row value as JSON (dates ISO, NaN/NaT None, numpy scalars as Python)."""
    if value is None:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return json_value(value.item())
    if value is pd.NaT:
        return None
    return value


def assess(
    ctx: AppContext, *, actor: Actor, as_of: dt.date | None = None, horizon_days: int | None = None
) -> pd.DataFrame:
    """The assessment of the stored data as of a date, exactly as ``run`` computes it (rules in force,
    exported orders merged, ``risk.daily.assess_day``), without storing anything. Scoped to the actor."""
    from stockwarden.pipeline import load_day
    from stockwarden.risk.daily import assess_day
    from stockwarden.services.rules import current_rules

    require(actor, Permission.READ)
    _, rules = current_rules(ctx)
    ds, day = load_day(ctx.engine, as_of)
    frame = assess_day(ds, as_of=pd.Timestamp(day), rules=rules, horizon_days=horizon_days).assessment
    if not actor.scope.is_unrestricted:
        keep = pd.Series(True, index=frame.index)
        if actor.scope.locations:
            keep &= frame["location_id"].astype(str).isin(actor.scope.locations)
        if actor.scope.categories:
            keep &= frame["category"].astype(str).isin(actor.scope.categories)
        frame = frame.loc[keep].reset_index(drop=True)
    return frame


def _filters(
    actor: Actor,
    run_id: int,
    *,
    level: list[str] | None,
    location: list[str] | None,
    category: list[str] | None,
    supplier: list[str] | None,
    q: str | None,
) -> list[sa.ColumnElement[bool]]:
    where = [A.c.run_id == run_id, scope_clause(actor.scope, location_col=A.c.location_id, category_col=A.c.category)]
    levels = [v.lower() for v in split_csv(level)]
    bad = [v for v in levels if v not in LEVEL_RANK]
    if bad:
        raise InputError(f"level {bad[0]!r} is not one of {', '.join(LEVEL_RANK)}")
    if levels:
        where.append(A.c.level.in_(levels))
    for col, values in ((A.c.location_id, location), (A.c.category, category), (A.c.supplier_id, supplier)):
        vals = split_csv(values)
        if vals:
            where.append(col.in_(vals))
    if q:
        where.append(sa.func.lower(A.c.sku).like(f"%{q.lower()}%"))
    return where


def _order(sort: str | None) -> list[Any]:
    urgency = [
        sa.case(dict(LEVEL_RANK), value=A.c.level, else_=9),
        A.c.stockout_probability.desc(),
    ]
    if not sort or sort in ("urgency", "-urgency"):
        return [*urgency, A.c.sku, A.c.location_id]
    desc = sort.startswith("-")
    name = sort.lstrip("-+")
    if name not in SORTABLE:
        raise InputError(f"sort {name!r} is not a column; use one of urgency, sku, location_id, level, ...")
    col = A.c[name]
    return [col.desc() if desc else col.asc(), A.c.sku, A.c.location_id]


def list_assessments(
    ctx: AppContext,
    *,
    actor: Actor,
    level: list[str] | None = None,
    location: list[str] | None = None,
    category: list[str] | None = None,
    supplier: list[str] | None = None,
    q: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AssessmentPage:
    """The latest completed run's assessments in the actor's scope, filtered, sorted and paged
    (``sort``: a column, ``-column`` for descending, default most urgent first)."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    order = _order(sort)
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            return AssessmentPage([], 0, None, None)
        where = _filters(actor, run_id, level=level, location=location, category=category, supplier=supplier, q=q)
        total = s.scalar(sa.select(sa.func.count()).select_from(A).where(*where)) or 0
        rows = s.execute(
            sa.select(*(A.c[c] for c in LIST_COLUMNS)).where(*where).order_by(*order).limit(limit).offset(offset)
        ).all()
        as_of = s.scalar(sa.select(A.c.as_of).where(A.c.run_id == run_id).limit(1))
    items = [{c: json_value(v) for c, v in zip(LIST_COLUMNS, r, strict=True)} for r in rows]
    return AssessmentPage(items, int(total), run_id, as_of)


def download_assessments(
    ctx: AppContext,
    *,
    actor: Actor,
    fmt: str = "csv",
    level: list[str] | None = None,
    location: list[str] | None = None,
    category: list[str] | None = None,
    supplier: list[str] | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> tuple[bytes, str, str]:
    """Every matching assessment of the latest run as CSV or XLSX: ``(content, media type, file name)``."""
    require(actor, Permission.READ)
    if fmt not in ("csv", "xlsx"):
        raise InputError(f"format must be csv or xlsx, got {fmt!r}")
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            raise NotFound("no completed run has stored assessments yet; start a run first")
        where = _filters(actor, run_id, level=level, location=location, category=category, supplier=supplier, q=q)
        rows = s.execute(
            sa.select(*(A.c[c] for c in ALL_ASSESSMENT_COLUMNS))
            .where(*where)
            .order_by(*_order(sort))
            .limit(MAX_DOWNLOAD_ROWS)
        ).all()
    frame = pd.DataFrame(rows, columns=list(ALL_ASSESSMENT_COLUMNS))
    name = f"assessments_run{run_id}.{fmt}"
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8"), "text/csv; charset=utf-8", name
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, sheet_name="assessments")
    return buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name


HISTORY_DAYS = 120


def sku_detail(ctx: AppContext, sku: str, location_id: str, *, actor: Actor) -> dict[str, Any]:
    """One SKU-location of the latest run: its assessment (levels, reasons, model factors), daily history
    with stockout days, the demand forecast's quantiles, open purchase orders with their arrival ranges,
    and the projected stock.

    Raises:
        NotFound: no such SKU-location in the latest run, or outside the actor's scope.
    """
    require(actor, Permission.READ)
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            raise NotFound("no completed run has stored assessments yet; start a run first")
        row = s.execute(
            sa.select(*(A.c[c] for c in ALL_ASSESSMENT_COLUMNS)).where(
                A.c.run_id == run_id,
                A.c.sku == sku,
                A.c.location_id == location_id,
                scope_clause(actor.scope, location_col=A.c.location_id, category_col=A.c.category),
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"SKU {sku!r} at location {location_id!r} is not in the latest run")
        from stockwarden.store.views import load_series_frames

        frames = load_series_frames(s, sku, location_id)
    assessment = {c: json_value(v) for c, v in zip(ALL_ASSESSMENT_COLUMNS, row, strict=True)}
    as_of = pd.Timestamp(assessment["as_of"])
    return {
        "run_id": run_id,
        "sku": sku,
        "location_id": location_id,
        "assessment": assessment,
        "levels": {
            k: assessment.get(k)
            for k in ("level", "reorder_point", "safety_stock", "order_up_to", "suggested_order_qty")
        },
        "reasons": [r for r in str(assessment.get("reasons") or "").split(";") if r],
        "history": _history(frames, as_of),
        "open_orders": _open_orders(frames, as_of, assessment),
        **_forecast_and_projection(frames, as_of, assessment),
    }


def _history(frames: dict[str, Any], as_of: pd.Timestamp) -> list[dict[str, Any]]:
    start = as_of - pd.Timedelta(days=HISTORY_DAYS - 1)
    days = pd.date_range(start, as_of, freq="D")
    sales = frames["sales"]
    qty = sales.loc[(sales["date"] >= start) & (sales["date"] <= as_of)].groupby("date")["qty"].sum()
    inv = frames["inventory"]
    counts = inv.loc[(inv["date"] >= start) & (inv["date"] <= as_of)].groupby("date")["on_hand"].last()
    out = []
    for d in days:
        on_hand = counts.get(d)
        out.append(
            {
                "date": d.date().isoformat(),
                "sales_qty": float(qty.get(d, 0.0)),
                "on_hand": None if on_hand is None or pd.isna(on_hand) else float(on_hand),
                "is_stockout": bool(on_hand is not None and not pd.isna(on_hand) and on_hand <= 0),
            }
        )
    return out


def _open_orders(frames: dict[str, Any], as_of: pd.Timestamp, assessment: dict[str, Any]) -> list[dict[str, Any]]:
    po = frames["purchase_orders"]
    if po.empty:
        return []
    status = po["status"].fillna("open").astype(str).str.lower()
    open_po = po.loc[(status == "open") & po["received_date"].isna() & (po["order_date"] <= as_of)]
    lead = assessment.get("lead_time_days") or 0.0
    delay = assessment.get("supplier_mean_delay_days") or 0.0
    out = []
    for r in open_po.itertuples(index=False):
        promised = r.promised_date if not pd.isna(r.promised_date) else r.order_date + pd.Timedelta(days=float(lead))
        latest = max(promised, as_of) + pd.Timedelta(days=max(float(delay), 0.0))
        out.append(
            {
                "po_id": r.po_id,
                "qty": float(r.qty),
                "order_date": r.order_date.date().isoformat(),
                "promised_date": None if pd.isna(r.promised_date) else r.promised_date.date().isoformat(),
                "expected_arrival_earliest": max(promised, as_of + pd.Timedelta(days=1)).date().isoformat(),
                "expected_arrival_latest": latest.date().isoformat(),
                "days_overdue": max(0, int((as_of - promised).days)),
            }
        )
    return out


def _forecast_and_projection(frames: dict[str, Any], as_of: pd.Timestamp, assessment: dict[str, Any]) -> dict[str, Any]:
    """The statistical forecast of this one series (quantiles per day) and the projected stock."""
    from stockwarden.errors import StockwardenError
    from stockwarden.forecast.engine import forecast_demand
    from stockwarden.ingest.dataset import Dataset

    horizon = int(max(14, min(90, (assessment.get("horizon_days") or 28))))
    ds = Dataset(**frames, present=frozenset(k for k, v in frames.items() if len(v)))
    try:
        fc = forecast_demand(ds.as_of(as_of), as_of=as_of, horizon_days=horizon, mode="stats", seed=0, n_jobs=1)
    except (StockwardenError, ValueError, KeyError) as exc:
        return {"forecast": [], "projection": [], "forecast_note": f"no forecast for this series: {exc}"}
    daily = fc.daily
    forecast = [
        {
            "date": pd.Timestamp(r.date).date().isoformat(),
            "mean": float(r.mean),
            "p5": float(r.p5),
            "p25": float(r.p25),
            "p50": float(r.p50),
            "p75": float(r.p75),
            "p95": float(r.p95),
        }
        for r in daily.itertuples(index=False)
    ]
    arrivals: dict[str, float] = {}
    for po in _open_orders(frames, as_of, assessment):
        arrivals[po["expected_arrival_earliest"]] = arrivals.get(po["expected_arrival_earliest"], 0.0) + po["qty"]
    stock = float(assessment.get("on_hand") or 0.0) - float(assessment.get("backorders") or 0.0)
    projection = []
    for f in forecast:
        stock += arrivals.get(f["date"], 0.0) - f["mean"]
        projection.append(
            {"date": f["date"], "projected_on_hand": round(stock, 3), "arrivals": arrivals.get(f["date"], 0.0)}
        )
    return {"forecast": forecast, "projection": projection, "forecast_note": "statistical models (stats mode)"}


def list_anomalies(
    ctx: AppContext,
    *,
    actor: Actor,
    kind: str | None = None,
    severity: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Supply, demand and stock anomalies as of the latest run's date (computed once per run and cached),
    limited to the actor's scope (rows of other locations, or SKUs of other categories, left out)."""
    from stockwarden.anomaly.records import RECORD_COLUMNS

    require(actor, Permission.READ)
    check_page(limit, offset)
    frame = _anomalies_of_latest_run(ctx)
    if frame is None:
        return [], 0
    if actor.scope.locations:
        frame = frame.loc[frame["location_id"].isna() | frame["location_id"].astype(str).isin(actor.scope.locations)]
        frame = frame.loc[
            frame["location_id"].notna()
            | frame["affected"]
            .fillna("")
            .map(lambda a: any(p.split("@")[-1] in actor.scope.locations for p in str(a).split(";") if p))
        ]
    if actor.scope.categories:
        with read_scope(ctx) as s:
            from stockwarden.services.common import items_table

            t = items_table()
            skus = set(s.scalars(sa.select(t.c.sku).where(t.c.category.in_(sorted(actor.scope.categories)))).all())
        frame = frame.loc[frame["sku"].isna() | frame["sku"].isin(skus)]
    if kind:
        frame = frame.loc[frame["kind"] == kind]
    if severity:
        frame = frame.loc[frame["severity"] == severity]
    page = frame.iloc[offset : offset + limit]
    items = [
        {c: json_value(v) for c, v in zip(RECORD_COLUMNS, r, strict=True)}
        for r in page[list(RECORD_COLUMNS)].itertuples(index=False)
    ]
    return items, len(frame)


def _anomalies_of_latest_run(ctx: AppContext) -> pd.DataFrame | None:
    from stockwarden.pipeline import load_day
    from stockwarden.risk.daily import anomalies_for, forecast_for
    from stockwarden.services.rules import current_rules

    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            return None
        as_of = s.scalar(sa.select(A.c.as_of).where(A.c.run_id == run_id).limit(1))
    cached = ctx.cache.get("anomalies")
    if cached is not None and cached[0] == run_id:
        return cached[1]  # type: ignore[no-any-return]
    _, rules = current_rules(ctx)
    ds, day = load_day(ctx.engine, as_of)
    stamp = pd.Timestamp(day)
    fc = forecast_for(
        ds, as_of=stamp, rules=rules.model_copy(update={"run": rules.run.model_copy(update={"forecast_mode": "stats"})})
    )
    frame = anomalies_for(ds, as_of=stamp, forecast=fc, rules=rules)
    ctx.cache["anomalies"] = (run_id, frame)
    return frame


__all__ = [
    "AssessmentPage",
    "assess",
    "download_assessments",
    "json_value",
    "list_anomalies",
    "list_assessments",
    "sku_detail",
]
