"""A dataset in memory: the validated tables of one company, and the as-of view of it.

``load_dataset(folder)`` is the one call the engine needs: it reads every table file present, validates
it row by row, and returns a :class:`Dataset` (typed frames, canonical columns) together with an
:class:`ImportResult` (counts and rejects per table). ``Dataset.as_of(date)`` applies the spec's as-of
semantics so no later row can leak into a computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.errors import DatasetNotFound, SchemaError
from stockwarden.ingest.options import DEFAULT_OPTIONS, ReadOptions
from stockwarden.ingest.read import EXTENSIONS, ColumnMapping, find_table_file, read_raw_table
from stockwarden.ingest.schema import TABLE_ORDER, TABLES
from stockwarden.ingest.validate import REJECT_COLUMNS, References, ValidationResult, validate_table


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of ``table``."""
    from stockwarden.ingest.schema import Kind

    cols: dict[str, pd.Series] = {}
    for c in TABLES[table].columns:
        dtype = {Kind.STR: object, Kind.DATE: "datetime64[ns]"}.get(c.kind, "float64")
        cols[c.name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(cols)


@dataclass(frozen=True)
class Dataset:
    """The validated tables of one company (canonical columns; absent optional tables are empty).

    Attributes:
        items, locations, suppliers, sales, inventory, purchase_orders, promotions, events, reorder_rules: one frame
            per table, columns as in ``ingest.schema`` (plus ``line`` and any extra attribute columns).
        present: the tables that had a file.
    """

    items: pd.DataFrame = field(default_factory=lambda: empty_frame("items"))
    locations: pd.DataFrame = field(default_factory=lambda: empty_frame("locations"))
    suppliers: pd.DataFrame = field(default_factory=lambda: empty_frame("suppliers"))
    sales: pd.DataFrame = field(default_factory=lambda: empty_frame("sales"))
    inventory: pd.DataFrame = field(default_factory=lambda: empty_frame("inventory"))
    purchase_orders: pd.DataFrame = field(default_factory=lambda: empty_frame("purchase_orders"))
    promotions: pd.DataFrame = field(default_factory=lambda: empty_frame("promotions"))
    events: pd.DataFrame = field(default_factory=lambda: empty_frame("events"))
    reorder_rules: pd.DataFrame = field(default_factory=lambda: empty_frame("reorder_rules"))
    present: frozenset[str] = frozenset()

    def table(self, name: str) -> pd.DataFrame:
        """The frame of table ``name``."""
        return getattr(self, name)  # type: ignore[no-any-return]

    @property
    def last_date(self) -> pd.Timestamp | None:
        """The newest sales or inventory date (the natural default for --as-of)."""
        dates = [d for d in (self.sales["date"].max(), self.inventory["date"].max()) if pd.notna(d)]
        return max(dates) if dates else None

    def as_of(self, as_of: pd.Timestamp | str) -> Dataset:
        """What was known at the end of ``as_of`` (docs/dataset.md, "As-of semantics").

        Sales and inventory dated after ``as_of`` are dropped; purchase orders ordered after it are
        dropped, and those received after it become open again (receipt date and quantity unknown).
        Events and promotions are planned ahead and kept whole.
        """
        d = pd.Timestamp(as_of).normalize()
        po = self.purchase_orders
        ordered = po["order_date"] <= d
        if not ordered.all() or (po["received_date"] > d).any():
            # Only a changed table is copied: at a million SKU-locations the PO lines take gigabytes,
            # and the run asks for the same date several times (company view, lead times, anomalies).
            po = po.loc[ordered].copy()
            later = po["received_date"] > d
            if later.any():
                po.loc[later, "received_date"] = pd.NaT
                po.loc[later, "received_qty"] = np.nan
                po.loc[later, "status"] = "open"
        return replace(
            self,
            sales=self.sales.loc[self.sales["date"] <= d],
            inventory=self.inventory.loc[self.inventory["date"] <= d],
            purchase_orders=po,
        )

    def restricted(self, *, locations: frozenset[str] | None = None, skus: frozenset[str] | None = None) -> Dataset:
        """Only the rows of these locations and/or SKUs (None: no limit on that side); suppliers, events
        and the tables without such a column are kept whole."""
        if locations is None and skus is None:
            return self
        tables: dict[str, pd.DataFrame] = {}
        for name in ("items", "locations", "sales", "inventory", "purchase_orders", "promotions", "reorder_rules"):
            frame = self.table(name)
            keep = pd.Series(True, index=frame.index)
            if locations is not None and "location_id" in frame:
                everywhere = frame["location_id"].isna() | (frame["location_id"] == "")  # promotions: empty = all
                keep &= frame["location_id"].isin(locations) | (everywhere & (name == "promotions"))
            if skus is not None and "sku" in frame:
                keep &= frame["sku"].isin(skus)
            tables[name] = frame if bool(keep.all()) else frame.loc[keep]
        return replace(self, **tables)

    def series_keys(self) -> pd.DataFrame:
        """Every (sku, location_id) pair seen in sales, inventory or purchase orders, sorted."""
        parts = [
            self.sales[["sku", "location_id"]],
            self.inventory[["sku", "location_id"]],
            self.purchase_orders[["sku", "location_id"]],
        ]
        keys = pd.concat(parts, ignore_index=True).drop_duplicates()
        return keys.sort_values(["sku", "location_id"]).reset_index(drop=True)


@dataclass(frozen=True)
class ImportResult:
    """What reading and validating a dataset folder produced (before any database write).

    Attributes:
        results: per table present, its validation result.
        files: per table present, the file it was read from.
    """

    results: dict[str, ValidationResult]
    files: dict[str, Path]
    unrecognised: tuple[tuple[str, str | None], ...] = ()

    def notes(self) -> list[str]:
        """Sentences about files in the folder that were not read (a misspelt table name, ...)."""
        out = []
        for name, table in self.unrecognised:
            if table is not None:
                out.append(
                    f"{name} was not read: it is not a dataset table name; did you mean {table}? "
                    f"(rename it to {table} with the same extension)"
                )
            else:
                out.append(f"{name} was not read: it is not a dataset table name (tables: {', '.join(TABLE_ORDER)})")
        return out

    @property
    def rejects(self) -> pd.DataFrame:
        """All rejected rows of all tables: ``table, file, line, column, value, reason``."""
        frames = [r.rejected for r in self.results.values() if len(r.rejected)]
        if not frames:
            return pd.DataFrame(columns=list(REJECT_COLUMNS))
        return pd.concat(frames, ignore_index=True)


def read_dataset(
    folder: Path | str,
    *,
    mapping: ColumnMapping | None = None,
    on_table: Callable[[str], None] | None = None,
    required_tables: tuple[str, ...] | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
) -> tuple[Dataset, ImportResult]:
    """Read and validate every table file in ``folder``.

    Args:
        folder: the dataset folder.
        mapping: user column mapping (``ingest.read.load_mapping``).
        on_table: called with each table name before it is read (for progress display).
        required_tables: tables that must have a file (default: those the spec requires, sales and
            inventory). Forecasting needs only ``("sales",)``: a demand-only folder such as an M5 extract
            has no stock counts.
        options: accepted date order, decimal mark and input limits (``ingest.options``).

    Reference tables (items, locations, suppliers) are read first so that rows naming an unknown SKU,
    location or supplier can be put aside.

    Raises:
        DatasetNotFound: when the folder does not exist.
        SchemaError: when sales or inventory is absent, a required column is missing, or a file is unreadable.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DatasetNotFound(f"dataset folder {root} does not exist or is not a folder")
    files: dict[str, Path] = {}
    for name in TABLE_ORDER:
        path = find_table_file(root, name)
        if path is not None:
            files[name] = path
    needed = required_tables
    if needed is None:
        needed = tuple(n for n in TABLE_ORDER if TABLES[n].required_file)
    missing = [n for n in needed if n not in files]
    if missing:
        raise SchemaError(
            f"{root}: required table {', '.join(missing)} is missing "
            f"(expected {missing[0]}.csv, .csv.gz, .parquet or .xlsx)",
            table=missing[0],
        )
    results: dict[str, ValidationResult] = {}
    refs = References()
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        if name not in files:
            continue
        if on_table is not None:
            on_table(name)
        raw = read_raw_table(files[name], name, mapping=mapping, options=options)
        res = validate_table(raw, refs, options=options)
        results[name] = res
        frames[name] = res.accepted
        if name == "items":
            refs = replace(refs, skus=frozenset(res.accepted["sku"]))
        elif name == "locations":
            refs = replace(refs, locations=frozenset(res.accepted["location_id"]))
        elif name == "suppliers":
            refs = replace(refs, suppliers=frozenset(res.accepted["supplier_id"]))
    frames = _fill_defaults(frames)
    ds = Dataset(**frames, present=frozenset(files))
    return ds, ImportResult(results, files, unrecognised_files(root))


def unrecognised_files(folder: Path) -> tuple[tuple[str, str | None], ...]:
    """Data files in ``folder`` that name no table: (file name, the table it probably meant, or None).

    A misspelt optional table (``purchase_order.csv``) would otherwise be ignored without a word.
    """
    import difflib

    out: list[tuple[str, str | None]] = []
    for path in sorted(folder.iterdir()):
        lower = path.name.lower()
        ext = next((e for e in EXTENSIONS if lower.endswith(e)), None)
        if ext is None or not path.is_file():
            continue
        stem = path.name[: -len(ext)]
        if stem in TABLES:
            continue
        guess = difflib.get_close_matches(stem.lower(), list(TABLES), n=1, cutoff=0.75)
        out.append((path.name, guess[0] if guess else None))
    return tuple(out)


def load_dataset(folder: Path | str, *, mapping: ColumnMapping | None = None) -> Dataset:
    """Read and validate a dataset folder; return only the usable data (see :func:`read_dataset`)."""
    return read_dataset(folder, mapping=mapping)[0]


def _fill_defaults(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Apply the spec's cross-table defaults: a PO line's missing supplier is the item's."""
    po = frames.get("purchase_orders")
    items = frames.get("items")
    if po is not None and items is not None and len(po) and po["supplier_id"].isna().any():
        by_item = items.set_index("sku")["supplier_id"]
        po = po.copy()
        po["supplier_id"] = po["supplier_id"].fillna(po["sku"].map(by_item))
        frames["purchase_orders"] = po
    return frames
