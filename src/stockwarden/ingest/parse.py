"""Parse one column of text cells into its typed values, flagging every cell that does not parse.

Vectorised with PyArrow compute kernels over the column's *distinct* values (a million cells in tens of
milliseconds). A value is read only when it has exactly one reading (docs/import.md, "Accepted forms"):

* dates: ``YYYY-MM-DD`` (also with ``/`` or ``.``, with a time of day, or as ``YYYYMMDD``), ``2024年3月5日``,
  Excel serial day numbers in xlsx files; ``05.03.2024``-style dates only when the import states the
  order (``date_order`` dmy or mdy), otherwise they are rejected as ambiguous. Dates outside
  :data:`MIN_DATE` .. :data:`MAX_DATE` are rejected (the engine cannot represent far dates).
* numbers: plain decimals with a point (``-12.5``, ``1e3``), thousands separators only in well-formed
  groups of three (``1,234``, ``12 345 678``); with ``decimal_comma``, ``1,5`` and ``1.234,5``.

Anything else is rejected with a reason, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from stockwarden.ingest.options import DEFAULT_OPTIONS, ReadOptions
from stockwarden.ingest.schema import Column, Kind

MIN_DATE = pd.Timestamp("1900-01-01")
MAX_DATE = pd.Timestamp("2199-12-31")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's 1900 date system (serial 1 = 1900-01-01)

FLAG_VALUES: dict[str, float] = {
    "0": 0.0,
    "1": 1.0,
    "0.0": 0.0,
    "1.0": 1.0,
    "true": 1.0,
    "false": 0.0,
    "yes": 1.0,
    "no": 0.0,
    "y": 1.0,
    "n": 0.0,
    "t": 1.0,
    "f": 0.0,
    "是": 1.0,
    "否": 0.0,
}
_NULL_TEXT = pa.scalar(None, pa.large_string())


@dataclass(frozen=True, slots=True)
class ParsedColumn:
    """A parsed column.

    Attributes:
        values: typed values (object str with None, datetime64[ns] with NaT, float64 with NaN).
        empty: cells that were empty (before any default was applied).
        problems: (mask, reason) pairs, in the order they should be reported.
    """

    values: pd.Series
    empty: np.ndarray
    problems: list[tuple[np.ndarray, str]]


def text_array(text: pd.Series) -> pa.Array:
    """A column of text cells as an Arrow ``large_string`` array (not trimmed)."""
    arr = pa.array(text.array) if isinstance(text.dtype, pd.StringDtype) else pa.array(text.astype(str).to_numpy())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def encode(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Trim and dictionary-encode: (distinct trimmed values, index of each cell into them).

    Trimming the distinct values only is what makes this cheap; values that become equal once trimmed
    (``"A"`` and ``" A"``) share one code.
    """
    enc = pc.dictionary_encode(arr)
    index = enc.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    trimmed = pc.utf8_trim_whitespace(enc.dictionary)
    again = pc.dictionary_encode(trimmed)
    if len(again.dictionary) == len(trimmed):
        return trimmed, index
    remap = again.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    return again.dictionary, remap[index]


