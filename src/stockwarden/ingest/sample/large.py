"""The sample company at any size, written in chunks: up to a million SKU-locations and more.

:func:`generate_large_company` makes the same kind of company as :func:`~stockwarden.ingest.sample.build_company`
(same categories, suppliers, calendar, promotions, demand and replenishment models) but never holds more
than one *block* of series in memory: the items are cut into blocks of about ``block_series``
SKU-locations (all locations of an item are in the same block), each block is simulated with its own
random stream (``seed``, block number) and its rows are appended to ``sales.parquet``,
``inventory.parquet`` and ``purchase_orders.parquet`` as one parquet row group per block. Memory is
bounded by the block size (about 60 MB per 1,000 series per year of history), not the company size.

The result is a normal dataset folder (docs/dataset.md) that ``stockwarden import`` reads; the large
parquet files are best loaded with the bulk loader (``store.bulkload.bulk_import``), which reads them
row group by row group.

Deterministic for a seed, sizes and ``block_series``. The master data (items, promotions) are drawn
first from the seed, so a company with more locations has the same items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stockwarden.ingest.sample import DEFAULT_END, PLANNED_AHEAD_DAYS, transaction_tables, write_table
from stockwarden.ingest.sample.calendar import build_events, spring_festival_days
from stockwarden.ingest.sample.catalog import ITEM_COLUMNS, build_items, build_locations, build_suppliers
from stockwarden.ingest.sample.demand import build_promotions, promotion_discount, simulate_demand
from stockwarden.ingest.sample.supply import simulate_supply

BLOCK_SERIES = 10_000  # SKU-locations simulated at a time
CHUNKED_TABLES: tuple[str, ...] = ("sales", "inventory", "purchase_orders")
_OTHER_FORMATS = ("csv", "csv.gz", "xlsx")

# progress(block done, blocks in all)
BlockProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class LargeCompany:
    """What :func:`generate_large_company` wrote.

    Attributes:
        folder: the dataset folder.
        n_series: SKU-locations (items x locations).
        n_blocks: row groups written per chunked table.
        rows: rows written per table.
    """

    folder: Path
    n_series: int
    n_blocks: int
    rows: dict[str, int] = field(default_factory=dict)


def generate_large_company(
    folder: Path | str,
    *,
    seed: int = 0,
    n_skus: int = 10_000,
    n_locations: int = 100,
    days: int = 400,
    end: date | str | None = None,
    block_series: int = BLOCK_SERIES,
    progress: BlockProgress | None = None,
) -> LargeCompany:
    """Write a sample company of ``n_skus x n_locations`` SKU-locations as parquet, block by block.

    Args:
        folder: where to write (created; existing table files of the dataset are replaced).
        seed: random seed.
        n_skus: number of items.
        n_locations: number of locations (a DC, five named stores, then numbered stores).
        days: days of history, ending on ``end``.
        end: last day of the history (default 2025-10-26).
        block_series: SKU-locations simulated and written at a time (bounds memory).
        progress: called with (blocks done, blocks in all) after each block.

    Returns:
        Where and what was written.

    Raises:
        ValueError: when a size is out of range.

    Example:
        >>> generate_large_company("big", n_skus=10_000, n_locations=100, days=365)  # doctest: +SKIP
    """
    if n_skus < 1:
        raise ValueError(f"n_skus must be at least 1, got {n_skus}")
    if days < 60:
        raise ValueError(f"days must be at least 60 (the company needs some history), got {days}")
    if block_series < 1:
        raise ValueError(f"block_series must be at least 1, got {block_series}")
    rng = np.random.default_rng(seed)
    last = pd.Timestamp(end if end is not None else DEFAULT_END).normalize()
    dates = pd.date_range(end=last, periods=days, freq="D")
    planned_to = last + pd.Timedelta(days=PLANNED_AHEAD_DAYS)
    locations = build_locations(n_locations)
    items = build_items(n_skus, rng)
    promos = build_promotions(items, locations, dates[0], planned_to, rng)
    shutdown = spring_festival_days(dates[0].date(), planned_to.date())

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    small = {
        "items": items[list(ITEM_COLUMNS)],
        "locations": locations[["location_id", "name", "kind"]],
        "suppliers": build_suppliers(),
        "promotions": promos,
        "events": build_events(dates[0].date(), planned_to.date()),
    }
    for name in (*small, *CHUNKED_TABLES):
        for ext in _OTHER_FORMATS:
            (root / f"{name}.{ext}").unlink(missing_ok=True)
    rows = {}
    for name, frame in small.items():
        write_table(frame, root / f"{name}.parquet")
        rows[name] = len(frame)

    n_loc = len(locations)
    per_block = max(1, block_series // n_loc)
    starts = list(range(0, n_skus, per_block))
    promo_groups = dict(promos.groupby("sku").groups)
    writers: dict[str, pq.ParquetWriter] = {}
    rows.update(dict.fromkeys(CHUNKED_TABLES, 0))
    try:
        for b, start in enumerate(starts):
            block = items.iloc[start : start + per_block].reset_index(drop=True)
            idx = [i for sku in block["sku"] for i in promo_groups.get(sku, ())]
            block_promos = promos.loc[idx]
            block_rng = np.random.default_rng([seed, b + 1])
            discount = promotion_discount(block_promos, block, locations, dates)
            demand = simulate_demand(block, locations, dates, discount, block_rng)
            del discount
            supply = simulate_supply(block, locations, dates, demand.qty, demand.launch_day, shutdown, block_rng)
            frames = transaction_tables(block, locations, dates, demand, supply, po_prefix=f"PO{b + 1:05d}-")
            del demand, supply
            for name, frame in zip(CHUNKED_TABLES, frames, strict=True):
                _append(writers, name, frame, root)
                rows[name] += len(frame)
            if progress is not None:
                progress(b + 1, len(starts))
    finally:
        for w in writers.values():
            w.close()
    return LargeCompany(folder=root, n_series=n_skus * n_loc, n_blocks=len(starts), rows=rows)


def _append(writers: dict[str, pq.ParquetWriter], name: str, frame: pd.DataFrame, root: Path) -> None:
    """Append one block as a row group, in the schema of the first block."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    writer = writers.get(name)
    if writer is None:
        writer = writers[name] = pq.ParquetWriter(root / f"{name}.parquet", table.schema)
    elif table.schema != writer.schema:
        table = table.cast(writer.schema)
    writer.write_table(table, row_group_size=max(len(frame), 1))


__all__ = ["BLOCK_SERIES", "CHUNKED_TABLES", "LargeCompany", "generate_large_company"]
