"""Typed factories for small, hand-made datasets (no real data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def write_table(folder: Path, name: str, rows: list[dict[str, object]] | pd.DataFrame) -> Path:
    """Write one dataset table as CSV into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def make_dataset_folder(
    folder: Path,
    *,
    n_skus: int = 3,
    days: int = 120,
    start: str = "2024-01-01",
    rate: float = 4.0,
    seed: int = 0,
    location: str = "WH1",
) -> Path:
    """A small, valid dataset folder: items, a supplier, daily Poisson sales, weekly counts and POs."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    skus = [f"SKU-{i:03d}" for i in range(n_skus)]
    write_table(folder, "suppliers", [{"supplier_id": "SUP-1", "name": "Supplier One", "lead_time_days": 7}])
    write_table(folder, "locations", [{"location_id": location, "name": "Warehouse", "kind": "warehouse"}])
    write_table(
        folder,
        "items",
        [
            {
                "sku": s,
                "name": f"Item {s}",
                "category": "cat",
                "unit_cost": 2.0,
                "pack_size": 6,
                "moq": 12,
                "supplier_id": "SUP-1",
                "lead_time_days": 7,
            }
            for s in skus
        ],
    )
    sales, counts, pos = [], [], []
    for k, sku in enumerate(skus):
        stock = 200.0
        qty = rng.poisson(rate * (1 + 0.5 * k), size=days)
        for i, d in enumerate(dates):
            if qty[i]:
                sales.append({"date": d.date().isoformat(), "sku": sku, "location_id": location, "qty": int(qty[i])})
            stock -= qty[i]
            if i % 7 == 6:
                counts.append(
                    {"date": d.date().isoformat(), "sku": sku, "location_id": location, "on_hand": max(stock, 0)}
                )
            if i % 28 == 0:
                order = dates[i]
                recv = order + pd.Timedelta(days=int(7 + rng.integers(0, 4)))
                is_received = recv <= dates[-1]
                pos.append(
                    {
                        "po_id": f"PO-{k}-{i}",
                        "line_no": 1,
                        "sku": sku,
                        "location_id": location,
                        "supplier_id": "SUP-1",
                        "qty": 120,
                        "order_date": order.date().isoformat(),
                        "promised_date": (order + pd.Timedelta(days=7)).date().isoformat(),
                        "received_date": recv.date().isoformat() if is_received else "",
                        "received_qty": 120 if is_received else "",
                        "status": "received" if is_received else "open",
                    }
                )
                if is_received:
                    stock += 120
    write_table(folder, "sales", sales)
    write_table(folder, "inventory", counts)
    write_table(folder, "purchase_orders", pos)
    return folder