def _np(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_column(
    frame: pd.DataFrame,
    col: Column,
    n: int,
    *,
    encoded: tuple[pa.Array, np.ndarray] | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    is_spreadsheet: bool = False,
) -> ParsedColumn:
    """Parse column ``col`` of ``frame`` (text cells; absent column = all empty).

    Repeated values are parsed once (dictionary encoding), so a date column of a million rows over a few
    hundred days costs a few hundred parses.

    Args:
        frame: text cells.
        col: the column's schema.
        n: number of rows.
        encoded: the column already trimmed and encoded with :func:`encode` (to share work).
        options: accepted date order and decimal mark.
        is_spreadsheet: the cells come from an xlsx sheet (a whole number in a date column is then an
            Excel serial day number).
    """
    if encoded is None:
        arr = text_array(frame[col.name]) if col.name in frame.columns else pa.array([""] * n, pa.large_string())
        encoded = encode(arr)
    values_in, index = encoded
    parsed = _parse_values(values_in, col, options, is_spreadsheet=is_spreadsheet)
    values = parsed.values.to_numpy()[index]
    return ParsedColumn(
        pd.Series(values, dtype=parsed.values.dtype),
        parsed.empty[index],
        [(mask[index], why) for mask, why in parsed.problems],
    )


def _parse_values(arr: pa.Array, col: Column, options: ReadOptions, *, is_spreadsheet: bool) -> ParsedColumn:
    empty = _np(pc.equal(arr, ""))
    problems: list[tuple[np.ndarray, str]] = []
    if col.required:
        problems.append((empty, f"{col.name} is empty but required"))
    nulled = pc.if_else(pa.array(empty), _NULL_TEXT, arr)
    if col.kind is Kind.STR:
        values, more = _parse_text(nulled, empty, col)
    elif col.kind is Kind.DATE:
        values, more = _parse_dates(nulled, empty, col, options, is_spreadsheet=is_spreadsheet)
    elif col.kind is Kind.FLAG:
        values, more = _parse_flags(nulled, empty, col)
    else:
        values, more = _parse_numbers(nulled, empty, col, options)
    return ParsedColumn(values, empty, problems + more)


def unescape_text(arr: pa.Array) -> pa.Array:
    """Take off the apostrophe our spreadsheet exports put before a formula-like text (then trim again)."""
    escaped = pc.match_substring_regex(arr, r"^'+[=+\-@\t\r]")
    if not pc.any(escaped).as_py():
        return arr
    return pc.if_else(escaped, pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(arr, 1)), arr)


def _parse_text(arr: pa.Array, empty: np.ndarray, col: Column) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    problems: list[tuple[np.ndarray, str]] = []
    arr = unescape_text(arr)
    if col.choices:
        arr = pc.utf8_lower(arr)
        known = _np(pc.is_in(arr, value_set=pa.array(col.choices, pa.large_string())))
        problems.append(((~empty) & ~known, f"{col.name} must be one of {', '.join(col.choices)}"))
    if col.default is not None:
        arr = pc.fill_null(arr, str(col.default))
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object), problems


# Year-first dates: 2024-03-05, 2024/3/5, 2024.03.05, optionally with a time of day (and a UTC offset).
_TIME = r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_YEAR_FIRST: tuple[str, ...] = (
    *(rf"^(?P<y>[0-9]{{4}}){s}(?P<m>[0-9]{{1,2}}){s}(?P<d>[0-9]{{1,2}}){_TIME}$" for s in ("-", "/", "[.]")),
    r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$",
    r"^(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*日$",
)
# Day and month before the year: 05.03.2024, 5/3/2024, 05-03-2024 (the order must be stated).
_YEAR_LAST: tuple[str, ...] = tuple(
    rf"^(?P<a>[0-9]{{1,2}}){s}(?P<b>[0-9]{{1,2}}){s}(?P<y>[0-9]{{4}})$" for s in ("-", "/", "[.]")
)
_SERIAL = r"^[0-9]{1,7}(?:[.]0+)?$"
DATE_FORMS = "YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD or YYYY年M月D日"


