"""Bulk, idempotent upsert of one dataset table, with the fast path of each database.

An incoming table is turned into *storage records* (:func:`build_records`): the storage key
``row_key`` (natural key + ``seq``, see ``store/tables.py``), a 64-bit ``row_hash`` of the values, the
file line, the extra columns as JSON, and a *partition* (the row's date for dated tables, one partition
for the others). :func:`upsert_records` then

1. compares a digest per partition (row count and sum of row hashes, kept in ``import_digests``) with
   the stored one: a partition whose digest is unchanged holds exactly the same rows, so its rows are
   counted unchanged without reading them back (a re-import of the same files reads no rows at all);
2. for the other partitions, loads the stored keys and hashes in one query and diffs them vectorised;
3. inserts new records (``executemany`` batches on SQLite, ``COPY`` on PostgreSQL) and updates only the
   records whose hash changed, after copying their previous values into ``import_history`` (changed rows
   are staged in a temporary table, then one ``INSERT ... SELECT`` and one ``UPDATE ... FROM``).

Exports are often incremental, so an import never deletes what its files do not mention. What a file
does mention it states in full: **a file that contains a replacement group replaces all stored lines of
that group** (:data:`REPLACE_KEYS`: for sales a date, sku and location; for other tables the natural
key). A re-export with fewer lines for a day, SKU and location therefore leaves exactly the file's lines,
never a stale extra line; the removed lines are kept in ``import_history`` and listed in the import
report (lines before and after per group).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, select, text

from stockwarden.ingest.schema import TABLES, Kind
from stockwarden.store.bulk import iso_dates as _iso_dates
from stockwarden.store.bulk import quote as _quote
from stockwarden.store.bulk import write_frame
from stockwarden.store.tables import DATASET_TABLES, DIGESTS, HISTORY

KEY_SEP = "\x1f"  # unit separator: never part of a cleaned cell value
STAGE = "_sw_stage"
IN_CHUNK = 500
WHOLE = ""  # partition name of tables without a date column
# The columns of a replacement group: a file holding any line of a group replaces all stored lines of it.
# Sales are lines of a day's demand at one place: the group is (date, sku, location_id), whatever the order_id.
REPLACE_KEYS: dict[str, tuple[str, ...]] = {
    **{name: spec.key for name, spec in TABLES.items()},
    "sales": ("date", "sku", "location_id"),
}


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an upsert did to one table."""

    inserted: int
    updated: int
    unchanged: int
    removed: int = 0
    replaced: tuple[dict[str, Any], ...] = ()


def storage_columns(table: str) -> list[str]:
    """Columns written for every record: bookkeeping first, then the canonical columns."""
    return ["batch_id", "seq", "row_hash", "line", "attrs_json", *TABLES[table].column_names]


def _key_text(s: pd.Series) -> pa.Array:
    """One key column as Arrow text ('' for missing): ISO dates, whole numbers without '.0'."""
    if pd.api.types.is_datetime64_any_dtype(s):
        arr = pa.array(s.to_numpy().astype("datetime64[D]"), from_pandas=True).cast(pa.string())
    elif pd.api.types.is_float_dtype(s):
        arr = pa.array(
            [None if v != v else (str(int(v)) if float(v).is_integer() else repr(v)) for v in s], pa.string()
        )
    else:
        arr = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    return pc.fill_null(arr, "")


