"""Partitions of the daily run: which rows each one loads, and loading only those rows.

A partitioned run (issue 15) splits the company into partitions that each load, forecast and assess
only their own SKU-locations. :func:`plan_partitions` cuts the company:

* **by location** when there are at least as many locations as partitions wanted: partition ``k``
  holds whole locations (every SKU at them), assigned in location order so neighbouring stores of a
  chain stay together; the rows of a location are together on disk after a bulk load;
* **by hashed SKU** otherwise (a few locations, many SKUs): partition ``k`` holds the SKUs whose
  ``crc32(sku) mod n`` is ``k``, at every location. Hashing, not ranges, so every partition gets a
  fair mix of fast and slow movers whatever the SKU naming.

Both shapes are one filter ``location_id IN (...) [AND sku IN (...)]`` that the partition index
``(location_id, sku, ...)`` (migration 0007_scale) answers. The plan depends only on the master data
and the partition count, never on the cluster or the time, so a resumed run gets the same partitions.

:func:`load_partition` loads one partition as a :class:`~stockwarden.ingest.Dataset`: items, locations,
transactions and promotions of its own, suppliers and events whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from stockwarden.errors import StoreError
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.ingest.schema import TABLE_ORDER
from stockwarden.store.db import describe
from stockwarden.store.repo import _read_table
from stockwarden.store.tables import DATASET_TABLES, DIGESTS

DEFAULT_PARTITION_SERIES = 10_000  # SKU-locations per partition when no count is given
BY_LOCATION = "location"
BY_SKU_HASH = "sku_hash"


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of a run.

    Attributes:
        index: 0-based position in the plan.
        count: partitions in the plan.
        locations: the locations whose rows it loads.
        skus: the SKUs whose rows it loads (``None`` = every SKU at its locations).
        n_series: SKU-locations it holds (items x its locations; an upper bound of the active series).
    """

    index: int
    count: int
    locations: tuple[str, ...]
    skus: tuple[str, ...] | None
    n_series: int

    @property
    def label(self) -> str:
        """``k/n`` (1-based), for progress lines and error messages."""
        return f"{self.index + 1}/{self.count}"


def sku_shard(skus: np.ndarray, count: int) -> np.ndarray:
    """The hashed shard (``crc32(sku) mod count``) of each SKU: stable across machines and runs."""
    return np.fromiter((zlib.crc32(str(s).encode("utf-8")) % count for s in skus), dtype=np.int64, count=len(skus))


def plan_partitions(
    skus: list[str], locations: list[str], *, partitions: int | None = None, max_series: int | None = None
) -> list[Partition]:
    """Cut ``skus x locations`` into partitions (see the module docstring).

    Args:
        skus: every SKU of the company.
        locations: every location.
        partitions: how many partitions (default: enough for ``max_series`` SKU-locations each).
        max_series: SKU-locations per partition when ``partitions`` is not given (default 10,000).

    Returns:
        The partitions, in order; empty ones are dropped (renumbered).

    Raises:
        ValueError: when ``partitions`` or ``max_series`` is below 1.
    """
    if partitions is not None and partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    if max_series is not None and max_series < 1:
        raise ValueError(f"max_series must be at least 1, got {max_series}")
    locs = sorted(set(locations))
    items = sorted(set(skus))
    n_series = len(items) * len(locs)
    if partitions is None:
        partitions = max(1, math.ceil(n_series / (max_series or DEFAULT_PARTITION_SERIES)))
    groups: list[tuple[tuple[str, ...], tuple[str, ...] | None, int]] = []
    if partitions == 1 or not locs or not items:
        groups.append((tuple(locs), None, n_series))
    elif len(locs) >= partitions:
        for chunk in np.array_split(np.array(locs, dtype=object), partitions):
            if len(chunk):
                groups.append((tuple(chunk), None, len(chunk) * len(items)))
    else:
        shard = sku_shard(np.array(items, dtype=object), partitions)
        for k in range(partitions):
            mine = tuple(s for s, h in zip(items, shard, strict=True) if h == k)
            if mine:
                groups.append((tuple(locs), mine, len(mine) * len(locs)))
    return [Partition(i, len(groups), g[0], g[1], g[2]) for i, g in enumerate(groups)]


def load_master(engine: Engine) -> tuple[list[str], list[str]]:
    """Every SKU and location of the stored dataset (items and locations, plus any only seen in sales)."""
    items, locations = DATASET_TABLES["items"], DATASET_TABLES["locations"]
    sales = DATASET_TABLES["sales"]
    try:
        with engine.connect() as conn:
            skus = {r[0] for r in conn.execute(select(items.c.sku))}
            locs = {r[0] for r in conn.execute(select(locations.c.location_id))}
            if not skus or not locs:  # items/locations tables are optional in a dataset
                pairs = conn.execute(select(sales.c.sku, sales.c.location_id).distinct()).all()
                skus |= {p[0] for p in pairs}
                locs |= {p[1] for p in pairs}
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(f"cannot read the dataset from {describe(engine)}: {exc.orig or exc}") from exc
    return sorted(skus), sorted(locs)


