"""Data health: what was loaded, and the freshness problems a planner must know about.

``check_health(ds, as_of=..., rules=...)`` returns a :class:`HealthReport`: a per-table summary (rows,
first and last date, SKUs, locations) and a list of :class:`DataWarning` with a stable ``code``, the
table concerned, a sentence a planner understands, how many rows or series are affected and a few
examples. Nothing is dropped: every affected row or series is counted in ``count``, even when only the
first few are named.

Warning codes (stable; other tools match on them):

==========================  ============================================================================
``no_data``                 sales or inventory holds no row up to the as-of date
``missing_table``           an optional table that matters (items, purchase orders) is absent
``stale_count``             the newest stock count of a location is older than ``stale_count_days``
``stale_sku_count``         SKU-locations still selling whose newest count is older than that limit
``sales_without_count``     SKU-locations with sales but no stock count at all
``po_overdue``              open PO lines more than ``overdue_po_days`` past their promised date
``stale_feed``              a feed lags: a location's sales, or purchase orders, stopped arriving
``no_lead_time``            items whose lead time is known neither from the item nor from its supplier
``future_rows``             rows dated after the as-of date (ignored for that date) - info only
==========================  ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from stockwarden.config import HealthRules
from stockwarden.ingest.dataset import Dataset
from stockwarden.ingest.schema import TABLE_ORDER

MAX_EXAMPLES = 5


class Severity(StrEnum):
    """How much a data warning matters."""

    WARNING = "warning"  # results are less reliable until the data is fixed
    INFO = "info"  # worth knowing; results are not affected


class WarningCode(StrEnum):
    """Stable codes of the data warnings (see the module docstring)."""

    NO_DATA = "no_data"
    MISSING_TABLE = "missing_table"
    STALE_COUNT = "stale_count"
    STALE_SKU_COUNT = "stale_sku_count"
    SALES_WITHOUT_COUNT = "sales_without_count"
    PO_OVERDUE = "po_overdue"
    STALE_FEED = "stale_feed"
    NO_LEAD_TIME = "no_lead_time"
    FUTURE_ROWS = "future_rows"


@dataclass(frozen=True, slots=True)
class TableSummary:
    """What one table holds.

    Attributes:
        table: dataset table name.
        is_present: a file for the table was given.
        rows: rows loaded.
        first_date, last_date: the table's date range (None for tables without dates or rows).
        skus, locations: distinct SKUs and locations named (0 when the table has no such column).
    """

    table: str
    is_present: bool
    rows: int
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    skus: int
    locations: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ``YYYY-MM-DD`` or None)."""
        return {
            "table": self.table,
            "present": self.is_present,
            "rows": self.rows,
            "first_date": _iso(self.first_date),
            "last_date": _iso(self.last_date),
            "skus": self.skus,
            "locations": self.locations,
        }


@dataclass(frozen=True, slots=True)
class DataWarning:
    """One data-health problem.

    Attributes:
        code: stable code (:class:`WarningCode`).
        table: the table it concerns.
        severity: ``warning`` or ``info``.
        message: one sentence for a planner: what, how many, why it matters.
        count: how many rows or SKU-locations are affected (all of them, not only the examples).
        examples: up to five affected items, most serious first.
    """

    code: WarningCode
    table: str
    severity: Severity
    message: str
    count: int = 1
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a warning: ``code, table, severity, message, count, examples``."""
        return {
            "code": str(self.code),
            "table": self.table,
            "severity": str(self.severity),
            "message": self.message,
            "count": self.count,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The data-health report of a dataset as of a date.

    Attributes:
        as_of: the date the freshness checks were made for (None when the dataset has no dated row).
        tables: one summary per dataset table, in dataset order.
        warnings: every warning, warnings before infos.
    """

    as_of: pd.Timestamp | None
    tables: tuple[TableSummary, ...]
    warnings: tuple[DataWarning, ...]

    def warnings_json(self) -> list[dict[str, Any]]:
        """The warnings as JSON objects (the ``warnings`` list of ``stockwarden import --json``)."""
        return [w.to_dict() for w in self.warnings]

    def to_dict(self) -> dict[str, Any]:
        """The whole report, JSON-ready."""
        return {
            "as_of": _iso(self.as_of),
            "tables": [t.to_dict() for t in self.tables],
            "warnings": self.warnings_json(),
        }

    def codes(self) -> list[str]:
        """The warning codes, in report order."""
        return [str(w.code) for w in self.warnings]


