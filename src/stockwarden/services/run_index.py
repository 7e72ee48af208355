"""The latest run's assessments, held in memory by each server process for the assessment lists.

A list request (filters, sort, page) would otherwise count and sort the run's rows in SQL on every
call: at 30,000 SKU-locations that is most of a request's cost, and under load the database work of
16 clients queues on two cores. A run's assessments never change once the run completed, so each
process reads them once per run (a few hundred milliseconds at 30,000) and answers lists from
memory: integer codes for the filter columns, one row order per sort made on first use, and the
page's rows converted to JSON values as the database returned them.

The index is rebuilt when a newer completed run appears (one cheap query per request), so readers
still see exactly the latest completed run. Runs larger than ``Settings.list_index_max_rows`` are
not held in memory; their lists are answered by SQL with the same filters and the same order.

Order: the column asked for (ascending, or descending with ``-``), missing values last in both
directions, then SKU and location. ``urgency`` (the default) is level (critical first), then
stockout probability (highest first, missing last), then SKU and location.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.domain.actor import Actor
from stockwarden.domain.risk import ASSESSMENT_KINDS, LEVEL_RANK
from stockwarden.store.assessments import assessments as A  # noqa: N812 - the table is named once, briefly

UNRANKED_LEVEL = 9
"""Rank of a level that is not one of ``LEVEL_RANK`` (sorted after every known level)."""


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What a list asks for: levels (lower case, checked), exact values per column, SKU text."""

    levels: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    suppliers: tuple[str, ...] = ()
    sku_text: str = ""


class RunIndex:
    """One completed run's assessment rows with what filtering, sorting and paging need."""

    def __init__(self, run_id: int, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.run_id = run_id
        self.columns = tuple(columns)
        self.rows = list(rows)
        self._position = {c: i for i, c in enumerate(self.columns)}
        self._codes: dict[str, tuple[dict[Any, int], np.ndarray]] = {}
        for col in ("level", "location_id", "category", "supplier_id"):
            self._codes[col] = _codes(self.column(col))
        self._sku_lower = [str(v).lower() for v in self.column("sku")]
        self._tiebreak = (_ranks(self.column("location_id")), _ranks(self.column("sku")))
        self._orders: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        as_of = self.column("as_of")
        self.as_of: dt.date | None = _as_date(as_of[0]) if as_of else None

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        i = self._position[name]
        return [r[i] for r in self.rows]

    def mask(self, actor: Actor, filters: ListFilters) -> np.ndarray:
        """Rows inside the actor's scope that match ``filters``."""
        mask = np.ones(len(self.rows), dtype=bool)
        for col, allowed in (
            ("location_id", actor.scope.locations),
            ("category", actor.scope.categories),
            ("level", filters.levels),
            ("location_id", filters.locations),
            ("category", filters.categories),
            ("supplier_id", filters.suppliers),
        ):
            if allowed:
                lookup, codes = self._codes[col]
                wanted = np.asarray([lookup[v] for v in allowed if v in lookup], dtype=np.int32)
                mask &= np.isin(codes, wanted)
        text = filters.sku_text.lower()
        if text:
            rows = np.flatnonzero(mask)
            hit = np.fromiter((text in self._sku_lower[i] for i in rows), dtype=bool, count=len(rows))
            mask = np.zeros(len(mask), dtype=bool)
            mask[rows[hit]] = True
        return mask

    def order(self, sort: str) -> np.ndarray:
        """Row positions in the order of ``sort`` (a column, ``-column`` or ``urgency``); made once per sort."""
        with self._lock:
            if sort not in self._orders:
                self._orders[sort] = self._make_order(sort)
            return self._orders[sort]

    def _make_order(self, sort: str) -> np.ndarray:
        location_rank, sku_rank = self._tiebreak
        if sort in ("urgency", "-urgency"):
            level = np.fromiter(
                (LEVEL_RANK.get(v, UNRANKED_LEVEL) if v is not None else UNRANKED_LEVEL for v in self.column("level")),
                dtype=np.int64,
                count=len(self.rows),
            )
            missing, probability = _numbers(self.column("stockout_probability"))
            return np.lexsort((location_rank, sku_rank, -probability, missing, level))
        descending = sort.startswith("-")
        name = sort.lstrip("-+")
        values = self.column(name)
        if ASSESSMENT_KINDS.get(name) in ("float", "int"):
            missing, key = _numbers(values)
        else:
            missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            key = _ranks(values).astype(float)
        return np.lexsort((location_rank, sku_rank, -key if descending else key, missing))

    def page(self, positions: np.ndarray) -> list[tuple[Any, ...]]:
        """The rows at ``positions`` as the database returned them."""
        return [tuple(self.rows[i]) for i in positions]


def _codes(values: list[Any]) -> tuple[dict[Any, int], np.ndarray]:
    lookup: dict[Any, int] = {}
    codes = np.fromiter((lookup.setdefault(v, len(lookup)) for v in values), dtype=np.int32, count=len(values))
    return lookup, codes


def _ranks(values: list[Any]) -> np.ndarray:
    """Each value's rank among the distinct values (text in code-point order; missing values rank last)."""
    distinct = sorted({v for v in values if v is not None}, key=_sort_key)
    rank = {v: i for i, v in enumerate(distinct)}
    last = len(distinct)
    return np.fromiter(
        (rank.get(v, last) if v is not None else last for v in values), dtype=np.int64, count=len(values)
    )


def _sort_key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _numbers(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(missing, value)`` arrays of a numeric column (None and NaN are missing; their value is 0)."""
    out = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    missing = np.isnan(out)
    out[missing] = 0.0
    return missing, out


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_BUILD_LOCK = threading.Lock()


def latest_index(
    session: Session, cache: dict[str, Any], run_id: int, columns: Sequence[str], max_rows: int
) -> RunIndex | None:
    """The index of ``run_id`` from ``cache`` (read and kept there on first use), or None when the run
    has more than ``max_rows`` assessments (its lists are then answered by SQL)."""
    found = cache.get("run_index")
    if isinstance(found, RunIndex) and found.run_id == run_id and found.columns == tuple(columns):
        return found
    too_big = cache.get("run_index_too_big")
    if too_big == run_id:
        return None
    with _BUILD_LOCK:  # one process reads a run once, however many requests arrive together
        found = cache.get("run_index")
        if isinstance(found, RunIndex) and found.run_id == run_id and found.columns == tuple(columns):
            return found
        count = session.scalar(sa.select(sa.func.count()).select_from(A).where(A.c.run_id == run_id)) or 0
        if count > max_rows:
            cache["run_index_too_big"] = run_id
            return None
        rows = session.execute(sa.select(*(A.c[c] for c in columns)).where(A.c.run_id == run_id)).all()
        index = RunIndex(run_id, columns, rows)
        cache["run_index"] = index
        return index


__all__ = ["UNRANKED_LEVEL", "ListFilters", "RunIndex", "latest_index"]
