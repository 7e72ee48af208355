"""Row-level validation: every row is accepted, put aside with a reason, or counted as a duplicate.

Invariant (tested with Hypothesis): ``read == accepted + rejected + duplicates``. Bad rows never raise;
only an unusable file (a required column absent) does.

The kinds of bad row, each reported with its file, line, column, value and a reason:

* a line that cannot be split into the header's fields (malformed CSV line);
* a required value that is empty; a date or number that does not parse; a flag that is not 0/1;
* a number out of range (negative stock, ordered quantity not above 0, service level above 1, ...);
* a status that is not one of the allowed words;
* contradictions within a row (PO received before it was ordered, received without a receipt date,
  promotion ending before it starts);
* a reference to an unknown sku, location or supplier when that table is present;
* a second, different row for a key that must be unique (an item twice, two stock counts of the same
  sku and location on the same day, two POs lines with the same number).

A row that repeats an earlier row exactly is a duplicate: counted, not loaded twice, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwarden.errors import SchemaError
from stockwarden.ingest.csvfile import show_names
from stockwarden.ingest.options import DEFAULT_OPTIONS, ReadOptions
from stockwarden.ingest.parse import FLAG_VALUES, encode, parse_column, text_array
from stockwarden.ingest.read import RawTable
from stockwarden.ingest.schema import DEFAULT_LOCATION, TABLES, Table

REJECT_COLUMNS: tuple[str, ...] = ("table", "file", "line", "column", "value", "reason")
_FLAG_VALUES = FLAG_VALUES  # kept for compatibility

# Tables whose natural key must identify one row (a second, different row for the key is put aside).
UNIQUE_KEY_TABLES: frozenset[str] = frozenset(
    {"items", "locations", "suppliers", "inventory", "purchase_orders", "reorder_rules"}
)

Flag = Callable[[np.ndarray, str, str], None]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The outcome of validating one table file.

    Attributes:
        table: dataset table name.
        accepted: good rows, canonical columns and dtypes (see ``schema``), plus a ``line`` column.
        rejected: one row per bad row: ``table, file, line, column, value, reason``.
        n_read: data rows in the file (malformed lines included).
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
        found = show_names([str(c) for c in raw.frame.columns]) or "no columns"
        raise SchemaError(
            f"{raw.path.name}: required column {', '.join(repr(m) for m in missing)} is missing "
            f"(found: {found}); rename the header or map it with --mapping",
            table=raw.table,
            source=str(raw.path),
        )


def validate_table(
    raw: RawTable, refs: References | None = None, *, options: ReadOptions = DEFAULT_OPTIONS
) -> ValidationResult:
    """Validate one raw table: parse every cell, apply the table's rules, split good from bad rows.

    Args:
        raw: the table as read (text cells).
        refs: known skus / locations / suppliers; rows naming an unknown one are rejected.
        options: the accepted date order and decimal mark (docs/import.md, "Accepted forms").

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
    lines = raw.line_numbers.to_numpy()
    extras = tuple(c for c in frame.columns if c not in spec.column_names)
    is_spreadsheet = raw.path.name.lower().endswith(".xlsx")

    encoded = {c: encode(text_array(frame[c])) for c in frame.columns}
    dup = _duplicated(encoded, n)
    reason = np.full(n, None, dtype=object)
    bad_col = np.full(n, None, dtype=object)
    is_bad = dup.copy()  # rows already settled: duplicates and rows with a reason

    def flag(mask: np.ndarray, column: str, why: str) -> None:
        if not mask.any():
            return
        new = mask & ~is_bad
        reason[new] = why
        bad_col[new] = column
        is_bad[new] = True

    out: dict[str, pd.Series] = {}
    empty: dict[str, np.ndarray] = {}
    for col in spec.columns:
        parsed = parse_column(
            frame, col, n, encoded=encoded.get(col.name), options=options, is_spreadsheet=is_spreadsheet
        )
        for mask, why in parsed.problems:
            flag(mask, col.name, why)
        out[col.name] = parsed.values
        empty[col.name] = parsed.empty

    _table_rules(spec, out, empty, flag)
    _reference_rules(spec, out, empty, refs, flag)
    if spec.name in UNIQUE_KEY_TABLES:
        _unique_key_rule(spec, out, lines, dup, reason, bad_col)

    is_rejected = reason != None  # noqa: E711
    keep = ~is_rejected & ~dup
    columns: dict[str, object] = {name: s.to_numpy() for name, s in out.items()}
    for c in extras:
        values, index = encoded[c]
        columns[c] = values.to_numpy(zero_copy_only=False)[index]  # type: ignore[attr-defined]
    columns["line"] = lines
    if not keep.all():
        columns = {name: v[keep] for name, v in columns.items()}  # type: ignore[index]
    accepted = pd.DataFrame(columns, copy=False)

    idx = np.flatnonzero(is_rejected)
    values = [str(frame.at[i, bad_col[i]]).strip() if bad_col[i] in frame.columns else "" for i in idx]
    rejected = pd.DataFrame(
        {
            "table": raw.table,
            "file": raw.path.name,
            "line": lines[idx].astype(np.int64),
            "column": bad_col[idx],
            "value": values,
            "reason": reason[idx],
        },
        columns=list(REJECT_COLUMNS),
    )
    if raw.malformed:
        bad_lines = pd.DataFrame(
            {
                "table": raw.table,
                "file": raw.path.name,
                "line": [m.line for m in raw.malformed],
                "column": "",
                "value": [m.text for m in raw.malformed],
                "reason": [m.reason for m in raw.malformed],
            },
            columns=list(REJECT_COLUMNS),
        )
        rejected = pd.concat([rejected, bad_lines], ignore_index=True).sort_values("line", kind="stable")
        rejected = rejected.reset_index(drop=True)
    return ValidationResult(raw.table, accepted, rejected, n + len(raw.malformed), int(dup.sum()), extras)