def check_health(
    ds: Dataset, *, as_of: pd.Timestamp | str | None = None, rules: HealthRules | None = None
) -> HealthReport:
    """Summarise every table and check the data's freshness as of a date.

    Args:
        ds: the dataset.
        as_of: the date to check for; default the dataset's newest sales or inventory date.
        rules: the ``health`` section of the rules (limits in days); default values when None.

    Returns:
        The report: per-table summaries and every warning found.

    Example:
        >>> report = check_health(load_dataset("demo_company"))  # doctest: +SKIP
        >>> [w["code"] for w in report.warnings_json()]  # doctest: +SKIP
        ['po_overdue']
    """
    rules = rules or HealthRules.model_validate({})
    day = pd.Timestamp(as_of).normalize() if as_of is not None else ds.last_date
    tables = tuple(_summary(ds, name) for name in TABLE_ORDER)
    if day is None:
        found = [
            _warn(
                WarningCode.NO_DATA,
                "sales",
                "There are no sales and no stock counts: nothing can be assessed until they are imported.",
            )
        ]
        return HealthReport(None, tables, tuple(found))
    now = ds.as_of(day)
    found = [
        *_check_presence(ds, now, day),
        *_check_counts(now, day, rules),
        *_check_purchase_orders(ds, now, day, rules),
        *_check_feeds(now, day, rules),
        *_check_lead_times(ds),
        *_check_future(ds, day),
    ]
    order = {Severity.WARNING: 0, Severity.INFO: 1}
    found.sort(key=lambda w: order[w.severity])  # stable: checks keep their order within a severity
    return HealthReport(day, tables, tuple(found))


def _summary(ds: Dataset, name: str) -> TableSummary:
    frame = ds.table(name)
    first = last = None
    dates = [c for c in ("date", "order_date", "received_date", "start_date", "end_date") if c in frame.columns]
    if len(frame) and dates:
        values = pd.concat([frame[c] for c in dates], ignore_index=True).dropna()
        if len(values):
            first, last = values.min(), values.max()
    skus = int(frame["sku"].nunique()) if "sku" in frame.columns else 0
    locs = int(frame["location_id"].nunique()) if "location_id" in frame.columns else 0
    return TableSummary(name, name in ds.present, len(frame), first, last, skus, locs)


def _check_presence(ds: Dataset, now: Dataset, day: pd.Timestamp) -> list[DataWarning]:
    out = []
    for name, what in (("sales", "sales"), ("inventory", "stock counts")):
        if not len(now.table(name)):
            out.append(
                _warn(
                    WarningCode.NO_DATA,
                    name,
                    f"There are no {what} on or before {_iso(day)}: stock cannot be assessed without them.",
                )
            )
    if "items" not in ds.present:
        out.append(
            _warn(
                WarningCode.MISSING_TABLE,
                "items",
                "No items table: pack sizes, minimum order "
                "quantities, lead times and service levels fall back to the defaults.",
            )
        )
    if "purchase_orders" not in ds.present:
        out.append(
            _warn(
                WarningCode.MISSING_TABLE,
                "purchase_orders",
                "No purchase orders: stock already on order is unknown and counted as zero, so risk may be overstated.",
            )
        )
    return out


