"""The initial load of a large dataset folder, chunk by chunk: memory bounded by a chunk, not the company.

``stockwarden import`` (``store.repo.import_dataset``) reads every file whole, then diffs it against the
database: right for daily updates, but a million SKU-locations with a year of history do not fit in
memory. :func:`bulk_import` loads an **empty** database instead:

* the reference tables (items, locations, suppliers) and the small tables are read whole, as usual;
* ``sales``, ``inventory`` and ``purchase_orders`` in parquet are read one row group at a time (CSV and
  Excel files are read whole); every chunk goes through the same validation as ``stockwarden import``
  (same reasons, rejects to the quarantine with their row numbers), gets the same storage records
  (``seq``, ``row_hash``) and is written with ``COPY`` on PostgreSQL;
* every chunk is written sorted by (location, SKU, date), so the rows of a location lie together on disk
  and a partitioned run reads a location's rows from a few runs of pages, not from the whole table;
* every index and key of those three tables is dropped during the load and built again at the end from
  the definitions read from the catalog (one sort per index instead of an index insert per row), and the
  tables are analysed;
* on PostgreSQL the three tables (checked empty) are truncated in the load's transaction and written with
  ``COPY ... FREEZE``: rows stored frozen and all-visible, so no later pass rewrites the whole table;
* each chunk is read, validated and encoded for ``COPY`` in a helper thread while the previous one is
  written;
* the import batch, its counts and the per-day digests are recorded exactly as an import would, so the
  next daily ``stockwarden import`` updates the database as if it had been loaded that way.

A natural key must not span two chunks (two chunks could not be told apart from one with repeated keys):
the rows of one SKU-location (one PO for ``purchase_orders``) must all be in one row group, as
``ingest.sample.large`` writes them. A file that breaks this stops the load with a message naming the
chunks, and nothing is written (one transaction).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from stockwarden.errors import DatasetNotFound, SchemaError, StoreError
from stockwarden.ingest.read import RawTable, find_table_file, read_raw_table
from stockwarden.ingest.schema import TABLE_ORDER, TABLES
from stockwarden.ingest.validate import References, ValidationResult, validate_table
from stockwarden.store.bulk import copy_csv, csv_payload, quote, write_frame, write_rows
from stockwarden.store.db import describe
from stockwarden.store.repo import COUNT_KEYS, IMPORT_LOCK_KEY, TableReport
from stockwarden.store.tables import BATCHES, DATASET_TABLES, DIGESTS, RejectRow
from stockwarden.store.upsert import build_records, storage_columns, with_seq

CHUNKED: dict[str, tuple[str, ...]] = {
    "sales": ("sku", "location_id"),
    "inventory": ("sku", "location_id"),
    "purchase_orders": ("po_id",),
}
"""Tables read chunk by chunk, and the columns whose values must not span two chunks."""
CLUSTER_ORDER: dict[str, tuple[str, ...]] = {
    "sales": ("location_id", "sku", "date", "order_id"),
    "inventory": ("location_id", "sku", "date"),
    "purchase_orders": ("location_id", "sku", "po_id", "line_no"),
}
MAX_CHUNK_ROWS = 4_000_000  # a row group larger than this is split (its keys must still not span row groups)

# progress(description, rows done, rows in all)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BulkImportReport:
    """What :func:`bulk_import` loaded.

    Attributes:
        batch_id: the ``import_batches`` record.
        tables: per table loaded, the same counts as an import's report.
        chunks: per table, the chunks it was read in.
        seconds: per step (``prepare``: indexes dropped, tables truncated; ``read+validate+write`` per table,
            ``indexes``, ``analyze``), wall time.
    """

    batch_id: int
    tables: dict[str, TableReport]
    chunks: dict[str, int]
    seconds: dict[str, float]

    @property
    def rows(self) -> int:
        """Rows stored over all tables."""
        return sum(t.inserted for t in self.tables.values())


def bulk_import(engine: Engine, folder: Path | str, *, progress: Progress | None = None) -> BulkImportReport:
    """Load a dataset folder into an empty database, chunk by chunk (see the module docstring).

    Args:
        engine: a database at the newest schema whose dataset tables are empty.
        folder: the dataset folder (large tables best as parquet with row groups).
        progress: optional callback ``(description, rows done, rows in all)``.

    Returns:
        The per-table counts, chunk counts and step times.

    Raises:
        DatasetNotFound: when the folder does not exist.
        SchemaError: when a required table or column is missing, or a key spans two chunks.
        StoreError: when the database already holds data or cannot be written.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DatasetNotFound(f"dataset folder {root} does not exist or is not a folder")
    files = {n: p for n in TABLE_ORDER if (p := find_table_file(root, n)) is not None}
    missing = [n for n in TABLE_ORDER if TABLES[n].required_file and n not in files]
    if missing:
        raise SchemaError(
            f"{root}: required table {', '.join(missing)} is missing "
            f"(expected {missing[0]}.csv, .csv.gz, .parquet or .xlsx)",
            table=missing[0],
        )
    note = progress or (lambda _d, _c, _t: None)
    seconds: dict[str, float] = {}
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
            _require_empty(conn, engine)
            new_batch = BATCHES.insert().values(source=str(root.resolve()), started_at=_now(), status="running")
            batch_id = int(conn.execute(new_batch.returning(BATCHES.c.id)).scalar_one())
            started = time.perf_counter()
            bulk = [n for n in CHUNKED if n in files]
            dropped = _drop_indexes(conn, bulk)
            freeze = _truncate_for_freeze(conn, bulk)
            seconds["prepare"] = time.perf_counter() - started
            loader = _Loader(conn, batch_id, note, freeze=freeze)
            for name in TABLE_ORDER:
                if name in files:
                    started = time.perf_counter()
                    loader.load(name, files[name])
                    seconds[name] = time.perf_counter() - started
            started = time.perf_counter()
            _create_indexes(conn, dropped)
            seconds["indexes"] = time.perf_counter() - started
            started = time.perf_counter()
            if conn.dialect.name == "postgresql":
                for name in files:
                    conn.exec_driver_sql(f"ANALYZE {quote(conn, name)}")
            seconds["analyze"] = time.perf_counter() - started
            counts = {n: t.counts() for n, t in loader.reports.items()}
            conn.execute(
                BATCHES.update()
                .where(BATCHES.c.id == batch_id)
                .values(finished_at=_now(), status="done", counts_json=json.dumps(counts))
            )
    except (OperationalError, DBAPIError, engine.dialect.loaded_dbapi.Error) as exc:
        raise StoreError(f"cannot write to the database {describe(engine)}: {_first_line(exc)}") from exc
    return BulkImportReport(batch_id, loader.reports, loader.chunks, seconds)