def _duplicated(encoded: dict[str, tuple[object, np.ndarray]], n: int) -> np.ndarray:
    """Rows that repeat an earlier row exactly (all cells equal after trimming)."""
    if n == 0:
        return np.zeros(0, dtype=bool)
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for values, index in encoded.values():
        card = max(len(values), 1)  # type: ignore[arg-type]
        span *= card
        if span >= 2**62:  # the codes no longer fit one integer: let pandas combine them
            codes = {str(i): idx for i, (_, idx) in enumerate(encoded.values())}
            return pd.DataFrame(codes).duplicated(keep="first").to_numpy()
        key = key * card + index
    return pd.Series(key).duplicated(keep="first").to_numpy()


def _table_rules(spec: Table, out: dict[str, pd.Series], empty: dict[str, np.ndarray], f: Flag) -> None:
    if spec.name == "purchase_orders":
        od, pd_, rd = out["order_date"], out["promised_date"], out["received_date"]
        f((rd < od).to_numpy(), "received_date", "received_date is before order_date")
        f((pd_ < od).to_numpy(), "promised_date", "promised_date is before order_date")
        status = out["status"]
        rq = out["received_qty"]
        received = (status == "received").to_numpy()
        f(received & rd.isna().to_numpy(), "received_date", "status is received but received_date is empty")
        f(
            (status == "open").to_numpy() & rd.notna().to_numpy(),
            "status",
            "status is open but received_date is filled (use status received, or clear the date)",
        )
        # Default status from the receipt; received quantity defaults to the ordered quantity once received.
        has_rd = rd.notna()
        out["status"] = status.where(status.notna(), pd.Series(np.where(has_rd, "received", "open"), dtype=object))
        out["received_qty"] = rq.where(rq.notna() | ~has_rd, out["qty"])
        out["line_no"] = _default_line_numbers(out["po_id"], out["line_no"], empty["line_no"])
    elif spec.name == "promotions":
        f((out["end_date"] < out["start_date"]).to_numpy(), "end_date", "end_date is before start_date")
    elif spec.name == "reorder_rules":
        f((out["max_qty"] < out["min_qty"]).to_numpy(), "max_qty", "max_qty is below min_qty (the reorder point)")