def _check_counts(now: Dataset, day: pd.Timestamp, rules: HealthRules) -> list[DataWarning]:
    inv, sales = now.inventory, now.sales
    out: list[DataWarning] = []
    limit = pd.Timedelta(days=rules.stale_count_days)
    fresh_locations: set[str] = set()
    if len(inv):
        newest_loc = inv.groupby("location_id")["date"].max().sort_values()
        for loc, newest in newest_loc.items():
            if day - newest > limit:
                age = (day - newest).days
                out.append(
                    _warn(
                        WarningCode.STALE_COUNT,
                        "inventory",
                        f"The newest stock count at {loc} is from {_iso(newest)}, {age} days before {_iso(day)} "
                        f"(limit {rules.stale_count_days}): its on-hand stock is an estimate rolled forward from "
                        "sales and receipts; count it again.",
                        examples=(f"{loc}: {_iso(newest)}",),
                    )
                )
            else:
                fresh_locations.add(str(loc))
    newest = inv.groupby(["sku", "location_id"])["date"].max() if len(inv) else pd.Series(dtype="datetime64[ns]")
    if len(sales):
        recent = sales.loc[sales["date"] > day - limit, ["sku", "location_id"]].drop_duplicates()
        keys = pd.MultiIndex.from_frame(recent)
        last_count = newest.reindex(keys)
        stale = last_count[
            (last_count.notna())
            & (day - last_count > limit)
            & keys.get_level_values("location_id").isin(list(fresh_locations))
        ].sort_values()
        if len(stale):
            out.append(
                _warn(
                    WarningCode.STALE_SKU_COUNT,
                    "inventory",
                    f"{len(stale)} SKU-locations still selling have not been counted for more than "
                    f"{rules.stale_count_days} days although their location counts other items; their stock is "
                    "an estimate.",
                    count=len(stale),
                    examples=tuple(
                        f"{s} @ {loc}: last counted {_iso(d)}" for (s, loc), d in stale.head(MAX_EXAMPLES).items()
                    ),
                )
            )
        sold = sales[["sku", "location_id"]].drop_duplicates()
        never = sold[~pd.MultiIndex.from_frame(sold).isin(newest.index)]
        if len(never):
            never = never.sort_values(["sku", "location_id"])
            out.append(
                _warn(
                    WarningCode.SALES_WITHOUT_COUNT,
                    "inventory",
                    f"{len(never)} SKU-locations have sales but no stock count, so their on-hand stock is unknown; "
                    "add them to the inventory export.",
                    count=len(never),
                    examples=tuple(f"{s} @ {loc}" for s, loc in never.head(MAX_EXAMPLES).itertuples(index=False)),
                )
            )
    return out


def _check_purchase_orders(ds: Dataset, now: Dataset, day: pd.Timestamp, rules: HealthRules) -> list[DataWarning]:
    po = now.purchase_orders
    if not len(po):
        return []
    is_open = po["status"].eq("open") & po["received_date"].isna()
    po = po.loc[is_open]
    if not len(po):
        return []
    expected = po["promised_date"]
    no_promise = expected.isna()
    if no_promise.any():  # no promise: expect it after the item's (else the supplier's) lead time
        lead = po["sku"].map(ds.items.set_index("sku")["lead_time_days"]) if len(ds.items) else np.nan
        sup_lead = po["supplier_id"].map(ds.suppliers.set_index("supplier_id")["lead_time_days"])
        lead = pd.Series(lead, index=po.index).fillna(sup_lead)
        expected = expected.fillna(po["order_date"] + pd.to_timedelta(lead, unit="D"))
    po = po.assign(late=(day - expected).dt.days)
    overdue = po.loc[po["late"] > rules.overdue_po_days].sort_values("late", ascending=False)
    if not len(overdue):
        return []
    by_po = overdue.groupby("po_id", sort=False).agg(
        supplier=("supplier_id", "first"),
        location=("location_id", "first"),
        lines=("sku", "size"),
        expected=("late", "max"),
        promised=("promised_date", "min"),
    )
    examples = tuple(
        f"{po_id}: {r.supplier} -> {r.location}, {_plural(int(r.lines), 'line')}, {int(r.expected)} days late"
        for po_id, r in by_po.head(MAX_EXAMPLES).iterrows()
    )
    return [
        _warn(
            WarningCode.PO_OVERDUE,
            "purchase_orders",
            f"{_plural(len(overdue), 'open purchase order line')} ({_plural(len(by_po), 'PO')}) "
            f"{'is' if len(overdue) == 1 else 'are'} more than "
            f"{rules.overdue_po_days} days past their promised date: chase the supplier, or close them if they "
            "will not come.",
            count=len(overdue),
            examples=examples,
        )
    ]