def _parse_dates(
    arr: pa.Array, empty: np.ndarray, col: Column, options: ReadOptions, *, is_spreadsheet: bool
) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    n = len(arr)
    year = np.full(n, np.nan)
    month = np.full(n, np.nan)
    day = np.full(n, np.nan)
    ambiguous = np.zeros(n, dtype=bool)
    serial_days = np.full(n, np.nan)
    todo = ~empty
    for pattern in _YEAR_FIRST:
        if not todo.any():
            break
        rows, got = _extract(arr, todo, pattern)
        if not len(rows):
            continue
        year[rows], month[rows], day[rows] = got["y"], got["m"], got["d"]
        todo[rows] = False
    for pattern in _YEAR_LAST:
        if not todo.any():
            break
        rows, got = _extract(arr, todo, pattern)
        if not len(rows):
            continue
        if options.date_order == "dmy":
            day[rows], month[rows] = got["a"], got["b"]
        elif options.date_order == "mdy":
            month[rows], day[rows] = got["a"], got["b"]
        else:
            ambiguous[rows] = True
        year[rows] = got["y"]
        todo[rows] = False
    if todo.any() and is_spreadsheet:
        hit = todo & _np(pc.match_substring_regex(arr, _SERIAL))
        serial_days[hit] = pc.cast(arr.filter(pa.array(hit)), pa.float64()).to_numpy(zero_copy_only=False)
        todo[hit] = False
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    has_ymd = ~np.isnan(year) & ~ambiguous
    in_years = has_ymd & (year >= MIN_DATE.year) & (year <= MAX_DATE.year)
    if in_years.any():
        parts = pd.DataFrame({"year": year[in_years], "month": month[in_years], "day": day[in_years]})
        values[in_years] = pd.to_datetime(parts, errors="coerce").to_numpy(dtype="datetime64[ns]")
    has_serial = ~np.isnan(serial_days)
    in_serials = has_serial & (serial_days <= (MAX_DATE - EXCEL_EPOCH).days)
    if in_serials.any():
        values[in_serials] = (EXCEL_EPOCH + pd.to_timedelta(serial_days[in_serials], unit="D")).to_numpy()
    out_of_range = (has_ymd & ~in_years) | (has_serial & ~in_serials)
    out_of_range |= ~np.isnat(values) & ((values < MIN_DATE.to_datetime64()) | (values > MAX_DATE.to_datetime64()))
    values[out_of_range] = np.datetime64("NaT")
    order_hint = "give the day/month order with --date-order dmy or mdy (or date_order in the mapping file)"
    problems = [
        (
            ambiguous,
            f"{col.name} is ambiguous: day-first or month-first is not stated; write YYYY-MM-DD or {order_hint}",
        ),
        (
            out_of_range,
            f"{col.name} is outside the supported range {MIN_DATE.date()} to {MAX_DATE.date()}",
        ),
        (
            (~empty) & np.isnat(values) & ~ambiguous & ~out_of_range,
            f"{col.name} is not a date (expected {DATE_FORMS})",
        ),
    ]
    return pd.Series(values, dtype="datetime64[ns]"), problems


