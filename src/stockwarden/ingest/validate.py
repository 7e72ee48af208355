"""Row-level validation: every row is accepted, put aside with a reason, or counted as a duplicate.

Invariant (tested with Hypothesis): ``read == accepted + rejected + duplicates``. Bad rows never raise;
only an unusable file (a required column absent) does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwarden.errors import SchemaError
from stockwarden.ingest.read import RawTable
from stockwarden.ingest.schema import TABLES, Column, Kind, Table

REJECT_COLUMNS: tuple[str, ...] = ("table", "file", "line", "column", "value", "reason")

_FLAG_VALUES = {
    "": np.nan, "0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0,
    "y": 1.0, "n": 0.0, "t": 1.0, "f": 0.0, "是": 1.0, "否": 0.0,
}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The outcome of validating one table file.

    Attributes:
        table: dataset table name.
        accepted: good rows, canonical columns and dtypes (see ``schema``), plus a ``line`` column.
        rejected: one row per bad row: ``table, file, line, column, value, reason``.
        n_read: data rows in the file.
        n_duplicates: rows that exactly repeat an earlier row of the same file (not loaded twice).
        extra_columns: headers that are not dataset columns (kept as attributes, ignored by the engine).
    """

    table: str
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    n_read: int
    n_duplicates: int
    extra_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class References:
    """Known keys from the reference tables, to reject rows that point nowhere (``None`` = table absent)."""

    skus: frozenset[str] | None = None
    locations: frozenset[str] | None = None
    suppliers: frozenset[str] | None = None


def check_required_columns(raw: RawTable) -> None:
    """Raise when a required column is missing from the file (the file cannot be used at all).

    Raises:
        SchemaError: naming the file, the missing column and the headers that were found.
    """
    spec = TABLES[raw.table]
    missing = [c for c in spec.required_columns if c not in raw.frame.columns]
    if missing:
        found = ", ".join(map(str, raw.frame.columns)) or "no columns"
        raise SchemaError(
            f"{raw.path.name}: required column {', '.join(repr(m) for m in missing)} is missing "
            f"(found: {found}); rename the header or map it with --mapping",
            table=raw.table,
            source=str(raw.path),
        )


def validate_table(raw: RawTable, refs: References | None = None) -> ValidationResult:
    """Validate one raw table: parse every cell, apply the table's rules, split good from bad rows.

    Args:
        raw: the table as read (text cells).
        refs: known skus / locations / suppliers; rows naming an unknown one are rejected.

    Returns:
        The accepted rows (typed), the rejected rows with reasons, and the counts.

    Raises:
        SchemaError: when a required column is absent.
    """
    check_required_columns(raw)
    spec = TABLES[raw.table]
    refs = refs or References()
    frame = raw.frame
    n = len(frame)
    extras = tuple(c for c in frame.columns if c not in spec.column_names)

    dup = frame.duplicated(keep="first").to_numpy() if n else np.zeros(0, dtype=bool)
    reason = np.full(n, None, dtype=object)
    bad_col = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, column: str, why: str) -> None:
        new = mask & ~dup & (reason == None)  # noqa: E711 - elementwise on an object array
        reason[new] = why
        bad_col[new] = column

    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        parsed, problems = _parse_column(frame, col, n)
        for mask, why in problems:
            flag(mask, col.name, why)
        out[col.name] = parsed

    _table_rules(spec, out, flag)
    _reference_rules(spec, out, refs, flag)

    is_rejected = reason != None  # noqa: E711
    keep = ~is_rejected & ~dup
    accepted = pd.DataFrame(out)
    for c in extras:
        accepted[c] = frame[c].to_numpy()
    accepted["line"] = raw.line_numbers.to_numpy()
    accepted = accepted.loc[keep].reset_index(drop=True)

    idx = np.flatnonzero(is_rejected)
    values = [str(frame.at[i, bad_col[i]]) if bad_col[i] in frame.columns else "" for i in idx]
    rejected = pd.DataFrame(
        {
            "table": raw.table,
            "file": raw.path.name,
            "line": raw.line_numbers.to_numpy()[idx],
            "column": bad_col[idx],
            "value": values,
            "reason": reason[idx],
        },
        columns=list(REJECT_COLUMNS),
    )
    return ValidationResult(raw.table, accepted, rejected, n, int(dup.sum()), extras)


