"""The latest run's assessments, held in memory by each server process for the assessment lists.

A list request (filters, sort, page) would otherwise count and sort the run's rows in SQL on every
call: at 30,000 SKU-locations that is most of a request's cost, and under load the database work of
16 clients queues on two cores. A run's assessments never change once the run completed, so each
process reads them once per run (a few hundred milliseconds at 30,000, 5 s at a million) and answers
lists from memory: the keys, integer codes for the filter columns and one row order per sort made on
first use (a sort column other than the default's is read then); the page's rows are then read by key,
one indexed query of at most a page. About 700 bytes a row (0.7 GB at a million).

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


INDEX_COLUMNS: tuple[str, ...] = ("sku", "location_id", "level", "category", "supplier_id", "stockout_probability")
"""What the index holds of every row: the key, the filter columns and the default sort's probability; any
other sort column is read once, when first asked for, and a page's rows are read by their keys."""


class RunIndex:
    """One completed run's assessments as filtering, sorting and paging need them: the keys (SKU,
    location) in key order, integer codes of the filter columns and one row order per sort. A page's rows
    are read by key (one indexed query of at most a page), so a million assessments cost about a hundred
    bytes each in memory, not every column as Python objects (2 KB a row)."""

    def __init__(self, run_id: int, columns: Sequence[str], engine: sa.Engine, head: dict[str, list[Any]]) -> None:
        self.run_id = run_id
        self.columns = tuple(columns)
        self._engine = engine
        self._sku = np.asarray(head["sku"], dtype=object)
        self._location = np.asarray(head["location_id"], dtype=object)
        self._codes: dict[str, tuple[dict[Any, int], np.ndarray]] = {}
        for col in ("level", "location_id", "category", "supplier_id"):
            self._codes[col] = _codes(head[col])
        self._head = {"level": head["level"], "stockout_probability": head["stockout_probability"]}
        self._sku_lower = [str(v).lower() for v in head["sku"]]
        self._tiebreak = (_ranks(head["location_id"]), _ranks(head["sku"]))
        self._orders: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.as_of: dt.date | None = _as_date(head["as_of"][0]) if head["as_of"] else None

    def __len__(self) -> int:
        return len(self._sku)

    def column(self, name: str) -> list[Any]:
        """The values of one column, in the index's row order (key order)."""
        if name in self._head:
            return self._head[name]
        with self._engine.connect() as conn:
            return list(conn.execute(_in_key_order(self.run_id, A.c[name])).scalars())

    def mask(self, actor: Actor, filters: ListFilters) -> np.ndarray:
        """Rows inside the actor's scope that match ``filters``."""
        mask = np.ones(len(self), dtype=bool)
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
                count=len(self),
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

    def page(self, positions: np.ndarray, session: Session) -> list[tuple[Any, ...]]:
        """The rows at ``positions`` as the database returns them (read by key in ``session``)."""
        if not len(positions):
            return []
        skus, locations = self._sku[positions], self._location[positions]
        stmt = sa.select(*(A.c[c] for c in ("sku", "location_id", *self.columns))).where(
            A.c.run_id == self.run_id, A.c.sku.in_(set(skus)), A.c.location_id.in_(set(locations))
        )
        found = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(stmt)}
        return [found[(k, loc)] for k, loc in zip(skus, locations, strict=True)]


def _in_key_order(run_id: int, *columns: Any) -> sa.Select[Any]:
    """``columns`` of one run's assessments in key order (the primary key's: SKU, then location)."""
    return sa.select(*columns).where(A.c.run_id == run_id).order_by(A.c.sku, A.c.location_id)


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
        rows = session.execute(_in_key_order(run_id, *(A.c[c] for c in (*INDEX_COLUMNS, "as_of")))).all()
        head = {c: [r[i] for r in rows] for i, c in enumerate((*INDEX_COLUMNS, "as_of"))}
        bind = session.get_bind()
        index = RunIndex(run_id, columns, bind if isinstance(bind, sa.Engine) else bind.engine, head)
        cache["run_index"] = index
        return index


__all__ = ["UNRANKED_LEVEL", "ListFilters", "RunIndex", "latest_index"]
