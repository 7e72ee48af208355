"""Reading dataset files: find a table's file, decode it, map its headers to our columns.

Pure I/O at the edge: returns raw text frames (every cell a string, ``""`` when empty) with the
file's own line numbers, so validation can report exactly where a bad value sits.
"""

from __future__ import annotations

import tomllib
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from stockwarden.errors import DatasetNotFound, MappingError, SchemaError
from stockwarden.ingest.csvfile import TEXT, Malformed, NotUtf8, check_unique_headers, parse_csv, show_name
from stockwarden.ingest.options import DATE_ORDERS, DEFAULT_OPTIONS, ReadLimits, ReadOptions
from stockwarden.ingest.schema import ALIASES, TABLES

EXTENSIONS: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".xlsx")

# Column mapping from a user's mapping file: {file or table name: {their column: our column}}.
ColumnMapping = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class RawTable:
    """A table file as read: text cells under canonical headers where recognised.

    Attributes:
        table: dataset table name.
        path: the file it came from.
        frame: every cell as ``str`` (empty cells are ``""``); canonical column names where recognised,
            other columns keep their header as written.
        line_numbers: for each row, its line in the file (header = line 1).
        encoding: the text encoding detected (``None`` for binary formats).
        renamed: {header as written: canonical column} for every header that was mapped.
        malformed: lines that could not be split into the header's fields (bad rows, not in ``frame``).
    """

    table: str
    path: Path
    frame: pd.DataFrame
    line_numbers: pd.Series
    encoding: str | None
    renamed: dict[str, str]
    malformed: tuple[Malformed, ...] = ()


def find_table_file(folder: Path, table: str) -> Path | None:
    """Return the file holding ``table`` in ``folder`` (``NAME.csv``, ``.csv.gz``, ``.parquet`` or ``.xlsx``).

    Raises:
        SchemaError: when the table is present in more than one format (which one to load is ambiguous).
    """
    found = [folder / f"{table}{ext}" for ext in EXTENSIONS if (folder / f"{table}{ext}").is_file()]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise SchemaError(
            f"{folder}: table '{table}' is present in several files ({names}); keep only one", table=table
        )
    return found[0] if found else None