def _parse_column(frame: pd.DataFrame, col: Column, n: int) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    problems: list[tuple[np.ndarray, str]] = []
    if col.name in frame.columns:
        text = frame[col.name].astype(str).str.strip()
    else:
        text = pd.Series([""] * n, dtype=object)
    empty = (text == "").to_numpy()
    if col.required:
        problems.append((empty, f"{col.name} is empty but required"))

    if col.kind is Kind.STR:
        s = text.where(~empty, None)
        if col.choices:
            low = s.str.lower()
            bad = (~empty) & ~low.isin(col.choices).to_numpy()
            problems.append((bad, f"{col.name} must be one of {', '.join(col.choices)}"))
            s = low.where(~empty, None)
        if col.default is not None:
            s = s.where(~empty, col.default)
        return s.astype(object), problems

    if col.kind is Kind.DATE:
        parsed = _parse_dates(text)
        bad = (~empty) & parsed.isna().to_numpy()
        problems.append((bad, f"{col.name} is not a date (expected YYYY-MM-DD)"))
        return parsed, problems

    if col.kind is Kind.FLAG:
        mapped = text.str.lower().map(_FLAG_VALUES)
        bad = (~empty) & mapped.isna().to_numpy()
        problems.append((bad, f"{col.name} must be 0 or 1"))
        if col.default is not None:
            mapped = mapped.fillna(col.default)
        return mapped.astype("float64"), problems

    cleaned = text.str.replace(",", "", regex=False).str.replace("\u00a0", "", regex=False)
    num = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    arr = num.to_numpy()
    bad = (~empty) & np.isnan(arr)
    problems.append((bad, f"{col.name} is not a number"))
    finite = ~np.isnan(arr)
    problems.append((finite & ~np.isfinite(arr), f"{col.name} is not a finite number"))
    if col.positive:
        problems.append((finite & (arr <= 0), f"{col.name} must be greater than 0"))
    if col.min_value is not None:
        what = "negative" if col.min_value == 0 else f"below {col.min_value:g}"
        problems.append((finite & (arr < col.min_value), f"{col.name} is {what}"))
    if col.max_value is not None:
        problems.append((finite & (arr > col.max_value), f"{col.name} is above {col.max_value:g}"))
    if col.integer:
        problems.append((finite & (np.floor(arr) != arr), f"{col.name} must be a whole number"))
    if col.default is not None:
        num = num.fillna(float(col.default))  # type: ignore[arg-type]
    return num, problems


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates (and timestamps, normalised to their day); common ERP forms like 2024/01/02 too."""
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    todo = parsed.isna() & (text != "")
    if todo.any():
        rest = text[todo].str.replace("/", "-", regex=False).str.replace(".", "-", regex=False)
        parsed.loc[todo] = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        todo = parsed.isna() & (text != "")
        if todo.any():
            parsed.loc[todo] = pd.to_datetime(text[todo], format="mixed", errors="coerce", dayfirst=False)
    parsed = pd.to_datetime(parsed, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize().astype("datetime64[ns]")


def _table_rules(spec: Table, out: dict[str, pd.Series], flag: object) -> None:
    f = flag  # the closure from validate_table: flag(mask, column, reason)
    if spec.name == "purchase_orders":
        od, pd_, rd = out["order_date"], out["promised_date"], out["received_date"]
        f((rd < od).to_numpy(), "received_date", "received_date is before order_date")  # type: ignore[operator]
        f((pd_ < od).to_numpy(), "promised_date", "promised_date is before order_date")  # type: ignore[operator]
        status = out["status"]
        rq = out["received_qty"]
        received = (status == "received").to_numpy()
        f(received & rd.isna().to_numpy(), "received_date",  # type: ignore[operator]
          "status is received but received_date is empty")
        f((status == "open").to_numpy() & rd.notna().to_numpy(), "status",  # type: ignore[operator]
          "status is open but received_date is filled")
        # Default status from the receipt; received quantity defaults to the ordered quantity once received.
        has_rd = rd.notna()
        out["status"] = status.where(status.notna(), np.where(has_rd, "received", "open"))
        out["received_qty"] = rq.where(rq.notna() | ~has_rd, out["qty"])
    elif spec.name == "promotions":
        f((out["end_date"] < out["start_date"]).to_numpy(), "end_date",  # type: ignore[operator]
          "end_date is before start_date")


def _reference_rules(spec: Table, out: dict[str, pd.Series], refs: References, flag: object) -> None:
    f = flag
    checks = (("sku", refs.skus, "items"), ("location_id", refs.locations, "locations"),
              ("supplier_id", refs.suppliers, "suppliers"))
    own_key = spec.key[0] if len(spec.key) == 1 else None
    for column, known, table in checks:
        if known is None or column not in out or own_key == column:
            continue
        s = out[column]
        bad = s.notna().to_numpy() & ~s.isin(known).to_numpy()
        f(bad, column, f"{column} is not in {table}")  # type: ignore[operator]