class _Loader:
    """Reads, validates and writes the tables of one bulk load, keeping the references between them."""

    def __init__(self, conn: Connection, batch_id: int, note: Progress, *, freeze: frozenset[str]) -> None:
        self.conn = conn
        self.freeze = freeze
        self.batch_id = batch_id
        self.note = note
        self.refs = References()
        self.item_supplier: pd.Series | None = None
        self.reports: dict[str, TableReport] = {}
        self.chunks: dict[str, int] = {}

    def load(self, name: str, path: Path) -> None:
        """Load one table: the next chunk is read, validated and encoded in a helper thread while this one is
        written (the COPY mostly waits on the server)."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        digests: list[pd.DataFrame] = []
        n_chunks = 0
        prepared = self._prepared(name, path)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulkload") as pool:
            pending = pool.submit(next, prepared, None)
            while (chunk := pending.result()) is not None:
                pending = pool.submit(next, prepared, None)  # overlaps the COPY below
                self._write(name, chunk)
                digests.append(chunk.digests)
                self._write_rejects(chunk.result)
                res = chunk.result
                counts["read"] += res.n_read
                counts["accepted"] += len(res.accepted)
                counts["rejected"] += len(res.rejected)
                counts["duplicates"] += res.n_duplicates
                counts["inserted"] += chunk.n_records
                n_chunks += 1
                self.note(f"loading {name}", chunk.last_line, chunk.total)
        _store_digests(self.conn, name, digests)
        self.chunks[name] = n_chunks
        self.reports[name] = TableReport(table=name, file=path.name, **counts)

    def _write(self, name: str, chunk: _Chunk) -> None:
        columns = storage_columns(name)
        if chunk.payload is not None:
            copy_csv(self.conn, name, columns, chunk.payload, freeze=name in self.freeze)
        elif chunk.records is not None:
            write_frame(self.conn, name, chunk.records, columns, constants={"batch_id": self.batch_id})

    def _prepared(self, name: str, path: Path) -> Iterator[_Chunk]:
        """Each chunk read, validated, turned into storage records and (PostgreSQL) encoded for COPY; no
        database access: runs in a thread."""
        seen = _SeenKeys(name, path)
        copy = self.conn.dialect.name == "postgresql"
        for k, (raw, total) in enumerate(_chunks(name, path)):
            res = validate_table(raw, self.refs)
            accepted = self._fill_defaults(name, res.accepted)
            if name in CHUNKED:
                seen.check(accepted, chunk=k)
                accepted = accepted.sort_values(list(CLUSTER_ORDER[name]), kind="stable", ignore_index=True)
            records = _with_seq(build_records(accepted, name, res.extra_columns), name)
            self._remember(name, res)
            payload = (
                csv_payload(records, storage_columns(name), constants={"batch_id": self.batch_id}) if copy else None
            )
            yield _Chunk(
                result=res,
                records=None if copy else records,
                payload=payload,
                n_records=len(records),
                digests=_digest_parts(records),
                last_line=int(raw.line_numbers.iloc[-1]) if len(raw.line_numbers) else 0,
                total=total,
            )

    def _fill_defaults(self, name: str, accepted: pd.DataFrame) -> pd.DataFrame:
        """A PO line's missing supplier is the item's (as ``ingest.dataset`` does for a whole folder)."""
        if name != "purchase_orders" or self.item_supplier is None or not accepted["supplier_id"].isna().any():
            return accepted
        return accepted.assign(supplier_id=accepted["supplier_id"].fillna(accepted["sku"].map(self.item_supplier)))

    def _remember(self, name: str, res: ValidationResult) -> None:
        if name == "items":
            self.refs = replace(self.refs, skus=frozenset(res.accepted["sku"]))
            self.item_supplier = res.accepted.set_index("sku")["supplier_id"]
        elif name == "locations":
            self.refs = replace(self.refs, locations=frozenset(res.accepted["location_id"]))
        elif name == "suppliers":
            self.refs = replace(self.refs, suppliers=frozenset(res.accepted["supplier_id"]))

    def _write_rejects(self, res: ValidationResult) -> None:
        rejects = res.rejected
        if not len(rejects):
            return
        cols = ["batch_id", "table_name", "file", "line", "column_name", "value", "reason"]
        rows = zip(
            [self.batch_id] * len(rejects),
            rejects["table"],
            rejects["file"],
            rejects["line"].astype(int).tolist(),
            rejects["column"],
            rejects["value"],
            rejects["reason"],
            strict=True,
        )
        write_rows(self.conn, RejectRow.__tablename__, cols, rows)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """One chunk ready to write: its validation result, its records (SQLite) or COPY payload (PostgreSQL)."""

    result: ValidationResult
    records: pd.DataFrame | None
    payload: bytes | None
    n_records: int
    digests: pd.DataFrame
    last_line: int
    total: int


class _SeenKeys:
    """The key values (SKU-locations, POs) of the chunks loaded so far, to refuse a key spanning two chunks."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.chunk_of = np.zeros(0, dtype=np.int64)

    def check(self, accepted: pd.DataFrame, *, chunk: int) -> None:
        cols = list(CHUNKED[self.name])
        if not len(accepted):
            return
        keys = accepted[cols].drop_duplicates()
        hashed = pd.util.hash_pandas_object(keys, index=False).to_numpy()
        if len(self.hashes):
            pos = np.clip(np.searchsorted(self.hashes, hashed), 0, len(self.hashes) - 1)
            clash = self.hashes[pos] == hashed
            if clash.any():
                first = keys.iloc[int(np.flatnonzero(clash)[0])]
                what = ", ".join(f"{c}={first[c]!r}" for c in cols)
                raise SchemaError(
                    f"{self.path.name}: the rows of {what} are in row groups {int(self.chunk_of[pos[clash][0]]) + 1} "
                    f"and {chunk + 1}; the bulk loader needs each "
                    f"{'SKU-location' if self.name != 'purchase_orders' else 'PO'} in one row group. "
                    "Rewrite the file grouped that way, or load it with 'stockwarden import'",
                    table=self.name,
                    source=str(self.path),
                )
        merged = np.concatenate([self.hashes, hashed])
        chunks = np.concatenate([self.chunk_of, np.full(len(hashed), chunk, dtype=np.int64)])
        order = np.argsort(merged, kind="stable")
        self.hashes, self.chunk_of = merged[order], chunks[order]


