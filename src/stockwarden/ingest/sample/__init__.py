"""A realistic sample company, generated: the dataset behind ``stockwarden demo`` and many tests.

``generate_company(folder)`` writes a valid dataset folder (docs/dataset.md) for a Chinese retailer with
an online DC and stores: seven categories (electronics, home, beauty, food, toys, apparel, spare parts)
with yearly seasonality, weekly patterns and Chinese and Western holidays and shopping festivals
(Spring Festival, 618, Double 11, National Day, Christmas, Black Friday, ...); planned promotions with an
uplift; a share of intermittent, lumpy slow movers; six suppliers with different lead times and
habits (often late, often short, one drifting later in the last months, all closed around Spring
Festival); and a simulated periodic-review replenishment policy with forgotten reviews, so that stock
counts, purchase orders (received, open, overdue, cancelled) and stockouts (sales = min(demand, stock))
are consistent. Deterministic for a seed; a few seconds for the default size.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from stockwarden.ingest.sample.calendar import build_events, spring_festival_days
from stockwarden.ingest.sample.catalog import ITEM_COLUMNS, build_items, build_locations, build_suppliers
from stockwarden.ingest.sample.demand import Demand, build_promotions, promotion_discount, simulate_demand
from stockwarden.ingest.sample.supply import Supply, simulate_supply

DEFAULT_END = date(2025, 10, 26)
PLANNED_AHEAD_DAYS = 90  # promotions and events are written this far past the last day
_FORMATS = ("csv", "csv.gz", "parquet")
_DECIMAL_COLUMNS = ("price", "unit_cost", "service_level", "discount")


@dataclass(frozen=True)
class SampleCompany:
    """The generated tables (dataset columns) plus the hidden truth used to make them.

    Attributes:
        tables: table name -> frame with the dataset's columns (dates as Timestamps).
        demand: true daily demand, shape (n_series, n_days), series item-major (s = item * n_loc + loc).
        dates: the days of the history.
    """

    tables: dict[str, pd.DataFrame]
    demand: np.ndarray
    dates: pd.DatetimeIndex


def build_company(
    *, seed: int = 0, n_skus: int = 300, n_locations: int = 3, days: int = 760, end: date | str | None = None
) -> SampleCompany:
    """Generate the sample company in memory (see the module docstring); nothing is written.

    Raises:
        ValueError: when a size is out of range.
    """
    if n_skus < 1:
        raise ValueError(f"n_skus must be at least 1, got {n_skus}")
    if days < 60:
        raise ValueError(f"days must be at least 60 (the company needs some history), got {days}")
    rng = np.random.default_rng(seed)
    last = pd.Timestamp(end if end is not None else DEFAULT_END).normalize()
    dates = pd.date_range(end=last, periods=days, freq="D")
    planned_to = last + pd.Timedelta(days=PLANNED_AHEAD_DAYS)

    locations = build_locations(n_locations)
    suppliers = build_suppliers()
    items = build_items(n_skus, rng)
    promos = build_promotions(items, locations, dates[0], planned_to, rng)
    discount = promotion_discount(promos, items, locations, dates)
    demand = simulate_demand(items, locations, dates, discount, rng)
    shutdown = spring_festival_days(dates[0].date(), planned_to.date())
    supply = simulate_supply(items, locations, dates, demand.qty, demand.launch_day, shutdown, rng)

    sales, inventory, purchase_orders = transaction_tables(items, locations, dates, demand, supply)
    tables = {
        "items": items[list(ITEM_COLUMNS)],
        "locations": locations[["location_id", "name", "kind"]],
        "suppliers": suppliers,
        "sales": sales,
        "inventory": inventory,
        "purchase_orders": purchase_orders,
        "promotions": promos,
        "events": build_events(dates[0].date(), planned_to.date()),
    }
    return SampleCompany(tables=tables, demand=demand.qty, dates=dates)


def transaction_tables(
    items: pd.DataFrame,
    locations: pd.DataFrame,
    dates: pd.DatetimeIndex,
    demand: Demand,
    supply: Supply,
    *,
    po_prefix: str = "PO",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The ``sales``, ``inventory`` and ``purchase_orders`` rows of simulated series (item-major).

    Sales are written date-major; stock is counted daily at the first two locations and weekly
    (Sundays) at the others, from each item's launch; PO lines are grouped into purchase orders.
    """
    days = len(dates)
    n_loc = len(locations)
    sku = items["sku"].to_numpy()
    loc_ids = locations["location_id"].to_numpy()
    t_idx, s_idx = np.nonzero(supply.sales.T > 0)  # date-major order
    disc = demand.discount[s_idx, t_idx]
    price = np.round(items["list_price"].to_numpy()[s_idx // n_loc] * (1 - disc), 2)
    sales = pd.DataFrame(
        {
            "date": dates[t_idx],
            "sku": sku[s_idx // n_loc],
            "location_id": loc_ids[s_idx % n_loc],
            "qty": supply.sales[s_idx, t_idx],
            "price": price,
            "on_promotion": (disc > 0).astype(int),
        }
    )

    # Stock counts: daily at the first two locations, weekly (Sundays) at the others; from each item's launch.
    counted = np.ones((n_loc, days), dtype=bool)
    counted[2:] = (dates.dayofweek == 6)[None, :]
    launch = np.repeat(demand.launch_day, n_loc)
    mask = counted[np.tile(np.arange(n_loc), len(items))] & (np.arange(days)[None, :] >= launch[:, None])
    t_idx, s_idx = np.nonzero(mask.T)
    inventory = pd.DataFrame(
        {
            "date": dates[t_idx],
            "sku": sku[s_idx // n_loc],
            "location_id": loc_ids[s_idx % n_loc],
            "on_hand": supply.on_hand[s_idx, t_idx],
        }
    )

    return sales, inventory, _purchase_orders(supply.lines, items, locations, dates, po_prefix=po_prefix)


def generate_company(
    folder: Path | str,
    *,
    seed: int = 0,
    n_skus: int = 300,
    n_locations: int = 3,
    days: int = 760,
    end: date | str | None = None,
    fmt: str = "csv",
) -> Path:
    """Write the sample company as a dataset folder and return its path.

    Args:
        folder: where to write (created; existing table files are overwritten).
        seed: random seed; the same seed and sizes give byte-identical files.
        n_skus: number of items (spread over seven categories).
        n_locations: 1 to 6 locations (an online DC first, then stores).
        days: days of history, ending on ``end``.
        end: last day of the history (default 2025-10-26, two weeks before Double 11).
        fmt: file format of the tables: ``csv``, ``csv.gz`` or ``parquet``.

    Returns:
        The folder.

    Example:
        >>> generate_company("demo_company", n_skus=50, days=400)  # doctest: +SKIP
    """
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(_FORMATS)}, got {fmt!r}")
    company = build_company(seed=seed, n_skus=n_skus, n_locations=n_locations, days=days, end=end)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for name, frame in company.tables.items():
        for ext in _FORMATS:
            stale = root / f"{name}.{ext}"
            if ext != fmt and stale.exists():
                stale.unlink()
        write_table(frame, root / f"{name}.{fmt}")
    return root


def _purchase_orders(
    lines: pd.DataFrame,
    items: pd.DataFrame,
    locations: pd.DataFrame,
    dates: pd.DatetimeIndex,
    *,
    po_prefix: str = "PO",
) -> pd.DataFrame:
    """PO lines grouped into purchase orders per (order day, supplier, location); ids ``<po_prefix>000001``..."""
    n_loc = len(locations)
    n_days = len(dates)
    item = lines["series"].to_numpy(dtype=int) // n_loc
    loc = lines["series"].to_numpy(dtype=int) % n_loc
    frame = pd.DataFrame(
        {
            "day": lines["day"].to_numpy(dtype=int),
            "sku": items["sku"].to_numpy()[item],
            "location_id": locations["location_id"].to_numpy()[loc],
            "supplier_id": items["supplier_id"].to_numpy()[item],
            "qty": lines["qty"].to_numpy(),
            "stated_lt": items["lead_time_days"].to_numpy()[item],
            "arrival": lines["arrival_day"].to_numpy(dtype=int),
            "received_qty": lines["received_qty"].to_numpy(),
            "cancelled": lines["is_cancelled"].to_numpy(dtype=bool),
        }
    )
    frame = frame.sort_values(["day", "supplier_id", "location_id", "sku"], kind="stable").reset_index(drop=True)
    key = frame[["day", "supplier_id", "location_id"]]
    po_num = key.ne(key.shift()).any(axis=1).cumsum()
    sup_lt = build_suppliers().set_index("supplier_id")["lead_time_days"]
    lead = frame["stated_lt"].fillna(frame["supplier_id"].map(sup_lt)).astype(int)
    order_date = dates[0] + pd.to_timedelta(frame["day"], unit="D")
    received = ~frame["cancelled"] & (frame["arrival"] < n_days)
    status = np.where(frame["cancelled"], "cancelled", np.where(received, "received", "open"))
    return pd.DataFrame(
        {
            "po_id": [f"{po_prefix}{n:06d}" for n in po_num],
            "line_no": frame.groupby(po_num).cumcount() + 1,
            "sku": frame["sku"],
            "location_id": frame["location_id"],
            "supplier_id": frame["supplier_id"],
            "qty": frame["qty"],
            "order_date": order_date,
            "promised_date": order_date + pd.to_timedelta(lead, unit="D"),
            "received_date": (dates[0] + pd.to_timedelta(frame["arrival"], unit="D")).where(received),
            "received_qty": frame["received_qty"].where(received),
            "status": status,
        }
    )


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write one table as csv, csv.gz or parquet (by the file name)."""
    if path.name.endswith(".parquet"):
        frame.to_parquet(path, index=False)  # typed columns: dates stay dates, missing stays null
        return
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            codes, uniques = pd.factorize(s)  # format each distinct day once: 100x faster than strftime
            text = np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), dtype=object)
            out[col] = np.where(codes >= 0, text[np.maximum(codes, 0)] if len(text) else "", "")
        elif pd.api.types.is_float_dtype(s) and col not in _DECIMAL_COLUMNS and (s.dropna() % 1 == 0).all():
            out[col] = s.astype("Int64")  # whole numbers without ".0"
    # pyarrow's CSV writer is several times faster than DataFrame.to_csv; our values need no quotes,
    # and pyarrow refuses (ArrowInvalid) rather than writing a broken file if one ever does.
    buf = io.BytesIO()
    try:
        table = pa.Table.from_pandas(out, preserve_index=False)
        buf.write((",".join(out.columns) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, buf, write_options=options)
        data = buf.getvalue()
    except pa.ArrowInvalid:
        data = out.to_csv(index=False).encode("utf-8")
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime 0: the same bytes on every run
    path.write_bytes(data)


__all__ = [
    "DEFAULT_END",
    "PLANNED_AHEAD_DAYS",
    "SampleCompany",
    "build_company",
    "generate_company",
    "transaction_tables",
    "write_table",
]
