"""Fast CSV parsing with exact line numbers and malformed lines put aside (PyArrow's C parser).

:func:`parse_csv` returns every cell as text (``string[pyarrow]`` columns, ``""`` for empty; whitespace is
trimmed by validation), the file line of every row, and the lines that could not be split into the header's number of
fields (a *malformed line* is a bad row: it is reported, not fatal). Blank lines are skipped.

Line numbers are exact when no quoted value spans several lines; when one does (rare: multi-line item
descriptions), the file is parsed again with pandas, which handles it, and the line of each row is then
its position after the header.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from stockwarden.errors import SchemaError

TEXT = pd.StringDtype("pyarrow")


class NotUtf8(ValueError):
    """Raised by :func:`parse_csv` when the bytes are not valid UTF-8 (the caller tries GBK next)."""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that does not have the header's number of fields."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    """Cells as text under the file's own headers, with line numbers and malformed lines."""

    frame: pd.DataFrame
    line_numbers: np.ndarray
    malformed: tuple[Malformed, ...]


def read_header(text_head: str, *, source: str) -> list[str]:
    """The header row's names (duplicates get ``.1``, ``.2`` suffixes, as pandas does).

    Raises:
        SchemaError: when the file has no header row.
    """
    try:
        header = next(csv.reader(io.StringIO(text_head)))
    except (StopIteration, csv.Error) as exc:
        raise SchemaError(f"{source}: the file is empty (expected a header row)", source=source) from exc
    names: list[str] = []
    seen: dict[str, int] = {}
    for raw in header:
        name = raw.replace("\ufeff", "").strip()
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    if not any(names):
        raise SchemaError(f"{source}: the header row is empty", source=source)
    return names


def _arrow_parse(data: bytes, names: list[str], *, threads: bool) -> tuple[pa.Table, list[tuple[int | None, str, int]]]:
    bad: list[tuple[int | None, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return table, bad


def _data_lines(data: bytes) -> np.ndarray:
    """1-based numbers of the non-blank physical lines after the header."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.zeros(0, np.int64)
    length = ends - starts
    has_cr = (length > 0) & (buf[np.maximum(ends - 1, 0)] == 13) if len(ends) else np.zeros(0, bool)
    blank = (length - has_cr.astype(np.int64)) <= 0
    numbers = np.arange(1, len(ends) + 1)
    return numbers[(numbers > 1) & ~blank]


def _to_frame(table: pa.Table) -> pd.DataFrame:
    # Cells are trimmed later, once per distinct value (``ingest.parse.encode``).
    return table.to_pandas(types_mapper={pa.string(): TEXT, pa.large_string(): TEXT}.get)


def parse_csv(data: bytes, *, source: str) -> ParsedCsv:
    """Parse UTF-8 CSV bytes (no BOM) into text cells, line numbers and malformed lines.

    Raises:
        NotUtf8: when the bytes are not UTF-8.
        SchemaError: when the file has no header or cannot be parsed at all.
    """
    head = data[: 1 << 16]
    if len(data) > len(head) and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines only, so no character is cut in two
    try:
        names = read_header(head.decode("utf-8"), source=source)
    except UnicodeDecodeError as exc:
        raise NotUtf8(source) from exc
    try:
        # Single-threaded: row numbers of malformed lines are only known then, and on a busy 2-core
        # machine it is as fast as the threaded reader.
        table, bad = _arrow_parse(data, names, threads=False)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if "utf8" in str(exc).lower().replace("-", ""):
            raise NotUtf8(source) from exc
        return _pandas_fallback(data, names, source=source, why=exc)
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if not bad and n_lines - 1 == table.num_rows:  # the common case: one line per row, no blank lines
        return ParsedCsv(_to_frame(table), np.arange(2, 2 + table.num_rows, dtype=np.int64), ())
    lines = _data_lines(data)
    if len(lines) != table.num_rows + len(bad) or any(n is None or not 2 <= n <= len(lines) + 1 for n, _, _ in bad):
        # A quoted value spans lines: line numbers cannot be taken from physical lines.
        return _pandas_fallback(data, names, source=source, why=None)
    # Arrow numbers the non-blank lines (header = 1); map them back to physical lines.
    located = [(int(lines[int(n or 0) - 2]), text, k) for n, text, k in bad]
    blank_bad = {n for n, text, _ in located if not text.strip()}
    real_bad = [(n, text, k) for n, text, k in located if text.strip()]
    skipped = np.array(sorted(blank_bad | {n for n, _, _ in real_bad}), dtype=np.int64)
    row_lines = lines[~np.isin(lines, skipped)] if len(skipped) else lines
    why = "the line has {k} fields but the header has {h} (check quotes and separators)"
    malformed = tuple(Malformed(int(n), text[:200], why.format(k=k, h=len(names))) for n, text, k in real_bad)
    return ParsedCsv(_to_frame(table), row_lines.astype(np.int64), malformed)


def _pandas_fallback(data: bytes, names: list[str], *, source: str, why: Exception | None) -> ParsedCsv:
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            header=0,
            names=names,
            on_bad_lines="error",
            encoding="utf-8",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        reason = str(why or exc).splitlines()[0] if str(why or exc) else type(exc).__name__
        raise SchemaError(f"{source}: cannot read the file ({reason})", source=source) from exc
    frame = frame.astype(TEXT)
    return ParsedCsv(frame, np.arange(2, 2 + len(frame), dtype=np.int64), ())


__all__ = ["TEXT", "Malformed", "NotUtf8", "ParsedCsv", "parse_csv", "read_header"]
