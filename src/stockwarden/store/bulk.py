"""Bulk writes with the fast path of each database: COPY on PostgreSQL, multi-row executemany on SQLite."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy import Connection

SQLITE_CHUNK_ROWS = 100_000  # rows turned into Python lists at a time
SQLITE_MAX_PARAMS = 999  # the lowest host-parameter limit of SQLite builds still in use


def iso_dates(values: np.ndarray) -> np.ndarray:
    """datetime64 values as ISO date strings (object array, None for NaT); repeated dates formatted once."""
    codes, uniques = pd.factorize(values)
    text_uniques = np.datetime_as_string(np.asarray(uniques, dtype="datetime64[D]"), unit="D").astype(object)
    out = np.empty(len(values), dtype=object)
    known = codes >= 0
    out[known] = text_uniques[codes[known]]
    out[~known] = None
    return out


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def write_frame(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    constants: dict[str, Any] | None = None,
    freeze: bool = False,
) -> None:
    """Bulk-insert the ``columns`` of ``frame`` into ``table``: COPY on PostgreSQL, executemany batches on SQLite.

    Args:
        conn: the connection (inside the import's transaction).
        table: target table.
        frame: the rows.
        columns: the columns written, in order.
        constants: columns with one value for every row (not taken from ``frame``).
        freeze: PostgreSQL only: ``COPY ... FREEZE`` (the rows are written frozen and all-visible; the
            table must have been created or truncated in this transaction).
    """
    n = len(frame)
    if n == 0:
        return
    constants = constants or {}
    if conn.dialect.name == "postgresql":
        copy_csv(conn, table, columns, csv_payload(frame, columns, constants=constants), freeze=freeze)
        return
    # SQLite: one object matrix (numpy fills it column by column in C), then many rows per INSERT.
    matrix = np.empty((n, len(columns)), dtype=object)
    for j, c in enumerate(columns):
        if c in constants:
            matrix[:, j] = constants[c]
        elif pd.api.types.is_datetime64_any_dtype(frame[c]):
            matrix[:, j] = iso_dates(frame[c].to_numpy())
        else:
            matrix[:, j] = frame[c].to_numpy()  # NaN floats are stored as NULL by SQLite
    _sqlite_insert(conn, table, columns, matrix)


def csv_payload(frame: pd.DataFrame, columns: Sequence[str], *, constants: dict[str, Any] | None = None) -> bytes:
    """The ``columns`` of ``frame`` as the CSV that :func:`copy_csv` sends (PostgreSQL's COPY format).

    Made by Arrow without touching the database, so a loader can make the next chunk's payload in a
    helper thread while the server is still taking the previous one.
    """
    n = len(frame)
    constants = constants or {}
    arrays = {}
    for c in columns:
        if c in constants:
            arrays[c] = pa.array(np.full(n, constants[c]))
            continue
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            arrays[c] = pa.array(s.to_numpy().astype("datetime64[D]"), from_pandas=True)
        elif s.dtype == object:
            arrays[c] = pa.array(s.to_numpy(), type=pa.string(), from_pandas=True)
        else:
            arrays[c] = pa.array(s.to_numpy(), from_pandas=True)
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(arrays), buf, write_options=pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def copy_csv(conn: Connection, table: str, columns: Sequence[str], payload: bytes, *, freeze: bool = False) -> None:
    """PostgreSQL: ``COPY table (columns) FROM STDIN`` of a :func:`csv_payload` (``freeze``: as in write_frame)."""
    if not payload:
        return
    col_sql = ", ".join(quote(conn, c) for c in columns)
    options = "FORMAT csv, FREEZE" if freeze else "FORMAT csv"
    with (
        _driver(conn).cursor() as cur,
        cur.copy(f"COPY {quote(conn, table)} ({col_sql}) FROM STDIN WITH ({options})") as copy,
    ):
        view = memoryview(payload)
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])
        del view


def _sqlite_insert(conn: Connection, table: str, columns: Sequence[str], matrix: np.ndarray) -> None:
    qt = quote(conn, table)
    col_sql = ", ".join(quote(conn, c) for c in columns)
    one = f"({', '.join('?' for _ in columns)})"
    per_statement = max(1, SQLITE_MAX_PARAMS // len(columns))  # several rows per INSERT: fewer VM runs
    n = len(matrix)
    full = n // per_statement * per_statement
    chunk = per_statement * max(1, SQLITE_CHUNK_ROWS // per_statement)
    cur = _driver(conn).cursor()
    try:
        for start in range(0, full, chunk):
            stop = min(full, start + chunk)
            params = matrix[start:stop].reshape(-1, per_statement * len(columns)).tolist()
            cur.executemany(f"INSERT INTO {qt} ({col_sql}) VALUES {', '.join([one] * per_statement)}", params)
        if full < n:
            cur.executemany(f"INSERT INTO {qt} ({col_sql}) VALUES {one}", matrix[full:].tolist())
    finally:
        cur.close()


def write_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert Python ``rows`` (small sets: rejects) into ``table``: COPY on PostgreSQL, executemany elsewhere."""
    qt = quote(conn, table)
    col_sql = ", ".join(quote(conn, c) for c in columns)
    if conn.dialect.name == "postgresql":
        with _driver(conn).cursor() as cur, cur.copy(f"COPY {qt} ({col_sql}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    matrix = np.array([list(r) for r in rows] or np.empty((0, len(columns))), dtype=object)
    if len(matrix):
        _sqlite_insert(conn, table, columns, matrix.reshape(len(matrix), len(columns)))


def insert_with_ids(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` (same keys in each) into ``table`` and return the new ``id`` of each, in order.

    On PostgreSQL the ids are drawn from the column's sequence in one query and the rows written with
    ``COPY``: SQLAlchemy's multi-row ``INSERT ... RETURNING`` sends statements of thousands of parameters
    that psycopg parses in Python, each time (about 0.6 ms per row of an alert: 8 of the 14 s of the
    alerts step of a 30,000-series run). Elsewhere: ``INSERT ... RETURNING`` in the rows' order.
    """
    if not rows:
        return []
    columns = list(rows[0])
    defaults = _scalar_defaults(table, given=columns)
    if conn.dialect.name == "postgresql":
        sequence = conn.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, "id"))).scalar()
        if sequence is not None:
            drawn = conn.execute(
                sa.text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": len(rows)}
            )
            ids = sorted(int(i) for i in drawn.scalars())
            extra = tuple(defaults.values())
            data = ((new_id, *(row[c] for c in columns), *extra) for new_id, row in zip(ids, rows, strict=True))
            write_rows(conn, table.name, ["id", *columns, *defaults], data)
            return ids
    stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in conn.execute(stmt, [{**{c: row[c] for c in columns}, **defaults} for row in rows])]


def _scalar_defaults(table: sa.Table, *, given: Sequence[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns not ``given`` (``COPY`` does not apply them).

    Raises:
        ValueError: a column not given has a computed default (give its value).
    """
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name in given or col.name == "id" or col.default is None:
            continue
        default = col.default
        if not isinstance(default, sa.ColumnDefault) or not default.is_scalar:
            raise ValueError(f"{table.name}.{col.name} has a computed default: give its value")
        out[col.name] = default.arg
    return out


__all__ = ["copy_csv", "csv_payload", "insert_with_ids", "iso_dates", "quote", "write_frame", "write_rows"]