def _chunks(name: str, path: Path) -> Iterator[tuple[RawTable, int]]:
    """The file as raw text tables, one per parquet row group (or split batch) of a chunked table."""
    if name not in CHUNKED or not path.name.endswith(".parquet"):
        raw = read_raw_table(path, name)
        yield raw, len(raw.frame)
        return
    try:
        pf = pq.ParquetFile(path)
        total = pf.metadata.num_rows
        offset = 0
        for g in range(pf.num_row_groups):
            group = pf.read_row_group(g)
            for start in range(0, max(group.num_rows, 1), MAX_CHUNK_ROWS):
                part = group.slice(start, MAX_CHUNK_ROWS)
                if part.num_rows == 0:
                    continue
                lines = pd.Series(np.arange(offset + 1, offset + 1 + part.num_rows, dtype=np.int64))
                offset += part.num_rows
                yield RawTable(name, path, arrow_text(part), lines, None, {}), total
    except (OSError, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaError(f"{path}: cannot read the file ({reason})", table=name, source=str(path)) from exc


def arrow_text(table: pa.Table) -> pd.DataFrame:
    """Every cell of an Arrow table as text, as ``ingest.read`` turns a parquet file into text cells.

    Dates without a time are ``YYYY-MM-DD``, whole numbers have no ``.0``, missing values are ``""``;
    done column-wise in Arrow (the per-cell Python conversion of a whole-file read is too slow at
    hundreds of millions of cells). Columns are ``string[pyarrow]``.
    """
    out: dict[str, pd.Series] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        t = arr.type
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            as_day = arr.cast(pa.date32()) if pa.types.is_timestamp(t) else arr
            is_midnight = (
                pc.equal(arr.cast(pa.timestamp("s")), as_day.cast(pa.timestamp("s")))
                if pa.types.is_timestamp(t)
                else None
            )
            day_text = as_day.cast(pa.string())
            if is_midnight is not None and not pc.all(pc.fill_null(is_midnight, True)).as_py():
                full = pc.strftime(arr, format="%Y-%m-%dT%H:%M:%S")
                day_text = pc.if_else(pc.fill_null(is_midnight, True), day_text, full)
            strings = day_text
        elif pa.types.is_floating(t):
            whole = pc.equal(pc.floor(arr), arr)
            as_int = pc.if_else(whole, arr, pa.scalar(0.0)).cast(pa.int64(), safe=False).cast(pa.string())
            strings = pc.if_else(whole, as_int, arr.cast(pa.string()))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            strings = pc.utf8_trim_whitespace(arr)
        else:
            strings = arr.cast(pa.string())
        strings = pc.fill_null(strings.cast(pa.large_string()), "")
        out[name] = pd.Series(pd.arrays.ArrowStringArray(strings), copy=False)
    return pd.DataFrame(out, copy=False)


def _with_seq(records: pd.DataFrame, name: str) -> pd.DataFrame:
    """``store.upsert.with_seq`` for a chunk sorted by :data:`CLUSTER_ORDER`: where that order is the natural
    key's columns, rows sharing a key are adjacent (in file order: the sort is stable) and each row's ``seq``
    is its place in its run, found by comparing each row with the one before (no hashing of every key)."""
    key = TABLES[name].key
    if name not in CLUSTER_ORDER or set(CLUSTER_ORDER[name]) != set(key):
        return with_seq(records, name)
    n = len(records)
    if n == 0:
        return with_seq(records, name)
    same = np.ones(n - 1, dtype=bool)
    for c in key:
        values = records[c].to_numpy()
        missing = pd.isna(values)
        same &= (values[1:] == values[:-1]) | (missing[1:] & missing[:-1])
    index = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(np.r_[True, ~same], index, 0))  # where each row's run starts
    return records.assign(seq=index - first)


