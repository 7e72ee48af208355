"""Fast CSV parsing with exact line numbers and malformed lines put aside (PyArrow's C parser).

:func:`parse_csv` returns every cell as text (``string[pyarrow]`` columns, ``""`` for empty; whitespace is
trimmed by validation), the file line of every row, and the lines that could not be split into the header's number of
fields (a *malformed line* is a bad row: it is reported, not fatal). Blank lines are skipped.

Line numbers are the file's physical lines. When a quoted value spans several lines (rare: multi-line
item descriptions) or the fast parser gives up, the file is parsed again with Python's ``csv`` module,
which tracks the physical line each record starts on.

Before any parser runs, :func:`check_limits` bounds the work a file can cause (bytes per line, columns
in the header, fields per line; see ``ingest.options.ReadLimits``): numpy scans over the bytes, so an
over-limit file is refused in a fraction of a second whatever its shape. The separator is detected from
the header line: a comma, else a semicolon, tab or ``|``.
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
from stockwarden.ingest.options import ReadLimits

TEXT = pd.StringDtype("pyarrow")
# Python's csv module refuses values over 128 KiB by default, which would cut a long quoted value (or an
# unclosed quote) into pieces; the file's size is already bounded by ingest.max_file_bytes.
csv.field_size_limit(2**31 - 1)


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


SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")


def detect_separator(header_line: str) -> str:
    """The separator of a CSV file from its header line: a comma, else ``;``, tab or ``|`` (the first present)."""
    for sep in SEPARATORS:
        if sep in header_line:
            return sep
    return ","


def read_header(text_head: str, *, source: str, delimiter: str = ",") -> list[str]:
    """The header row's names.

    Raises:
        SchemaError: when the file has no header row, or a column name appears twice (which one holds the
            values would be a guess).
    """
    try:
        header = next(csv.reader(io.StringIO(text_head), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise SchemaError(f"{source}: the file is empty (expected a header row)", source=source) from exc
    names = [raw.replace("\ufeff", "").strip() for raw in header]
    if not any(names):
        raise SchemaError(f"{source}: the header row is empty", source=source)
    check_unique_headers(names, source=source)
    return names


def check_unique_headers(names: list[str], *, source: str) -> None:
    """Refuse a header naming a column twice (compared case-insensitively, as columns are matched).

    Raises:
        SchemaError: naming the column and its two positions.
    """
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        key = name.strip().lower()
        if key in seen:
            raise SchemaError(
                f"{source}: column {show_name(name)} appears twice in the header (columns {seen[key]} and {i}); "
                "remove or rename one",
                source=source,
            )
        seen[key] = i


def show_name(text: str, limit: int = 60) -> str:
    """A header name for a one-line message: quoted, control characters escaped, long names cut."""
    short = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(short)


def show_names(names: list[str], *, most: int = 12) -> str:
    """Some header names for a message (never thousands): ``'a', 'b', ... and 40 more``."""
    shown = ", ".join(show_name(str(n)) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


SCAN_CHUNK = 1 << 24  # bytes scanned at a time by check_limits (bounded memory on a 2 GB file)


def check_limits(data: bytes, *, source: str, limits: ReadLimits) -> str:
    """Check the input limits on CSV bytes before parsing; return the separator.

    Counts bytes and separators per physical line with numpy, chunk by chunk. A separator inside a quoted
    value is counted too, so the field count is an upper bound (a limit, not a parse).

    Raises:
        SchemaError: naming the limit (and its setting) and the first line that exceeds it.
    """
    first_end = data.find(b"\n", 0, limits.max_line_bytes + 2)
    if first_end < 0:
        first_end = len(data)
    if first_end > limits.max_line_bytes + (1 if data[first_end - 1 : first_end] == b"\r" else 0):
        raise _over(source, 1, "is", first_end, limits.max_line_bytes, "bytes long", "bytes per line", "max_line_bytes")
    try:
        header_line = data[:first_end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(source) from exc
    sep = detect_separator(header_line)
    sep_code = ord(sep)
    carry_len = 0
    carry_seps = 0
    line_no = 1
    for start in range(0, len(data), SCAN_CHUNK):
        chunk = np.frombuffer(data, dtype=np.uint8, count=min(SCAN_CHUNK, len(data) - start), offset=start)
        nl = np.flatnonzero(chunk == 10)
        sp = np.flatnonzero(chunk == sep_code)
        starts = np.concatenate(([0], nl[:-1] + 1)) if len(nl) else np.zeros(0, np.int64)
        lengths = nl - starts
        seps = np.searchsorted(sp, nl) - np.searchsorted(sp, starts)
        if len(nl):
            lengths[0] += carry_len
            seps[0] += carry_seps
            _check_lines(lengths, seps, first_line=line_no, source=source, limits=limits)
            tail = int(nl[-1]) + 1
            carry_len = len(chunk) - tail
            carry_seps = len(sp) - int(np.searchsorted(sp, tail))
            line_no += len(nl)
        else:
            carry_len += len(chunk)
            carry_seps += len(sp)
        if carry_len > limits.max_line_bytes + 1:
            raise _over(
                source,
                line_no,
                "is",
                carry_len,
                limits.max_line_bytes,
                "bytes long",
                "bytes per line",
                "max_line_bytes",
            )
    if carry_len:
        _check_lines(np.array([carry_len]), np.array([carry_seps]), first_line=line_no, source=source, limits=limits)
    n_columns = header_line.count(sep) + 1
    if n_columns > limits.max_columns:
        raise SchemaError(
            f"{source}: the header has {n_columns:,} columns; the limit is {limits.max_columns:,} "
            "(setting ingest.max_columns)",
            source=source,
        )
    return sep


def _check_lines(lengths: np.ndarray, seps: np.ndarray, *, first_line: int, source: str, limits: ReadLimits) -> None:
    long = np.flatnonzero(lengths > limits.max_line_bytes + 1)  # + 1: a CRLF line's CR
    if len(long):
        k = int(long[0])
        raise _over(
            source,
            first_line + k,
            "is",
            int(lengths[k]),
            limits.max_line_bytes,
            "bytes long",
            "bytes per line",
            "max_line_bytes",
        )
    wide = np.flatnonzero(seps + 1 > limits.max_fields_per_row)
    if len(wide):
        k = int(wide[0])
        raise _over(
            source,
            first_line + k,
            "has",
            int(seps[k]) + 1,
            limits.max_fields_per_row,
            "fields",
            "fields per line",
            "max_fields_per_row",
        )


def _over(source: str, line: int, verb: str, got: int, limit: int, what: str, per: str, setting: str) -> SchemaError:
    return SchemaError(
        f"{source}: line {line} {verb} {got:,} {what}; the limit is {limit:,} {per} (setting ingest.{setting})",
        source=source,
    )


def _arrow_parse(
    data: bytes, names: list[str], *, threads: bool, delimiter: str = ","
) -> tuple[pa.Table, list[tuple[int | None, str, int]]]:
    bad: list[tuple[int | None, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=False),
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


def parse_csv(data: bytes, *, source: str, limits: ReadLimits | None = None) -> ParsedCsv:
    """Parse UTF-8 CSV bytes (no BOM) into text cells, line numbers and malformed lines.

    Raises:
        NotUtf8: when the bytes are not UTF-8.
        SchemaError: when the file is over a limit, has no header, or cannot be parsed at all.
    """
    sep = check_limits(data, source=source, limits=limits or ReadLimits())
    head = data[: 1 << 16]
    if len(data) > len(head) and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines only, so no character is cut in two
    try:
        names = read_header(head.decode("utf-8"), source=source, delimiter=sep)
    except UnicodeDecodeError as exc:
        raise NotUtf8(source) from exc
    try:
        # Single-threaded: row numbers of malformed lines are only known then, and on a busy 2-core
        # machine it is as fast as the threaded reader.
        table, bad = _arrow_parse(data, names, threads=False, delimiter=sep)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if "utf8" in str(exc).lower().replace("-", ""):
            raise NotUtf8(source) from exc
        return _python_parse(data, names, source=source, delimiter=sep)
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if not bad and n_lines - 1 == table.num_rows:  # the common case: one line per row, no blank lines
        return ParsedCsv(_to_frame(table), np.arange(2, 2 + table.num_rows, dtype=np.int64), ())
    lines = _data_lines(data)
    if len(lines) != table.num_rows + len(bad) or any(n is None or not 2 <= n <= len(lines) + 1 for n, _, _ in bad):
        # A quoted value spans lines: take the physical lines from a parser that tracks them.
        return _python_parse(data, names, source=source, delimiter=sep)
    # Arrow numbers the non-blank lines (header = 1); map them back to physical lines.
    located = [(int(lines[int(n or 0) - 2]), text, k) for n, text, k in bad]
    blank_bad = {n for n, text, _ in located if not text.strip()}
    real_bad = [(n, text, k) for n, text, k in located if text.strip()]
    skipped = np.array(sorted(blank_bad | {n for n, _, _ in real_bad}), dtype=np.int64)
    row_lines = lines[~np.isin(lines, skipped)] if len(skipped) else lines
    malformed = tuple(Malformed(int(n), text[:200], _field_count_reason(k, len(names))) for n, text, k in real_bad)
    return ParsedCsv(_to_frame(table), row_lines.astype(np.int64), malformed)


def _field_count_reason(k: int, h: int) -> str:
    return f"the line has {k} fields but the header has {h} (check quotes and separators)"


def _python_parse(data: bytes, names: list[str], *, source: str, delimiter: str) -> ParsedCsv:
    """Parse with Python's ``csv`` module, keeping the physical line each record starts on.

    Used when a quoted value spans lines (or the fast parser gives up). A line with bad quoting is put
    aside as malformed and reading goes on with the next line.

    Raises:
        SchemaError: when a quoted value is never closed (it would swallow the rest of the file).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(source) from exc
    physical = iter(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    row_lines: list[int] = []
    malformed: list[Malformed] = []
    offset = 0  # physical lines consumed by earlier readers (a new reader starts after a quoting error)
    is_header = True
    while True:
        reader = csv.reader(physical, delimiter=delimiter, strict=True)
        last = 0
        try:
            for record in reader:
                start = offset + last + 1
                last = reader.line_num
                if is_header:
                    is_header = False
                    continue
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if len(record) != len(names):
                    joined = delimiter.join(record)
                    malformed.append(Malformed(start, joined[:200], _field_count_reason(len(record), len(names))))
                    continue
                rows.append(record)
                row_lines.append(start)
            break
        except csv.Error as exc:
            start = offset + last + 1
            if "end of data" in str(exc) or "EOF" in str(exc):
                raise SchemaError(
                    f"{source}: a quoted value starting on line {start} is never closed (check the quotes)",
                    source=source,
                ) from None
            end = offset + reader.line_num
            span = f"lines {start}-{end} were read as one value and are put aside: " if end > start else ""
            why = f'{span}a quote in the middle of a value must be doubled ("") inside a quoted value'
            malformed.append(Malformed(start, "", why))
            offset = end
            is_header = False
    frame = pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(columns=names, dtype=object)
    return ParsedCsv(frame.astype(TEXT), np.asarray(row_lines, dtype=np.int64), tuple(malformed))


__all__ = [
    "SEPARATORS",
    "TEXT",
    "Malformed",
    "NotUtf8",
    "ParsedCsv",
    "check_limits",
    "check_unique_headers",
    "detect_separator",
    "parse_csv",
    "read_header",
    "show_name",
    "show_names",
]
