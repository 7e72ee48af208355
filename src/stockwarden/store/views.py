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


__all__ = ["dataset_columns", "page_dataset"]