def _digest_parts(records: pd.DataFrame) -> pd.DataFrame:
    """Per partition (day): row count and sum of row hashes modulo 2**64, as ``store.upsert`` keeps them."""
    frame = pd.DataFrame({"part": records["part"].to_numpy(), "h": records["row_hash"].to_numpy().view(np.uint64)})
    with np.errstate(over="ignore"):
        return frame.groupby("part", sort=False).agg(n_rows=("h", "size"), hash_sum=("h", "sum")).reset_index()


def _store_digests(conn: Connection, table: str, parts: list[pd.DataFrame]) -> None:
    if not parts:
        return
    both = pd.concat(parts, ignore_index=True)
    with np.errstate(over="ignore"):
        total = both.groupby("part", sort=True).agg(n_rows=("n_rows", "sum"), hash_sum=("hash_sum", "sum"))
    rows = [
        {"table_name": table, "part": p, "n_rows": int(n), "hash_sum": int(np.uint64(h).view(np.int64))}
        for p, n, h in zip(total.index, total["n_rows"], total["hash_sum"].to_numpy(dtype=np.uint64), strict=True)
    ]
    if rows:
        conn.execute(DIGESTS.insert(), rows)


def _require_empty(conn: Connection, engine: Engine) -> None:
    for name, table in DATASET_TABLES.items():
        if conn.execute(select(table.c.id).limit(1)).first() is not None:
            raise StoreError(
                f"the database {describe(engine)} already holds data (table {name}); the bulk loader only "
                "loads an empty database. Use 'stockwarden import' to update it, or load into a new database"
            )


