"""Use-cases of the risk assessments: assess a date (the daily run's own path), list the assessments of
the latest completed run (filters, sort, pages, CSV/XLSX), one SKU-location's detail, and anomalies.

Readers see the last *completed* run (``store.assessment_repo.latest_assessed_run``): a run in progress
is invisible until it completes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from stockwarden.domain.actor import Actor, Permission
from stockwarden.domain.risk import ALL_ASSESSMENT_COLUMNS, LEVEL_RANK
from stockwarden.errors import InputError, NotFound
from stockwarden.services.common import check_page, require, scope_clause, split_csv
from stockwarden.services.context import AppContext, read_scope
from stockwarden.services.run_index import UNRANKED_LEVEL, ListFilters, latest_index
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
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:  # what database rows mostly hold
        return value
    if kind is float:
        return value if math.isfinite(value) else None
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
    return _in_scope(actor, frame)


def run_assessments(ctx: AppContext, *, actor: Actor, run: int | str | None = "latest") -> tuple[int, pd.DataFrame]:
    """The assessments a run stored (default: the newest completed run), as ``assess`` produced them
    (columns, kinds, urgency order), limited to the actor's scope; and the run id.

    Raises:
        StoreError: no such run, or no completed run stored assessments yet.
    """
    from stockwarden.store.assessment_repo import load_assessments

    require(actor, Permission.READ)
    run_id, frame = load_assessments(ctx.engine, run)
    return run_id, _in_scope(actor, frame)


def _in_scope(actor: Actor, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` in the actor's locations and categories."""
    if actor.scope.is_unrestricted:
        return frame
    keep = pd.Series(True, index=frame.index)
    if actor.scope.locations:
        keep &= frame["location_id"].astype(str).isin(actor.scope.locations)
    if actor.scope.categories:
        keep &= frame["category"].astype(str).isin(actor.scope.categories)
    return frame.loc[keep].reset_index(drop=True)


def _list_filters(
    *,
    level: list[str] | None,
    location: list[str] | None,
    category: list[str] | None,
    supplier: list[str] | None,
    q: str | None,
) -> ListFilters:
    """The filters of a list, checked (a level that is not one of LEVEL_RANK is refused)."""
    levels = [v.lower() for v in split_csv(level)]
    bad = [v for v in levels if v not in LEVEL_RANK]
    if bad:
        raise InputError(f"level {bad[0]!r} is not one of {', '.join(LEVEL_RANK)}")
    return ListFilters(
        levels=tuple(levels),
        locations=tuple(split_csv(location)),
        categories=tuple(split_csv(category)),
        suppliers=tuple(split_csv(supplier)),
        sku_text=q or "",
    )


def _where(actor: Actor, run_id: int, filters: ListFilters) -> list[sa.ColumnElement[bool]]:
    where = [A.c.run_id == run_id, scope_clause(actor.scope, location_col=A.c.location_id, category_col=A.c.category)]
    for col, values in (
        (A.c.level, filters.levels),
        (A.c.location_id, filters.locations),
        (A.c.category, filters.categories),
        (A.c.supplier_id, filters.suppliers),
    ):
        if values:
            where.append(col.in_(values))
    if filters.sku_text:
        where.append(sa.func.lower(A.c.sku).contains(filters.sku_text.lower(), autoescape=True))
    return where


def _check_sort(sort: str | None) -> str:
    """``sort`` checked and normalised (``urgency`` when not given)."""
    if not sort or sort in ("urgency", "-urgency"):
        return "urgency"
    name = sort.lstrip("-+")
    if name not in SORTABLE:
        raise InputError(f"sort {name!r} is not a column; use one of urgency, sku, location_id, level, ...")
    return f"-{name}" if sort.startswith("-") else name