def _check_feeds(now: Dataset, day: pd.Timestamp, rules: HealthRules) -> list[DataWarning]:
    out = []
    sales = now.sales
    if len(sales):
        last = sales.groupby("location_id")["date"].max()
        lagging = last[day - last > pd.Timedelta(days=rules.stale_feed_days)].sort_values()
        if len(lagging):
            whole = len(lagging) == len(last)
            where = "any location" if whole else f"{len(lagging)} of {len(last)} locations"
            out.append(
                _warn(
                    WarningCode.STALE_FEED,
                    "sales",
                    f"No sales recorded at {where} for more than {rules.stale_feed_days} days before {_iso(day)}: "
                    "the sales feed may have stopped, and demand there would look like zero.",
                    count=len(lagging),
                    examples=tuple(f"{loc}: last sale {_iso(d)}" for loc, d in lagging.head(MAX_EXAMPLES).items()),
                )
            )
    po = now.purchase_orders
    if len(po):
        activity = pd.concat([po["order_date"], po["received_date"]]).dropna().max()
        if day - activity > pd.Timedelta(days=rules.stale_po_feed_days):
            out.append(
                _warn(
                    WarningCode.STALE_FEED,
                    "purchase_orders",
                    f"No purchase order was placed or received since {_iso(activity)} "
                    f"({(day - activity).days} days before {_iso(day)}): the purchase-order export may be stale, "
                    "and stock on order would be missed.",
                    examples=(f"last activity {_iso(activity)}",),
                )
            )
    return out


def _check_lead_times(ds: Dataset) -> list[DataWarning]:
    items = ds.items
    if not len(items):
        return []
    sup_lead = items["supplier_id"].map(ds.suppliers.set_index("supplier_id")["lead_time_days"])
    unknown = items.loc[items["lead_time_days"].isna() & sup_lead.isna(), "sku"].sort_values()
    if not len(unknown):
        return []
    return [
        _warn(
            WarningCode.NO_LEAD_TIME,
            "items",
            f"{len(unknown)} items have no lead time, neither their own nor their supplier's: it will be learned "
            "from past deliveries, else the configured default is used.",
            count=len(unknown),
            severity=Severity.INFO,
            examples=tuple(unknown.head(MAX_EXAMPLES)),
        )
    ]


def _check_future(ds: Dataset, day: pd.Timestamp) -> list[DataWarning]:
    out = []
    for name, col in (("sales", "date"), ("inventory", "date"), ("purchase_orders", "order_date")):
        later = ds.table(name)[col] > day
        n = int(later.sum())
        if n:
            out.append(
                _warn(
                    WarningCode.FUTURE_ROWS,
                    name,
                    f"{n} {name.replace('_', ' ')} rows are dated after {_iso(day)}; they are ignored for results "
                    f"as of that date.",
                    count=n,
                    severity=Severity.INFO,
                    examples=(f"newest {_iso(ds.table(name)[col].max())}",),
                )
            )
    return out


def _warn(
    code: WarningCode,
    table: str,
    message: str,
    *,
    count: int = 1,
    examples: tuple[str, ...] = (),
    severity: Severity = Severity.WARNING,
) -> DataWarning:
    return DataWarning(code, table, severity, message, count, examples)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _iso(d: object) -> str | None:
    return None if d is None or pd.isna(d) else pd.Timestamp(d).date().isoformat()  # type: ignore[arg-type]


__all__ = ["MAX_EXAMPLES", "DataWarning", "HealthReport", "Severity", "TableSummary", "WarningCode", "check_health"]
