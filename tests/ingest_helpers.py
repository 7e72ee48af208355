"""Helpers for ingest and import tests: write files byte for byte, read one table, find a reject."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stockwarden.ingest.read import read_raw_table
from stockwarden.ingest.validate import References, ValidationResult, validate_table

ITEMS_CSV = "sku,name,supplier_id\nA,Widget,S1\nB,Gadget,S1\n"
SUPPLIERS_CSV = "supplier_id,name\nS1,Acme\n"
LOCATIONS_CSV = "location_id,name\nWH1,Main\n"


def write_text(folder: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``folder/name`` exactly (no pandas quoting or reordering)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def validate_text(tmp_path: Path, table: str, text: str, refs: References | None = None) -> ValidationResult:
    """Validate one table given as CSV text."""
    path = write_text(tmp_path, f"{table}.csv", text)
    return validate_table(read_raw_table(path, table), refs)


def reject_at(result: ValidationResult, line: int) -> pd.Series:
    """The reject of the given file line (fails when there is none)."""
    rows = result.rejected.loc[result.rejected["line"] == line]
    assert len(rows) == 1, f"expected one reject on line {line}, got:\n{result.rejected}"
    return rows.iloc[0]


def minimal_folder(
    folder: Path,
    *,
    sales: str | None = None,
    inventory: str | None = None,
    items: str | None = ITEMS_CSV,
    extra: dict[str, str] | None = None,
) -> Path:
    """A small valid dataset folder; any table's CSV text can be replaced."""
    write_text(folder, "sales.csv", sales or "date,sku,qty,location_id\n2024-01-01,A,3,WH1\n2024-01-02,B,1,WH1\n")
    write_text(folder, "inventory.csv", inventory or "date,sku,on_hand,location_id\n2024-01-02,A,10,WH1\n")
    if items is not None:
        write_text(folder, "items.csv", items)
    for name, text in (extra or {}).items():
        write_text(folder, name, text)
    return folder
