"""Bulk, idempotent upsert of one dataset table, with the fast path of each database.

An incoming table is turned into *storage records* (:func:`build_records`): the storage key
``row_key`` (natural key + ``seq``, see ``store/tables.py``), a 64-bit ``row_hash`` of the values, the
file line and the extra columns as JSON. :func:`upsert_records` then loads the stored keys and hashes
in one query, diffs them vectorised (pandas), and

* inserts new records: ``executemany`` batches on SQLite, ``COPY`` on PostgreSQL;
* updates only the records whose hash changed, after copying their previous values into
  ``import_history`` (changed rows are staged in a temporary table, then one ``INSERT ... SELECT`` and
  one ``UPDATE ... FROM``);
* leaves every other record untouched (an import never deletes: exports are often incremental).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from stockwarden.ingest.schema import TABLES

KEY_SEP = "\x1f"  # unit separator: never part of a cleaned cell value
STAGE = "_sw_stage"
SQLITE_BATCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an upsert did to one table."""

    inserted: int
    updated: int
    unchanged: int


def storage_columns(table: str) -> list[str]:
    """Columns written for every record: bookkeeping first, then the canonical columns."""
    return ["batch_id", "row_key", "seq", "row_hash", "line", "attrs_json", *TABLES[table].column_names]


def _key_text(s: pd.Series) -> np.ndarray:
    """One key column as text ('' for missing): ISO dates, whole numbers without '.0'."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = np.datetime_as_string(s.to_numpy().astype("datetime64[D]"), unit="D").astype(object)
        out[s.isna().to_numpy()] = ""
        return out
    if pd.api.types.is_float_dtype(s):
        return np.array([("" if v != v else (str(int(v)) if float(v).is_integer() else repr(v))) for v in s], object)
    return s.astype(object).where(s.notna(), "").to_numpy()


def build_records(frame: pd.DataFrame, table: str, extras: Sequence[str] = ()) -> pd.DataFrame:
    """Storage records of the accepted rows of ``table`` (file order kept).

    Args:
        frame: accepted rows with canonical columns, extra attribute columns and ``line``.
        table: dataset table name.
        extras: the extra (non-dataset) columns to keep as ``attrs_json``.

    Returns:
        A frame with ``row_key, seq, row_hash, line, attrs_json`` and the canonical columns.
    """
    spec = TABLES[table]
    cols = list(spec.column_names)
    n = len(frame)
    parts = [_key_text(frame[k]) for k in spec.key]
    base = pd.Series([KEY_SEP.join(t) for t in zip(*parts, strict=True)] if n else [], dtype=object)
    if n and base.duplicated().any():
        seq = base.groupby(base, sort=False).cumcount().to_numpy(dtype=np.int64)
    else:
        seq = np.zeros(n, dtype=np.int64)
    row_key = (base + KEY_SEP + pd.Series(seq, dtype=np.int64).astype(str)).to_numpy() if n else np.array([], object)

    extras = [c for c in extras if c in frame.columns]
    if extras and n:
        ev = frame[extras].astype(object).where(frame[extras].notna(), None).to_numpy()
        attrs = np.array([json.dumps(dict(zip(extras, row, strict=True)), ensure_ascii=False) for row in ev], object)
    else:
        attrs = np.full(n, None, dtype=object)

    records = pd.DataFrame({c: frame[c].to_numpy() for c in cols}, index=pd.RangeIndex(n))
    hashed = records.copy()
    nulls = np.zeros(n, dtype=np.int64)
    for i, c in enumerate(cols):
        nulls |= records[c].isna().to_numpy().astype(np.int64) << i
        if records[c].dtype == object:
            hashed[c] = records[c].where(records[c].notna(), "")
    hashed["_nulls"] = nulls
    hashed["_attrs"] = pd.Series(attrs, dtype=object).where(pd.notna(attrs), "")
    row_hash = pd.util.hash_pandas_object(hashed, index=False).to_numpy().view(np.int64) if n else np.zeros(0, np.int64)

    line = frame["line"].to_numpy(dtype=np.int64) if "line" in frame.columns else np.zeros(n, dtype=np.int64)
    head = pd.DataFrame({"row_key": row_key, "seq": seq, "row_hash": row_hash, "line": line, "attrs_json": attrs})
    return pd.concat([head, records], axis=1)


def _column_values(s: pd.Series) -> list[Any]:
    """A column as Python values for the driver: None for missing, ISO text for dates."""
    if pd.api.types.is_datetime64_any_dtype(s):
        arr = np.datetime_as_string(s.to_numpy().astype("datetime64[D]"), unit="D").astype(object)
        arr[s.isna().to_numpy()] = None
        return arr.tolist()  # type: ignore[no-any-return]
    if pd.api.types.is_float_dtype(s):
        a = s.to_numpy()
        out = a.astype(object)
        out[np.isnan(a)] = None
        return out.tolist()  # type: ignore[no-any-return]
    if pd.api.types.is_integer_dtype(s):
        return s.to_numpy().tolist()  # type: ignore[no-any-return]
    return s.astype(object).where(s.notna(), None).tolist()


def _rows(records: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    return zip(*(_column_values(records[c]) for c in columns), strict=True)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def write_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk-insert ``rows`` into ``table``: COPY on PostgreSQL, executemany batches elsewhere."""
    qt = _quote(conn, table)
    col_sql = ", ".join(_quote(conn, c) for c in columns)
    if conn.dialect.name == "postgresql":
        with _driver(conn).cursor() as cur, cur.copy(f"COPY {qt} ({col_sql}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {qt} ({col_sql}) VALUES ({marks})"
    cur = _driver(conn).cursor()
    try:
        it = iter(rows)
        while True:
            chunk = [r for _, r in zip(range(SQLITE_BATCH_ROWS), it, strict=False)]
            if not chunk:
                break
            cur.executemany(sql, chunk)
    finally:
        cur.close()


def read_keys(conn: Connection, table: str) -> pd.DataFrame:
    """The stored ``id, row_key, row_hash`` of every record of ``table``."""
    cur = _driver(conn).cursor()
    try:
        cur.execute(f"SELECT id, row_key, row_hash FROM {_quote(conn, table)}")
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return pd.DataFrame({"id": np.zeros(0, np.int64), "row_key": np.array([], object),
                             "row_hash": np.zeros(0, np.int64)})
    ids, keys, hashes = zip(*rows, strict=True)
    return pd.DataFrame({"id": np.fromiter(ids, np.int64, len(ids)), "row_key": np.array(keys, dtype=object),
                         "row_hash": np.fromiter(hashes, np.int64, len(hashes))})


def upsert_records(conn: Connection, table: str, records: pd.DataFrame, *, batch_id: int) -> UpsertCounts:
    """Insert new records, update changed ones (keeping history), count the unchanged.

    Args:
        conn: a connection inside the import's transaction.
        table: dataset table name.
        records: from :func:`build_records`.
        batch_id: the import batch writing them.
    """
    n = len(records)
    if n == 0:
        return UpsertCounts(0, 0, 0)
    existing = read_keys(conn, table)
    if len(existing):
        pos = pd.Index(existing["row_key"]).get_indexer(records["row_key"])
    else:
        pos = np.full(n, -1, dtype=np.int64)
    is_new = pos < 0
    old_hash = existing["row_hash"].to_numpy()[np.where(is_new, 0, pos)] if len(existing) else np.zeros(n, np.int64)
    is_changed = ~is_new & (old_hash != records["row_hash"].to_numpy())
    columns = storage_columns(table)
    if is_new.any():
        fresh = records.loc[is_new]
        fresh = fresh.assign(batch_id=batch_id)
        write_rows(conn, table, columns, _rows(fresh, columns))
    n_changed = int(is_changed.sum())
    if n_changed:
        changed = records.loc[is_changed].assign(batch_id=batch_id, id=existing["id"].to_numpy()[pos[is_changed]])
        _update_changed(conn, table, changed, ["id", *columns], batch_id=batch_id)
    n_new = int(is_new.sum())
    return UpsertCounts(n_new, n_changed, n - n_new - n_changed)


def _update_changed(conn: Connection, table: str, changed: pd.DataFrame, columns: list[str], *, batch_id: int) -> None:
    """Stage changed records, copy the previous values to history, then update in one statement."""
    q = lambda c: _quote(conn, c)  # noqa: E731 - tiny local helper
    qt = q(table)
    col_sql = ", ".join(q(c) for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {col_sql} FROM {qt} WHERE 1 = 0")
    write_rows(conn, STAGE, columns, _rows(changed, columns))
    kept = ["line", "attrs_json", *TABLES[table].column_names]
    pairs = ", ".join(f"'{c}', t.{q(c)}" for c in kept)
    as_json = f"json_build_object({pairs})::text" if conn.dialect.name == "postgresql" else f"json_object({pairs})"
    conn.execute(
        text(
            "INSERT INTO import_history (batch_id, table_name, record_id, row_key, previous_json) "
            f"SELECT :batch_id, :table_name, t.id, t.row_key, {as_json} "
            f"FROM {qt} AS t JOIN {STAGE} AS s ON s.id = t.id"
        ),
        {"batch_id": batch_id, "table_name": table},
    )
    sets = ", ".join(f"{q(c)} = s.{q(c)}" for c in columns if c not in ("id", "row_key"))
    conn.exec_driver_sql(f"UPDATE {qt} AS t SET {sets} FROM {STAGE} AS s WHERE t.id = s.id")
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")


__all__ = ["KEY_SEP", "UpsertCounts", "build_records", "read_keys", "storage_columns", "upsert_records", "write_rows"]