def _occurrences(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """For each row, how many earlier rows share its key (0 for the first): the ``seq`` of sales lines."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    hashed = pd.util.hash_pandas_object(frame[key], index=False)
    maybe = hashed.duplicated(keep=False).to_numpy()  # equal keys hash equal; a collision only costs time
    seq = np.zeros(n, dtype=np.int64)
    if maybe.any():
        sub = frame.loc[maybe, key]
        seq[maybe] = sub.groupby(key, dropna=False, sort=False).cumcount().to_numpy(dtype=np.int64)
    return seq


def build_records(frame: pd.DataFrame, table: str, extras: Sequence[str] = ()) -> pd.DataFrame:
    """Storage records of the accepted rows of ``table`` (file order kept).

    Args:
        frame: accepted rows with canonical columns, extra attribute columns and ``line``.
        table: dataset table name.
        extras: the extra (non-dataset) columns to keep as ``attrs_json``.

    Returns:
        A frame with ``row_hash, line, attrs_json, part`` and the canonical columns; the storage key
        (``row_key``, ``seq``) is added by :func:`with_storage_keys` only where it is needed.
    """
    spec = TABLES[table]
    cols = list(spec.column_names)
    n = len(frame)

    extras = [c for c in extras if c in frame.columns]
    if extras and n:
        ev = frame[extras].astype(object).where(frame[extras].notna(), None).to_numpy()
        attrs = np.array([json.dumps(dict(zip(extras, row, strict=True)), ensure_ascii=False) for row in ev], object)
    else:
        attrs = np.full(n, None, dtype=object)

    data: dict[str, Any] = {c: frame[c].to_numpy() for c in cols}
    hashed = pd.DataFrame({**data, "_attrs": attrs}, index=pd.RangeIndex(n), copy=False)
    row_hash = pd.util.hash_pandas_object(hashed, index=False).to_numpy().view(np.int64) if n else np.zeros(0, np.int64)
    line = frame["line"].to_numpy(dtype=np.int64) if "line" in frame.columns else np.zeros(n, dtype=np.int64)
    if spec.date_column and n:
        part = _iso_dates(frame[spec.date_column].to_numpy())
    else:
        part = np.full(n, WHOLE, dtype=object)
    head = {"row_hash": row_hash, "line": line, "attrs_json": attrs, "part": part}
    return pd.DataFrame({**head, **data}, index=pd.RangeIndex(n), copy=False)


def with_seq(records: pd.DataFrame, table: str) -> pd.DataFrame:
    """Add ``seq`` to records of whole partitions (rows sharing a natural key share a partition)."""
    return records.assign(seq=_occurrences(records, list(TABLES[table].key)))


def storage_keys(frame: pd.DataFrame, table: str) -> np.ndarray:
    """The storage key of each row: the natural key columns and ``seq`` joined as text."""
    if len(frame) == 0:
        return np.array([], dtype=object)
    parts = [_key_text(frame[k]) for k in TABLES[table].key]
    seq = pa.array(frame["seq"].to_numpy(dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(*parts, seq, KEY_SEP).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def stored_dates(values: np.ndarray) -> np.ndarray:
    """Stored dates (ISO text on SQLite, ``date`` objects on PostgreSQL) as datetime64[ns]; few distinct days."""
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ns]")
    codes, uniques = pd.factorize(values)
    days = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object)).astype(str), format="%Y-%m-%d").to_numpy()
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    known = codes >= 0
    out[known] = days[codes[known]]
    return out


def _digests(part: np.ndarray, row_hash: np.ndarray) -> pd.DataFrame:
    """Per partition: row count and sum of row hashes (modulo 2**64)."""
    if len(part) == 0:
        return pd.DataFrame(
            {"part": pd.Series([], dtype=object), "n_rows": np.zeros(0, np.int64), "hash_sum": np.zeros(0, np.int64)}
        )
    codes, uniques = pd.factorize(part)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(row_hash.view(np.uint64)[order], starts)
    counts = np.diff(np.r_[starts, len(order)])
    return pd.DataFrame(
        {
            "part": np.asarray(uniques, dtype=object)[sorted_codes[starts]],
            "n_rows": counts,
            "hash_sum": sums.view(np.int64),
        }
    )


def read_keys(conn: Connection, table: str, parts: Sequence[str] | None = None) -> pd.DataFrame:
    """The stored ``id, row_hash, part, row_key`` of the records of ``table`` (only ``parts`` when given)."""
    spec = TABLES[table]
    t = DATASET_TABLES[table]
    key_cols = list(spec.key)
    date_col = t.c[spec.date_column] if spec.date_column else None
    stmt = select(t.c.id, t.c.row_hash, t.c.seq, *(t.c[k] for k in key_cols))
    rows: list[Any] = []
    if parts is None or date_col is None:
        rows = list(conn.execute(stmt).tuples())
    elif parts:
        days = [date.fromisoformat(p) for p in parts]
        for start in range(0, len(days), IN_CHUNK):
            rows.extend(conn.execute(stmt.where(date_col.in_(days[start : start + IN_CHUNK]))).tuples())
    columns = (
        [np.array(c, dtype=object) for c in zip(*rows, strict=True)] if rows else [np.array([])] * (3 + len(key_cols))
    )
    frame = pd.DataFrame(
        {"id": columns[0].astype(np.int64), "row_hash": columns[1].astype(np.int64), "seq": columns[2].astype(np.int64)}
    )
    for i, k in enumerate(key_cols):
        kind = spec.column(k).kind
        vals = columns[3 + i]
        if kind is Kind.DATE:
            frame[k] = stored_dates(vals) if len(vals) else np.array([], dtype="datetime64[ns]")
        elif kind is Kind.STR:
            frame[k] = pd.Series(vals, dtype=object)
        else:
            frame[k] = pd.Series(vals, dtype=object).astype("float64")
    frame["part"] = _iso_dates(frame[spec.date_column].to_numpy()) if date_col is not None and len(frame) else WHOLE
    frame["row_key"] = storage_keys(frame, table)
    return frame


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
    incoming = _digests(records["part"].to_numpy(), records["row_hash"].to_numpy())
    d = DIGESTS
    stored = pd.DataFrame(
        conn.execute(select(d.c.part, d.c.n_rows, d.c.hash_sum).where(d.c.table_name == table)).all(),
        columns=["part", "n_rows", "hash_sum"],
    )
    same = incoming.merge(stored, on=["part", "n_rows", "hash_sum"], how="inner")["part"]
    todo_parts = incoming.loc[~incoming["part"].isin(same), "part"].tolist()
    if not todo_parts:
        return UpsertCounts(0, 0, n)
    todo = records["part"].isin(todo_parts).to_numpy()
    work = with_seq(records.loc[todo] if not todo.all() else records, table)
    known_parts = set(stored["part"])
    fetch = [p for p in todo_parts if p in known_parts]
    whole_table = len(fetch) * 4 > len(known_parts) or not TABLES[table].date_column
    existing = read_keys(conn, table, None if whole_table else fetch) if fetch else read_keys(conn, table, [])
    if whole_table and len(existing):
        existing = existing.loc[existing["part"].isin(todo_parts)].reset_index(drop=True)
    if len(existing):  # compare storage keys only where something is stored
        work = work.assign(row_key=storage_keys(work, table))
        pos = pd.Index(existing["row_key"]).get_indexer(work["row_key"])
    else:
        pos = np.full(len(work), -1)
    is_new = pos < 0
    old_hash = existing["row_hash"].to_numpy()[np.where(is_new, 0, pos)] if len(existing) else np.zeros(len(work))
    is_changed = ~is_new & (old_hash != work["row_hash"].to_numpy())
    columns = storage_columns(table)
    if is_new.any():
        fresh = work if is_new.all() else work.loc[is_new]
        write_frame(conn, table, fresh, columns, constants={"batch_id": batch_id})
    n_changed = int(is_changed.sum())
    if n_changed:
        changed = work.loc[is_changed].assign(batch_id=batch_id, id=existing["id"].to_numpy()[pos[is_changed]])
        _update_changed(conn, table, changed, ["id", *columns], batch_id=batch_id)
    stale, replaced = _stale_lines(table, existing, work, pos)
    if stale.any():
        _remove_stale(conn, table, existing.loc[stale], batch_id=batch_id)
    _store_digests(conn, table, existing, work, pos, todo_parts, keep=~stale)
    n_new = int(is_new.sum())
    return UpsertCounts(n_new, n_changed, n - n_new - n_changed, int(stale.sum()), replaced)


def _group_text(frame: pd.DataFrame, table: str) -> np.ndarray:
    parts = [_key_text(frame[k]) for k in REPLACE_KEYS[table]]
    return pc.binary_join_element_wise(*parts, KEY_SEP).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _stale_lines(
    table: str, existing: pd.DataFrame, work: pd.DataFrame, pos: np.ndarray
) -> tuple[np.ndarray, tuple[dict[str, Any], ...]]:
    """Stored lines the incoming file replaces: not matched by a file line, in a group the file contains."""
    stale = np.zeros(len(existing), dtype=bool)
    if not len(existing):
        return stale, ()
    matched = np.zeros(len(existing), dtype=bool)
    matched[pos[pos >= 0]] = True
    stored_groups = _group_text(existing, table)
    incoming_groups = _group_text(work, table)
    stale = ~matched & pd.Index(stored_groups).isin(pd.Index(incoming_groups).unique())
    if not stale.any():
        return stale, ()
    hit = pd.Index(np.unique(stored_groups[stale]))
    before = pd.Series(stored_groups).value_counts()
    after = pd.Series(incoming_groups).value_counts()
    keys = REPLACE_KEYS[table]
    first = existing.loc[stale].assign(_g=stored_groups[stale]).drop_duplicates("_g").set_index("_g")
    replaced = []
    for g in hit:
        row = first.loc[g]
        key = {k: _plain(row[k]) for k in keys}
        replaced.append(
            {"table": table, "key": key, "lines_before": int(before.get(g, 0)), "lines_after": int(after.get(g, 0))}
        )
    return stale, tuple(replaced)


def _plain(v: object) -> object:
    if isinstance(v, pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(v).date())
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _remove_stale(conn: Connection, table: str, stale: pd.DataFrame, *, batch_id: int) -> None:
    """Delete replaced lines, keeping their previous values in ``import_history``."""
    t = DATASET_TABLES[table]
    kept = ["line", "attrs_json", *TABLES[table].column_names]
    ids = stale["id"].astype(int).tolist()
    row_keys = dict(zip(ids, stale["row_key"].tolist(), strict=True))
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        rows = conn.execute(select(t.c.id, *(t.c[c] for c in kept)).where(t.c.id.in_(chunk))).all()
        history = [
            {
                "batch_id": batch_id,
                "table_name": table,
                "record_id": int(r[0]),
                "row_key": row_keys[int(r[0])],
                "previous_json": json.dumps(
                    {"removed": True, **{c: _json_value(v) for c, v in zip(kept, r[1:], strict=True)}},
                    ensure_ascii=False,
                ),
            }
            for r in rows
        ]
        if history:
            conn.execute(HISTORY.insert(), history)
        conn.execute(t.delete().where(t.c.id.in_(chunk)))


def _json_value(v: object) -> object:
    if isinstance(v, date):
        return v.isoformat()
    return v


def _store_digests(
    conn: Connection,
    table: str,
    existing: pd.DataFrame,
    work: pd.DataFrame,
    pos: np.ndarray,
    parts: list[str],
    *,
    keep: np.ndarray | None = None,
) -> None:
    """Digests of the partitions just written: what was stored (with new hashes) plus what was inserted."""
    hashes = existing["row_hash"].to_numpy().copy()
    matched = pos >= 0
    hashes[pos[matched]] = work["row_hash"].to_numpy()[matched]
    stored_parts = existing["part"].to_numpy(dtype=object)
    if keep is not None and len(keep):
        hashes, stored_parts = hashes[keep], stored_parts[keep]
    all_parts = np.concatenate([stored_parts, work["part"].to_numpy(dtype=object)[~matched]])
    all_hash = np.concatenate([hashes, work["row_hash"].to_numpy()[~matched]])
    digests = _digests(all_parts, all_hash)
    d = DIGESTS
    for start in range(0, len(parts), IN_CHUNK):
        conn.execute(d.delete().where(d.c.table_name == table, d.c.part.in_(parts[start : start + IN_CHUNK])))
    rows = [
        {"table_name": table, "part": p, "n_rows": int(k), "hash_sum": int(h)}
        for p, k, h in digests.itertuples(index=False)
    ]
    if rows:
        conn.execute(d.insert(), rows)


def _update_changed(conn: Connection, table: str, changed: pd.DataFrame, columns: list[str], *, batch_id: int) -> None:
    """Stage changed records, copy the previous values to history, then update in one statement."""
    q = lambda c: _quote(conn, c)  # noqa: E731 - tiny local helper
    qt = q(table)
    col_sql = ", ".join(q(c) for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {col_sql}, CAST(NULL AS TEXT) AS row_key FROM {qt} WHERE 1 = 0"
    )
    write_frame(conn, STAGE, changed, [*columns, "row_key"])
    kept = ["line", "attrs_json", *TABLES[table].column_names]
    pairs = ", ".join(f"'{c}', t.{q(c)}" for c in kept)
    as_json = f"json_build_object({pairs})::text" if conn.dialect.name == "postgresql" else f"json_object({pairs})"
    conn.execute(
        text(
            "INSERT INTO import_history (batch_id, table_name, record_id, row_key, previous_json) "
            f"SELECT :batch_id, :table_name, t.id, s.row_key, {as_json} "
            f"FROM {qt} AS t JOIN {STAGE} AS s ON s.id = t.id"
        ),
        {"batch_id": batch_id, "table_name": table},
    )
    sets = ", ".join(f"{q(c)} = s.{q(c)}" for c in columns if c != "id")
    conn.exec_driver_sql(f"UPDATE {qt} AS t SET {sets} FROM {STAGE} AS s WHERE t.id = s.id")
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")


__all__ = [
    "KEY_SEP",
    "REPLACE_KEYS",
    "UpsertCounts",
    "build_records",
    "read_keys",
    "storage_columns",
    "storage_keys",
    "stored_dates",
    "upsert_records",
    "with_seq",
]