def _order(sort: str) -> list[Any]:
    """The SQL order of a checked sort: as :mod:`stockwarden.services.run_index` orders in memory."""
    tiebreak = [A.c.sku.asc(), A.c.location_id.asc()]
    if sort == "urgency":
        rank = sa.case(dict(LEVEL_RANK), value=A.c.level, else_=UNRANKED_LEVEL)
        return [rank, A.c.stockout_probability.desc().nulls_last(), *tiebreak]
    col = A.c[sort.lstrip("-")]
    return [(col.desc() if sort.startswith("-") else col.asc()).nulls_last(), *tiebreak]


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
    (``sort``: a column, ``-column`` for descending, default most urgent first; missing values last).

    Answered from the process's in-memory index of the run (:mod:`stockwarden.services.run_index`),
    or by SQL in the same order when the run is larger than ``Settings.list_index_max_rows``."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    order = _check_sort(sort)
    filters = _list_filters(level=level, location=location, category=category, supplier=supplier, q=q)
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            return AssessmentPage([], 0, None, None)
        index = latest_index(s, ctx.cache, run_id, LIST_COLUMNS, ctx.settings.list_index_max_rows)
        if index is not None:
            mask = index.mask(actor, filters)
            ordered = index.order(order)
            matched = ordered[mask[ordered]]
            rows: Sequence[Sequence[Any]] = index.page(matched[offset : offset + limit], s)
            total, as_of = len(matched), index.as_of
        else:
            where = _where(actor, run_id, filters)
            total = s.scalar(sa.select(sa.func.count()).select_from(A).where(*where)) or 0
            rows = s.execute(
                sa.select(*(A.c[c] for c in LIST_COLUMNS))
                .where(*where)
                .order_by(*_order(order))
                .limit(limit)
                .offset(offset)
            ).all()
            as_of = s.scalar(sa.select(A.c.as_of).where(A.c.run_id == run_id).limit(1))
    items = [{c: json_value(v) for c, v in zip(LIST_COLUMNS, r, strict=True)} for r in rows]
    return AssessmentPage(items, int(total), run_id, as_of)


