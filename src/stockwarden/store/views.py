"""Scoped, paged reads for the application layer: every query takes the scope's WHERE clause, so an
object outside the actor's scope is never read (the services turn "no row" into NotFound)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.store.tables import DATASET_TABLES

_HIDDEN = {"id", "seq", "row_hash", "line", "attrs_json", "batch_id"}


def dataset_columns(table: str) -> list[sa.Column[Any]]:
    """The canonical columns of a stored dataset table (bookkeeping columns left out)."""
    return [c for c in DATASET_TABLES[table].columns if c.name not in _HIDDEN]


def page_dataset(
    session: Session,
    table: str,
    *,
    where: sa.ColumnElement[bool],
    search: str | None,
    search_cols: tuple[str, ...],
    order_by: tuple[str, ...],
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Rows of a dataset table (as dicts), filtered by ``where`` and a case-insensitive text search."""
    t = DATASET_TABLES[table]
    clauses = [where]
    if search:
        pattern = f"%{search.lower()}%"
        clauses.append(sa.or_(*(sa.func.lower(t.c[c]).like(pattern) for c in search_cols)))
    total = session.scalar(sa.select(sa.func.count()).select_from(t).where(*clauses)) or 0
    cols = dataset_columns(table)
    rows = session.execute(
        sa.select(*cols).where(*clauses).order_by(*(t.c[c] for c in order_by), t.c.id).limit(limit).offset(offset)
    ).all()
    return [dict(r._mapping) for r in rows], int(total)


def _series_statements() -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    sales, inv, po = DATASET_TABLES["sales"], DATASET_TABLES["inventory"], DATASET_TABLES["purchase_orders"]
    sku: sa.BindParameter[str] = sa.bindparam("sku")
    loc: sa.BindParameter[str] = sa.bindparam("location_id")
    since: sa.BindParameter[Any] = sa.bindparam("since")
    return (
        sa.select(sales.c.date, sales.c.qty).where(
            sales.c.sku == sku, sales.c.location_id == loc, sales.c.date >= since
        ),
        sa.select(inv.c.date, inv.c.on_hand)
        .where(inv.c.sku == sku, inv.c.location_id == loc, inv.c.date >= since)
        .order_by(inv.c.id),
        sa.select(po.c.po_id, po.c.qty, po.c.order_date, po.c.promised_date, po.c.received_date, po.c.status)
        .where(po.c.sku == sku, po.c.location_id == loc)
        .order_by(po.c.id),
    )


_SERIES_SALES, _SERIES_INVENTORY, _SERIES_POS = _series_statements()  # built once: a detail view must be fast


def series_rows(session: Session, sku: str, location_id: str, *, since: Any) -> dict[str, list[Any]]:
    """One SKU-location's raw rows (no frames: a detail view must be fast): sales ``(date, qty)`` and
    counts ``(date, on_hand)`` since a date, and every purchase-order line
    ``(po_id, qty, order_date, promised_date, received_date, status)``."""
    params = {"sku": sku, "location_id": location_id, "since": since}
    return {
        "sales": list(session.execute(_SERIES_SALES, params).all()),
        "inventory": list(session.execute(_SERIES_INVENTORY, params).all()),
        "purchase_orders": list(session.execute(_SERIES_POS, params).all()),
    }


__all__ = ["dataset_columns", "load_series_frames", "page_dataset", "series_rows"]


def load_series_frames(
    session: Session, sku: str, location_id: str, *, tables: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Every dataset table limited to one SKU-location (rows naming another SKU or location left out;
    location-wide rows such as promotions for all locations kept), typed as a folder read types them."""
    import pandas as pd

    from stockwarden.ingest.dataset import empty_frame
    from stockwarden.ingest.schema import TABLES, Kind

    out: dict[str, Any] = {}
    for name, t in DATASET_TABLES.items():
        if tables is not None and name not in tables:
            out[name] = empty_frame(name)
            continue
        spec = TABLES[name]
        cols = list(spec.column_names)
        where: list[sa.ColumnElement[bool]] = []
        if "sku" in t.c:
            where.append(t.c.sku == sku)
        if "location_id" in t.c:
            nullable_loc = name in ("promotions", "events")
            loc = t.c.location_id == location_id
            where.append(sa.or_(loc, t.c.location_id.is_(None)) if nullable_loc else loc)
        rows = session.execute(sa.select(*(t.c[c] for c in cols)).where(*where).order_by(t.c.id)).all()
        if not rows:
            out[name] = empty_frame(name)
            continue
        frame = pd.DataFrame(rows, columns=cols)
        for c in cols:
            kind = spec.column(c).kind
            if kind is Kind.DATE:
                frame[c] = pd.to_datetime(frame[c])
            elif kind is Kind.STR:
                frame[c] = frame[c].astype(object)
            else:
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        frame["line"] = range(1, len(frame) + 1)
        out[name] = frame
    return out