def load_mapping(path: Path) -> ColumnMapping:
    """Read a user mapping file: TOML with one section per file or table, ``their column = "our column"``.

    Example::

        [sales]                # or ["sales.csv"]
        "Item No." = "sku"
        "Qty shipped" = "qty"

    Raises:
        MappingError: when the file is missing, not TOML, or maps to a column that does not exist.
    """
    if not path.is_file():
        raise MappingError(f"mapping file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from exc
    mapping: ColumnMapping = {}
    for section, cols in data.items():
        if section == OPTIONS_SECTION:
            continue
        if not isinstance(cols, dict):
            raise MappingError(
                f"mapping file {path}: [{section}] must be a table of 'their column = \"our column\"' lines"
            )
        table = _table_of(section)
        if table is None:
            raise MappingError(
                f"mapping file {path}: section [{section}] names no dataset table "
                f"(expected one of {', '.join(TABLES)}, optionally with a file extension)"
            )
        known = set(TABLES[table].column_names)
        for theirs, ours in cols.items():
            if not isinstance(ours, str) or ours.lower() not in known:
                raise MappingError(
                    f"mapping file {path}: [{section}] maps '{theirs}' to '{ours}', which is not a column "
                    f"of {table} (columns: {', '.join(sorted(known))})"
                )
        mapping[table] = {str(k).strip().lower(): str(v).lower() for k, v in cols.items()}
    return mapping


OPTIONS_SECTION = "options"


def load_mapping_options(path: Path, base: ReadOptions = DEFAULT_OPTIONS) -> ReadOptions:
    """The ``[options]`` section of a mapping file applied to ``base``: how this export writes values.

    Example::

        [options]
        date_order = "dmy"     # 05.03.2024 is 5 March
        decimal_comma = true   # 1,5 is one and a half

    Raises:
        MappingError: when an option is unknown or its value is not allowed.
    """
    if not path.is_file():
        raise MappingError(f"mapping file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from exc
    section = data.get(OPTIONS_SECTION, {})
    if not isinstance(section, dict):
        raise MappingError(f"mapping file {path}: [options] must be a table of settings")
    options = base
    for key, value in section.items():
        if key == "date_order":
            if value not in DATE_ORDERS:
                raise MappingError(
                    f"mapping file {path}: [options] date_order = {value!r} is not one of {', '.join(DATE_ORDERS)}"
                )
            options = replace(options, date_order=value)
        elif key == "decimal_comma":
            if not isinstance(value, bool):
                raise MappingError(f"mapping file {path}: [options] decimal_comma must be true or false")
            options = replace(options, decimal_comma=value)
        else:
            raise MappingError(
                f"mapping file {path}: [options] has no setting {key!r} (settings: date_order, decimal_comma)"
            )
    return options


def _table_of(name: str) -> str | None:
    for ext in (*EXTENSIONS, ""):
        if ext and name.endswith(ext):
            base = name[: -len(ext)]
            return base if base in TABLES else None
    return name if name in TABLES else None


def decode_bytes(data: bytes, *, source: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

    Returns:
        (text, encoding name).

    Raises:
        SchemaError: when neither encoding decodes the file.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"{source}: cannot decode the file as UTF-8 or GBK/GB18030 (byte {exc.start}); "
            "save it as CSV UTF-8 from Excel",
            source=source,
        ) from exc


MAGIC: dict[str, tuple[bytes, str]] = {
    ".xlsx": (b"PK\x03\x04", "an Excel workbook (xlsx)"),
    ".parquet": (b"PAR1", "a Parquet file"),
    ".gz": (b"\x1f\x8b", "a gzip file"),
}


def check_format(path: Path, head: bytes) -> None:
    """Refuse a file whose content is not what its extension says (a CSV renamed .xlsx, ...).

    Raises:
        SchemaError: saying what the file is and what it looks like instead.
    """
    for ext, (magic, what) in MAGIC.items():
        if path.name.lower().endswith(ext) and not head.startswith(magic):
            looks = _looks_like(head)
            raise SchemaError(
                f"{path}: the file is not {what}{looks}; save it in that format or rename it to its real extension",
                source=str(path),
            )


def _looks_like(head: bytes) -> str:
    if not head:
        return " (it is empty)"
    if head.startswith(b"PK\x03\x04"):
        return " (it looks like an Excel or other zip file)"
    if head.startswith(b"PAR1"):
        return " (it looks like a Parquet file)"
    if head.startswith(b"\x1f\x8b"):
        return " (it looks like a gzip file)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return " (it looks like UTF-16 text, e.g. CSV)"
    try:
        head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return " (it looks like text, e.g. CSV)"


def from_utf16(data: bytes) -> bytes:
    """UTF-16 text (with a byte-order mark, or detected from its NUL bytes) as UTF-8; other bytes unchanged.

    Excel's "Unicode text" and some ERP exports write UTF-16.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8")
    sample = data[:4096]
    if len(sample) >= 4 and len(sample) % 2 == 0:
        even_nul = sample[0::2].count(0)
        odd_nul = sample[1::2].count(0)
        half = len(sample) // 2
        codec = "utf-16-le" if odd_nul > 0.9 * half else "utf-16-be" if even_nul > 0.9 * half else None
        if codec is not None:
            try:
                return data.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                return data
    return data


def _read_bounded(path: Path, limits: ReadLimits, source: str) -> bytes:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise SchemaError(
            f"{source}: the file is {size:,} bytes; the limit is {limits.max_file_bytes:,} "
            "(setting ingest.max_file_bytes)",
            source=source,
        )
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        check_format(path, raw[:8])
        raw = _gunzip_bounded(raw, limits, source)
    return raw


GZIP_CHUNK = 1 << 22


def _gunzip_bounded(raw: bytes, limits: ReadLimits, source: str) -> bytes:
    """Decompress gzip bytes a few MB at a time, stopping as soon as a limit is exceeded.

    A "gzip bomb" (100 MB of one long line from 100 kB) is refused after the first chunks instead of being
    inflated whole: the size limit and the line-length limit are both checked while decompressing.
    """
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    total = 0
    last_newline = -1  # absolute offset of the newest newline seen
    newlines = 0
    pending = raw
    while True:
        chunk = inflater.decompress(pending, GZIP_CHUNK)
        pending = inflater.unconsumed_tail
        if inflater.eof and inflater.unused_data.strip(b"\x00"):  # another gzip member follows
            pending = inflater.unused_data
            inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        elif not chunk and (inflater.eof or not pending):
            break
        at = chunk.rfind(b"\n")
        if at >= 0:
            newlines += chunk.count(b"\n")
            last_newline = total + at
        total += len(chunk)
        parts.append(chunk)
        if total > limits.max_file_bytes:
            raise SchemaError(
                f"{source}: the file decompresses to more than {limits.max_file_bytes:,} bytes "
                "(setting ingest.max_file_bytes)",
                source=source,
            )
        if total - last_newline - 1 > limits.max_line_bytes + 1:
            raise SchemaError(
                f"{source}: line {newlines + 1} is more than {limits.max_line_bytes:,} bytes long; the limit is "
                f"{limits.max_line_bytes:,} bytes per line (setting ingest.max_line_bytes)",
                source=source,
            )
    if not inflater.eof:
        raise SchemaError(f"{source}: the gzip file is truncated (it ends before its data does)", source=source)
    return b"".join(parts)


def read_raw_table(
    path: Path, table: str, *, mapping: ColumnMapping | None = None, options: ReadOptions = DEFAULT_OPTIONS
) -> RawTable:
    """Read one table file into text cells under canonical headers.

    Raises:
        DatasetNotFound: when the file does not exist.
        SchemaError: when the file cannot be read, is over an input limit, names a column twice, or two
            headers map to the same column.
    """
    if not path.is_file():
        raise DatasetNotFound(f"{path} does not exist")
    source = str(path)
    name = path.name.lower()
    limits = options.limits
    encoding: str | None = None
    malformed: tuple[Malformed, ...] = ()
    try:
        with path.open("rb") as fh:
            check_format(path, fh.read(8))
        if name.endswith(".parquet"):
            frame = _read_parquet(path, limits, source)
            lines = np.arange(1, 1 + len(frame), dtype=np.int64)  # parquet has no header line: row number
        elif name.endswith(".xlsx"):
            frame = _read_xlsx(path, limits, source)
            lines = np.arange(2, 2 + len(frame), dtype=np.int64)
        else:
            raw = from_utf16(_read_bounded(path, limits, source))
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                parsed, encoding = parse_csv(raw, source=source, limits=limits), "utf-8"
            except NotUtf8:
                raw, encoding = utf8_bytes(raw, source=source)
                parsed = parse_csv(raw, source=source, limits=limits)
            frame, lines, malformed = parsed.frame, parsed.line_numbers, parsed.malformed
    except SchemaError as exc:
        raise SchemaError(str(exc), table=table, source=source) from exc
    except (
        OSError,
        ValueError,
        ImportError,
        EOFError,
        pd.errors.ParserError,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        pa.ArrowException,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaError(f"{source}: cannot read the file ({reason})", table=table, source=source) from exc
    if encoding is None and len(frame):  # spreadsheet formats: skip blank rows, keep the others' line numbers
        filled = (frame != "").any(axis=1).to_numpy(dtype=bool)
        if not filled.all():
            frame, lines = frame.loc[filled].reset_index(drop=True), lines[filled]
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    renamed = _canonical_headers(list(frame.columns), table, mapping or {}, source=source)
    frame = frame.rename(columns=renamed)
    frame.index = pd.RangeIndex(len(frame))
    return RawTable(
        table,
        path,
        frame,
        pd.Series(lines, dtype="int64"),
        encoding,
        {k: v for k, v in renamed.items() if k != v},
        malformed,
    )


def _check_columns(names: list[str], limits: ReadLimits, source: str) -> None:
    if len(names) > limits.max_columns:
        raise SchemaError(
            f"{source}: the header has {len(names):,} columns; the limit is {limits.max_columns:,} "
            "(setting ingest.max_columns)",
            source=source,
        )
    check_unique_headers(names, source=source)


def _read_parquet(path: Path, limits: ReadLimits, source: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if path.stat().st_size > limits.max_file_bytes:
        raise SchemaError(
            f"{source}: the file is {path.stat().st_size:,} bytes; the limit is {limits.max_file_bytes:,} "
            "(setting ingest.max_file_bytes)",
            source=source,
        )
    names = [str(n) for n in pq.read_schema(path).names]
    _check_columns(names, limits, source)
    return _as_text(pd.read_parquet(path)).astype(TEXT)


def _read_xlsx(path: Path, limits: ReadLimits, source: str) -> pd.DataFrame:
    if path.stat().st_size > limits.max_file_bytes:
        raise SchemaError(
            f"{source}: the file is {path.stat().st_size:,} bytes; the limit is {limits.max_file_bytes:,} "
            "(setting ingest.max_file_bytes)",
            source=source,
        )
    # na_filter off: a cell holding the text "NA" or "NULL" is that text (a SKU), not a missing value.
    sheet = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl", header=None, na_filter=False)
    if sheet.empty:
        raise SchemaError(f"{source}: the first sheet is empty (expected a header row)", source=source)
    header = [_cell_text(v) for v in sheet.iloc[0].tolist()]
    while header and header[-1] == "":  # trailing empty header cells of formatted but unused columns
        header.pop()
    _check_columns(header, limits, source)
    body = sheet.iloc[1:, : len(header)].reset_index(drop=True)
    body.columns = header
    return _as_text(body).astype(TEXT)


def utf8_bytes(data: bytes, *, source: str) -> tuple[bytes, str]:
    """CSV bytes as UTF-8 without BOM, and the encoding detected (UTF-8, else GBK/GB18030).

    Raises:
        SchemaError: when neither encoding decodes the file.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        text, encoding = decode_bytes(data, source=source)
        return text.encode("utf-8"), encoding


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped string, missing as ``""`` (typed formats such as parquet included)."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object and all(isinstance(v, str) for v in s.head(50)):
            out[str(col)] = s.fillna("").astype(str).str.strip()
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
            out[str(col)] = text.fillna("")
            continue
        vals = s.astype(object)
        text = vals.map(_cell_text)
        out[str(col)] = text
    return pd.DataFrame(out, index=frame.index)


def _cell_text(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat()
    if v is pd.NaT:
        return ""
    if hasattr(v, "isoformat"):
        text = v.isoformat()
        return text.removesuffix("T00:00:00")
    return str(v).strip()


def _canonical_headers(headers: list[str], table: str, mapping: ColumnMapping, *, source: str) -> dict[str, str]:
    spec = TABLES[table]
    known = {c.lower(): c for c in spec.column_names}
    user = {**mapping.get(table, {})}
    alias_to_col = {a.lower(): col for col, names in ALIASES.items() if col in known for a in names}
    result: dict[str, str] = {}
    taken: dict[str, str] = {}
    for h in headers:
        key = str(h).replace("\ufeff", "").strip().lower()
        col = user.get(key) or known.get(key) or alias_to_col.get(key)
        if col is None:
            result[h] = str(h).strip()
            continue
        if col in taken:
            raise SchemaError(
                f"{source}: columns {show_name(taken[col])} and {show_name(h)} both mean '{col}'; rename or remove one",
                table=table,
                source=source,
            )
        taken[col] = h
        result[h] = col
    return result