def prepare_lists(ctx: AppContext) -> int:
    """Read the latest completed run into this process's list index ahead of the first request (a
    server calls it at start, in the background); the number of assessments held (0: none or too many)."""
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        index = (
            None
            if run_id is None
            else latest_index(s, ctx.cache, run_id, LIST_COLUMNS, ctx.settings.list_index_max_rows)
        )
    return 0 if index is None else len(index)


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
        filters = _list_filters(level=level, location=location, category=category, supplier=supplier, q=q)
        rows = s.execute(
            sa.select(*(A.c[c] for c in ALL_ASSESSMENT_COLUMNS))
            .where(*_where(actor, run_id, filters))
            .order_by(*_order(_check_sort(sort)))
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
VARIANCE_WINDOW_DAYS = 56
QUANTILES = (("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95))


_DETAIL_ROW = sa.select(*(A.c[c] for c in ALL_ASSESSMENT_COLUMNS)).where(
    A.c.run_id == sa.bindparam("run_id"), A.c.sku == sa.bindparam("sku"), A.c.location_id == sa.bindparam("location_id")
)  # built once: a detail view must be fast


def sku_detail(ctx: AppContext, sku: str, location_id: str, *, actor: Actor) -> dict[str, Any]:
    """One SKU-location of the latest run: its assessment (levels, reasons, model factors), daily history
    with stockout days, daily demand quantiles, open purchase orders with their arrival ranges, and the
    projected stock.

    Raises:
        NotFound: no such SKU-location in the latest run, or outside the actor's scope.
    """
    from stockwarden.store.views import series_rows

    require(actor, Permission.READ)
    with read_scope(ctx) as s:
        run_id = latest_assessed_run(s)
        if run_id is None:
            raise NotFound("no completed run has stored assessments yet; start a run first")
        row = s.execute(_DETAIL_ROW, {"run_id": run_id, "sku": sku, "location_id": location_id}).one_or_none()
        missing = NotFound(f"SKU {sku!r} at location {location_id!r} is not in the latest run")
        if row is None:
            raise missing
        assessment = {c: json_value(v) for c, v in zip(ALL_ASSESSMENT_COLUMNS, row, strict=True)}
        if not (
            actor.scope.has_location(assessment.get("location_id"))
            and actor.scope.has_category(assessment.get("category"))
        ):
            raise missing
        as_of = dt.date.fromisoformat(str(assessment["as_of"]))
        start = as_of - dt.timedelta(days=HISTORY_DAYS - 1)
        rows = series_rows(s, sku, location_id, since=start)
    open_orders = _open_orders(rows["purchase_orders"], as_of, assessment)
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
        "history": _history(rows, start, as_of),
        "open_orders": open_orders,
        **_forecast_and_projection(rows, as_of, assessment, open_orders),
    }


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _history(rows: dict[str, list[Any]], start: dt.date, as_of: dt.date) -> list[dict[str, Any]]:
    sold: dict[dt.date, float] = {}
    for d, qty in rows["sales"]:
        sold[_day(d)] = sold.get(_day(d), 0.0) + float(qty or 0.0)
    counts = {_day(d): float(on_hand) for d, on_hand in rows["inventory"] if on_hand is not None}
    out = []
    for i in range((as_of - start).days + 1):
        d = start + dt.timedelta(days=i)
        on_hand = counts.get(d)
        out.append(
            {
                "date": d.isoformat(),
                "sales_qty": sold.get(d, 0.0),
                "on_hand": on_hand,
                "is_stockout": on_hand is not None and on_hand <= 0,
            }
        )
    return out


def _open_orders(po_rows: list[Any], as_of: dt.date, assessment: dict[str, Any]) -> list[dict[str, Any]]:
    lead = float(assessment.get("lead_time_days") or 0.0)
    delay = max(float(assessment.get("supplier_mean_delay_days") or 0.0), 0.0)
    out = []
    for po_id, qty, order_date, promised_date, received_date, status in po_rows:
        if received_date is not None or str(status or "open").lower() != "open" or order_date is None:
            continue
        ordered = _day(order_date)
        if ordered > as_of:
            continue
        promised = _day(promised_date) if promised_date is not None else ordered + dt.timedelta(days=round(lead))
        earliest = max(promised, as_of + dt.timedelta(days=1))
        latest = max(promised, as_of) + dt.timedelta(days=math.ceil(delay) or 1)
        out.append(
            {
                "po_id": po_id,
                "qty": float(qty or 0.0),
                "order_date": ordered.isoformat(),
                "promised_date": None if promised_date is None else _day(promised_date).isoformat(),
                "expected_arrival_earliest": earliest.isoformat(),
                "expected_arrival_latest": latest.isoformat(),
                "days_overdue": max(0, (as_of - promised).days),
            }
        )
    return out


def _forecast_and_projection(
    rows: dict[str, list[Any]], as_of: dt.date, assessment: dict[str, Any], open_orders: list[dict[str, Any]]
) -> dict[str, Any]:
    """Daily demand quantiles and the projected stock, from the run's own forecast.

    The run stores each series' mean daily forecast (``mean_daily_forecast``); the day-to-day spread is
    a negative binomial with that mean and the variance of the last :data:`VARIANCE_WINDOW_DAYS` days of
    sales (at least the mean: Poisson). Recomputing the run's full forecast for one series would take
    most of a second; this reads what the run decided in a few milliseconds.
    """
    from scipy.stats import nbinom, poisson

    mean = float(assessment.get("mean_daily_forecast") or 0.0)
    horizon = int(max(7, min(90, assessment.get("horizon_days") or 28)))
    first = as_of - dt.timedelta(days=VARIANCE_WINDOW_DAYS - 1)
    daily = dict.fromkeys((first + dt.timedelta(days=i) for i in range(VARIANCE_WINDOW_DAYS)), 0.0)
    for d, qty in rows["sales"]:
        if _day(d) in daily:
            daily[_day(d)] += float(qty or 0.0)
    values = list(daily.values())
    avg = sum(values) / len(values)
    var = max(sum((v - avg) ** 2 for v in values) / (len(values) - 1), mean)
    if mean <= 0:
        q = dict.fromkeys((k for k, _ in QUANTILES), 0.0)
    else:
        levels = [p for _, p in QUANTILES]  # one vectorised call: scipy's per-call overhead dominates
        if var <= mean * (1 + 1e-9):
            values = poisson.ppf(levels, mean)
        else:
            n = mean * mean / (var - mean)
            values = nbinom.ppf(levels, n, n / (n + mean))
        q = {k: float(v) for (k, _), v in zip(QUANTILES, values, strict=True)}
    arrivals: dict[str, float] = {}
    for po in open_orders:
        arrivals[po["expected_arrival_earliest"]] = arrivals.get(po["expected_arrival_earliest"], 0.0) + po["qty"]
    stock = float(assessment.get("on_hand") or 0.0) - float(assessment.get("backorders") or 0.0)
    forecast, projection = [], []
    for i in range(1, horizon + 1):
        day = (as_of + dt.timedelta(days=i)).isoformat()
        forecast.append({"date": day, "mean": round(mean, 4), **q})
        stock += arrivals.get(day, 0.0) - mean
        projection.append({"date": day, "projected_on_hand": round(stock, 3), "arrivals": arrivals.get(day, 0.0)})
    note = (
        "the run's mean daily forecast; quantiles of a negative binomial with the variance of the last "
        f"{VARIANCE_WINDOW_DAYS} days of sales"
    )
    return {"forecast": forecast, "projection": projection, "forecast_note": note}


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
    "run_assessments",
    "sku_detail",
]