def _extract(arr: pa.Array, todo: np.ndarray, pattern: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Rows among ``todo`` whose text matches ``pattern``, and their named groups as floats."""
    hit = todo & _np(pc.match_substring_regex(arr, pattern))
    rows = np.flatnonzero(hit)
    if not len(rows):
        return rows, {}
    groups = pc.extract_regex(arr.filter(pa.array(hit)), pattern)
    got = {
        name: pc.cast(groups.field(name), pa.float64()).to_numpy(zero_copy_only=False)
        for name in (groups.type.field(i).name for i in range(groups.type.num_fields))
    }
    return rows, got


def _parse_flags(arr: pa.Array, empty: np.ndarray, col: Column) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    keys = pa.array(list(FLAG_VALUES), pa.large_string())
    idx = pc.fill_null(pc.index_in(pc.utf8_lower(arr), value_set=keys), -1).to_numpy().astype(np.int64)
    table = np.array(list(FLAG_VALUES.values()), dtype=float)
    values = np.where(idx >= 0, table[np.maximum(idx, 0)], np.nan)
    bad = (~empty) & (idx < 0)
    if col.default is not None:
        values = np.where(np.isnan(values), float(col.default), values)  # type: ignore[arg-type]
    return pd.Series(values, dtype="float64"), [(bad, f"{col.name} must be 0 or 1")]


_SIGN = r"^[+-]?"
_PLAIN_NUMBER = _SIGN + r"([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_COMMA_DECIMAL = _SIGN + r"[0-9]+(,[0-9]+)?$"
# Thousands separators: only whole groups of three after one to three leading digits, one kind per value.
_GROUP_SEPARATORS: tuple[str, ...] = (",", " ", "\u00a0", "\u202f", ".")


def _grouped(sep: str, decimal: str) -> str:
    s = "[.]" if sep == "." else sep
    d = "[.]" if decimal == "." else decimal
    return _SIGN + rf"[0-9]{{1,3}}({s}[0-9]{{3}})+({d}[0-9]+)?$"


def _cast(arr: pa.Array, mask: np.ndarray, values: np.ndarray) -> None:
    if mask.any():
        values[mask] = pc.cast(arr.filter(pa.array(mask)), pa.float64()).to_numpy(zero_copy_only=False)


def _to_float(arr: pa.Array, *, decimal_comma: bool = False) -> np.ndarray:
    """Text to float under the accepted number forms (NaN when the text is not one of them)."""
    values = np.full(len(arr), np.nan)
    if not decimal_comma:
        plain = _np(pc.match_substring_regex(arr, _PLAIN_NUMBER))
        _cast(arr, plain, values)
    else:
        plain = _np(pc.match_substring_regex(arr, _COMMA_DECIMAL))
        _cast(pc.replace_substring(arr, ",", "."), plain, values)
    decimal = "," if decimal_comma else "."
    for sep in _GROUP_SEPARATORS:
        if sep == decimal:
            continue
        has_sep = pc.match_substring(arr, sep)
        if not pc.any(has_sep).as_py():
            continue
        grouped = _np(pc.match_substring_regex(arr, _grouped(sep, decimal))) & ~plain
        cleaned = pc.replace_substring(arr, sep, "")
        if decimal_comma:
            cleaned = pc.replace_substring(cleaned, ",", ".")
        _cast(cleaned, grouped, values)
    return values


def _parse_numbers(
    arr: pa.Array, empty: np.ndarray, col: Column, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    values = _to_float(arr, decimal_comma=options.decimal_comma)
    problems: list[tuple[np.ndarray, str]] = []
    nan = np.isnan(values)
    not_number = (~empty) & nan
    non_finite = not_number & _np(pc.match_substring_regex(arr, r"^[+-]?(inf|infinity|nan)$", ignore_case=True))
    problems.append((non_finite, f"{col.name} is not a finite number"))
    if options.decimal_comma:
        why = f"{col.name} is not a number (decimal comma: 1,5 or 1.234,5; groups of three only)"
        problems.append((not_number, why))
    else:
        with_comma = not_number & _np(pc.match_substring(arr, ","))
        problems.append(
            (
                with_comma,
                f"{col.name} is not a number: a comma is read only as a thousands separator in groups of "
                "three (1,234); for decimal commas (1,5) give --decimal-comma (or decimal_comma in the mapping file)",
            )
        )
        problems.append((not_number & ~with_comma, f"{col.name} is not a number"))
    finite = ~nan
    problems.append((finite & ~np.isfinite(values), f"{col.name} is not a finite number"))
    if col.positive:
        problems.append((finite & (values <= 0), f"{col.name} must be greater than 0"))
    if col.min_value is not None:
        what = "negative" if col.min_value == 0 else f"below {col.min_value:g}"
        problems.append((finite & (values < col.min_value), f"{col.name} is {what}"))
    if col.max_value is not None:
        problems.append((finite & (values > col.max_value), f"{col.name} is above {col.max_value:g}"))
    if col.integer:
        with np.errstate(invalid="ignore"):
            problems.append((finite & (np.floor(values) != values), f"{col.name} must be a whole number"))
    if col.default is not None:
        values = np.where(nan & empty, float(col.default), values)  # type: ignore[arg-type]
    return pd.Series(values, dtype="float64"), problems


__all__ = [
    "DATE_FORMS",
    "FLAG_VALUES",
    "MAX_DATE",
    "MIN_DATE",
    "ParsedColumn",
    "encode",
    "parse_column",
    "text_array",
    "unescape_text",
]
