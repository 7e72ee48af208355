"""Reading dataset files: find a table's file, decode it, map its headers to our columns.

Pure I/O at the edge: returns raw text frames (every cell a string, ``""`` when empty) with the
file's own line numbers, so validation can report exactly where a bad value sits.
"""

from __future__ import annotations

import gzip
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from stockwarden.errors import DatasetNotFound, MappingError, SchemaError
from stockwarden.ingest.csvfile import TEXT, Malformed, NotUtf8, parse_csv
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


def read_raw_table(path: Path, table: str, *, mapping: ColumnMapping | None = None) -> RawTable:
    """Read one table file into text cells under canonical headers.

    Raises:
        DatasetNotFound: when the file does not exist.
        SchemaError: when the file cannot be read, or two headers map to the same column.
    """
    if not path.is_file():
        raise DatasetNotFound(f"{path} does not exist")
    source = str(path)
    name = path.name
    encoding: str | None = None
    malformed: tuple[Malformed, ...] = ()
    try:
        if name.endswith(".parquet"):
            frame = _as_text(pd.read_parquet(path)).astype(TEXT)
            lines = np.arange(1, 1 + len(frame), dtype=np.int64)  # parquet has no header line: row number
        elif name.endswith(".xlsx"):
            frame = _as_text(pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")).astype(TEXT)
            lines = np.arange(2, 2 + len(frame), dtype=np.int64)
        else:
            raw = path.read_bytes()
            if name.endswith(".gz"):
                raw = gzip.decompress(raw)
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                parsed, encoding = parse_csv(raw, source=source), "utf-8"
            except NotUtf8:
                raw, encoding = utf8_bytes(raw, source=source)
                parsed = parse_csv(raw, source=source)
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
                f"{source}: columns '{taken[col]}' and '{h}' both mean '{col}'; rename or remove one",
                table=table,
                source=source,
            )
        taken[col] = h
        result[h] = col
    return result