@dataclass(frozen=True, slots=True)
class _Index:
    """One index (or primary/unique key) of a loaded table, dropped for the load and rebuilt after it."""

    table: str
    name: str
    create: str  # the statement that builds it again
    drop: str
    constraint: bool


def _table_indexes(conn: Connection, table: str) -> list[_Index]:
    """Every index of ``table`` with the statements that drop it and build it again, read from the catalog
    (so whatever the migrations defined comes back exactly, keys included)."""
    qt = quote(conn, table)
    out = []
    if conn.dialect.name == "postgresql":
        keys = conn.execute(
            text(
                "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype IN ('p', 'u') ORDER BY c.conname"
            ),
            {"t": table},
        ).all()
        for name, definition in keys:
            qn = quote(conn, name)
            out.append(
                _Index(
                    table,
                    name,
                    f"ALTER TABLE {qt} ADD CONSTRAINT {qn} {definition}",
                    f"ALTER TABLE {qt} DROP CONSTRAINT {qn}",
                    constraint=True,
                )
            )
        plain = conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = CAST(:t AS regclass) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname"
            ),
            {"t": table},
        ).all()
        out += [_Index(table, n, d, f"DROP INDEX {quote(conn, n)}", constraint=False) for n, d in plain]
    else:
        rows = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
            {"t": table},
        ).all()
        out += [_Index(table, n, d, f"DROP INDEX {quote(conn, n)}", constraint=False) for n, d in rows]
    return out


def _drop_indexes(conn: Connection, tables: Iterable[str]) -> list[_Index]:
    """Drop every index and key of ``tables`` (rows are then written to the bare heap); returns them.

    Writing hundreds of millions of rows into btrees one at a time costs several times the COPY itself;
    one sort per index at the end is far cheaper. The dataset tables have no foreign keys (store.tables).
    """
    dropped = []
    for table in tables:
        for index in _table_indexes(conn, table):
            conn.exec_driver_sql(index.drop)
            dropped.append(index)
    return dropped


_SORT_MEMORY = (  # at least 1 GB for the index sorts, never less than the server's own setting; this transaction only
    "SELECT set_config('maintenance_work_mem', (greatest(pg_size_bytes(current_setting('maintenance_work_mem')), "
    "pg_size_bytes('1GB')) / 1024)::text || 'kB', true)"
)


def _create_indexes(conn: Connection, indexes: Sequence[_Index]) -> None:
    """Build the dropped indexes again (primary keys first: they also check the ids are unique)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_SORT_MEMORY)
    for index in sorted(indexes, key=lambda i: not i.constraint):
        conn.exec_driver_sql(index.create)


def _truncate_for_freeze(conn: Connection, tables: Sequence[str]) -> frozenset[str]:
    """PostgreSQL: truncate the (empty) ``tables`` in this transaction so ``COPY ... FREEZE`` may write them.

    Frozen rows are written all-visible: no later pass rewrites every page to set hint bits or freeze
    them (a first read of a freshly loaded table otherwise dirties all its pages, and the anti-wraparound
    vacuum writes them all once more), and index-only scans work from the start. Returns the tables
    that may be written frozen (none on SQLite).
    """
    if conn.dialect.name != "postgresql" or not tables:
        return frozenset()
    conn.exec_driver_sql(f"TRUNCATE {', '.join(quote(conn, t) for t in tables)}")
    return frozenset(tables)


def _now() -> datetime:
    return datetime.now(UTC)


def _first_line(exc: BaseException) -> str:
    orig: Any = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


__all__ = ["CHUNKED", "BulkImportReport", "arrow_text", "bulk_import"]