def _default_line_numbers(po_id: pd.Series, line_no: pd.Series, is_empty: np.ndarray) -> pd.Series:
    """A PO line without a line number is numbered by its position in the PO, after any numbered lines."""
    if not is_empty.any():
        return line_no
    numbered_max = line_no.where(~is_empty).groupby(po_id, sort=False).transform("max").fillna(0.0)
    position = pd.Series(1.0, index=po_id.index).where(is_empty, 0.0).groupby(po_id, sort=False).cumsum()
    return line_no.where(~is_empty, numbered_max + position)


def _reference_rules(
    spec: Table, out: dict[str, pd.Series], empty: dict[str, np.ndarray], refs: References, f: Flag
) -> None:
    checks = (
        ("sku", refs.skus, "items"),
        ("location_id", refs.locations, "locations"),
        ("supplier_id", refs.suppliers, "suppliers"),
    )
    own_key = spec.key[0] if len(spec.key) == 1 else None
    for column, known, table in checks:
        if known is None or column not in out or own_key == column:
            continue
        s = out[column]
        bad = s.notna().to_numpy() & ~s.isin(known).to_numpy()
        if column == "location_id" and column in empty:
            defaulted = bad & empty[column]
            f(
                defaulted,
                column,
                f"location_id is empty, so it means {DEFAULT_LOCATION}, but locations has no "
                f"{DEFAULT_LOCATION}; fill in the location or add {DEFAULT_LOCATION} to locations",
            )
            bad = bad & ~defaulted
        f(bad, column, f"{column} is not in {table} (add it to {table} or correct the code)")


_KEY_WORDS = {
    "items": ("sku", "sku {v} is also on line {first}; each sku must appear once in items"),
    "locations": ("location_id", "location_id {v} is also on line {first}; each location must appear once"),
    "suppliers": ("supplier_id", "supplier_id {v} is also on line {first}; each supplier must appear once"),
    "inventory": ("on_hand", "line {first} already has a different count for the same date, sku and location"),
    "purchase_orders": ("line_no", "line {first} already has PO {v} with the same line_no; line numbers must differ"),
    "reorder_rules": ("min_qty", "line {first} already has a rule for the same sku and location"),
}


def _unique_key_rule(
    spec: Table,
    out: dict[str, pd.Series],
    lines: np.ndarray,
    dup: np.ndarray,
    reason: np.ndarray,
    bad_col: np.ndarray,
) -> None:
    """Put aside a second, different row for a key that must identify one row (the first one is kept)."""
    cand = ~dup & (reason == None)  # noqa: E711
    if cand.sum() < 2:
        return
    keys = pd.DataFrame({k: out[k] for k in spec.key}).loc[cand]
    conflict = keys.duplicated(keep="first").to_numpy()
    if not conflict.any():
        return
    keys["_line"] = lines[cand]
    first = keys.groupby(list(spec.key), dropna=False, sort=False)["_line"].transform("first").to_numpy()
    column, template = _KEY_WORDS[spec.name]
    rows = np.flatnonzero(cand)[conflict]
    first_lines = first[conflict]
    key0 = out[spec.key[0]]
    for row, first_line in zip(rows, first_lines, strict=True):
        reason[row] = template.format(v=key0.iat[row], first=int(first_line))
        bad_col[row] = column


__all__ = [
    "REJECT_COLUMNS",
    "UNIQUE_KEY_TABLES",
    "References",
    "ValidationResult",
    "check_required_columns",
    "validate_table",
]