def load_partition(engine: Engine, part: Partition) -> Dataset:
    """The stored dataset restricted to one partition's SKU-locations (same columns and dtypes).

    Raises:
        StoreError: when the database cannot be read.
    """
    frames = {}
    try:
        with engine.connect() as conn:
            for name in TABLE_ORDER:
                frames[name] = _read_table(conn, name, _partition_filter(name, part))
    except (OperationalError, DBAPIError, engine.dialect.loaded_dbapi.Error) as exc:
        raise StoreError(
            f"cannot read partition {part.label} from {describe(engine)}: {str(exc).splitlines()[0]}"
        ) from exc
    present = frozenset(n for n, f in frames.items() if len(f))
    return Dataset(**frames, present=present)


COMPANY_TABLES: tuple[str, ...] = ("items", "locations", "suppliers", "purchase_orders", "promotions", "events")


def load_company(engine: Engine) -> Dataset:
    """The company-wide view of a partitioned run: every table but sales and inventory (those stay per partition).

    Raises:
        StoreError: when the database cannot be read.
    """
    frames = {}
    try:
        with engine.connect() as conn:
            for name in TABLE_ORDER:
                frames[name] = _read_table(conn, name) if name in COMPANY_TABLES else empty_frame(name)
    except (OperationalError, DBAPIError, engine.dialect.loaded_dbapi.Error) as exc:
        raise StoreError(f"cannot read the dataset from {describe(engine)}: {str(exc).splitlines()[0]}") from exc
    present = frozenset(n for n, f in frames.items() if len(f))
    return Dataset(**frames, present=present)


def last_date(engine: Engine) -> dt.date | None:
    """The newest date of sales and stock counts (the default as-of of a run), or None without dated rows.

    Read from the import digests (one row per table and day holding rows, kept by every import) when
    there are any: a ``max(date)`` reads the whole sales table (no index leads with the date). Tables
    written without an import have no digests: their dates are read.
    """
    found = []
    d = DIGESTS
    with engine.connect() as conn:
        newest = conn.execute(
            select(func.max(d.c.part)).where(d.c.table_name.in_(("sales", "inventory")), d.c.part != "", d.c.n_rows > 0)
        ).scalar()
        if newest:
            return dt.date.fromisoformat(str(newest)[:10])
        for name in ("sales", "inventory"):
            value = conn.execute(select(func.max(DATASET_TABLES[name].c.date))).scalar()
            if value is not None:
                found.append(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))
    return max(found) if found else None


def series_keys_as_of(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Every (sku, location_id) with a sale, a count or a PO known at ``as_of``, sorted (``Dataset.series_keys``)."""
    parts = []
    with engine.connect() as conn:
        for name, col in (("sales", "date"), ("inventory", "date"), ("purchase_orders", "order_date")):
            t = DATASET_TABLES[name]
            stmt = select(t.c.sku, t.c.location_id).where(t.c[col] <= as_of).distinct()
            parts.append(pd.DataFrame(conn.execute(stmt).all(), columns=["sku", "location_id"]))
    keys = pd.concat(parts, ignore_index=True).drop_duplicates()
    return keys.sort_values(["sku", "location_id"]).reset_index(drop=True).astype(object)


def store_fingerprint(engine: Engine, as_of: dt.date) -> str:
    """A short hash of the data known at ``as_of``, from the import digests (no row is read).

    Every import keeps, per table and day, the row count and the sum of the rows' hashes; the
    digests of the days up to ``as_of`` (and of the undated tables) change exactly when the data a
    run of that date reads changes.
    """
    d = DIGESTS
    digest = hashlib.sha256()
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.table_name, d.c.part, d.c.n_rows, d.c.hash_sum)
            .where((d.c.part == "") | (d.c.part <= as_of.isoformat()))
            .order_by(d.c.table_name, d.c.part)
        ).all()
    for row in rows:
        digest.update("|".join(map(str, row)).encode() + b"\n")
    return digest.hexdigest()[:16]


def _partition_filter(name: str, part: Partition) -> object:
    t = DATASET_TABLES[name]
    conds: list[Any] = []
    if "location_id" in t.c and name not in ("promotions", "events"):
        conds.append(t.c.location_id.in_(part.locations))
    if "sku" in t.c and part.skus is not None:
        conds.append(t.c.sku.in_(part.skus))
    if name == "promotions":  # a promotion with no location applies everywhere
        conds.append(t.c.location_id.in_(part.locations) | t.c.location_id.is_(None) | (t.c.location_id == ""))
    return and_(*conds) if conds else None


__all__ = [
    "BY_LOCATION",
    "BY_SKU_HASH",
    "COMPANY_TABLES",
    "DEFAULT_PARTITION_SERIES",
    "Partition",
    "last_date",
    "load_company",
    "load_master",
    "load_partition",
    "plan_partitions",
    "series_keys_as_of",
    "sku_shard",
    "store_fingerprint",
]
