"""In-memory datasets for lead-time and anomaly tests (canonical columns and dtypes, no files)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stockwarden.ingest.dataset import Dataset, empty_frame


def frame(table: str, rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """A frame of ``table`` with canonical columns and dtypes, from a list of row dicts."""
    base = empty_frame(table)
    if not rows:
        return base
    df = pd.DataFrame(list(rows))
    out = pd.DataFrame(index=range(len(df)))
    for c in base.columns:
        if c in df:
            col = df[c]
        else:
            col = pd.Series([None] * len(df))
        if str(base[c].dtype).startswith("datetime"):
            out[c] = pd.to_datetime(col)
        elif base[c].dtype == object:
            out[c] = col.astype(object).where(col.notna(), None)
        else:
            out[c] = pd.to_numeric(col).astype(float)
    return out


def po_rows(
    *,
    supplier_id: str,
    sku: str,
    start: str,
    delays_days: Sequence[int],
    promised_lead_days: int = 7,
    every_days: int = 7,
    qty: float = 100.0,
    received_qty: Sequence[float] | None = None,
    location_id: str = "WH1",
    prefix: str | None = None,
) -> list[dict[str, object]]:
    """Received PO lines, one every ``every_days`` from ``start``, each late by ``delays_days[i]``."""
    rows = []
    t0 = pd.Timestamp(start)
    tag = prefix or f"{supplier_id}-{sku}"
    for i, delay in enumerate(delays_days):
        order = t0 + pd.Timedelta(days=i * every_days)
        promised = order + pd.Timedelta(days=promised_lead_days)
        rows.append(
            {
                "po_id": f"{tag}-{i:04d}",
                "line_no": 1,
                "sku": sku,
                "location_id": location_id,
                "supplier_id": supplier_id,
                "qty": qty,
                "order_date": order,
                "promised_date": promised,
                "received_date": promised + pd.Timedelta(days=int(delay)),
                "received_qty": qty if received_qty is None else received_qty[i],
                "status": "received",
            }
        )
    return rows


def supply_dataset(
    pos: Sequence[dict[str, object]],
    *,
    items: Sequence[dict[str, object]] = (),
    suppliers: Sequence[dict[str, object]] = (),
    sales: Sequence[dict[str, object]] = (),
    inventory: Sequence[dict[str, object]] = (),
    promotions: Sequence[dict[str, object]] = (),
    events: Sequence[dict[str, object]] = (),
) -> Dataset:
    """A Dataset built in memory from row dicts (missing tables are empty)."""
    return Dataset(
        items=frame("items", items),
        suppliers=frame("suppliers", suppliers),
        purchase_orders=frame("purchase_orders", pos),
        sales=frame("sales", sales),
        inventory=frame("inventory", inventory),
        promotions=frame("promotions", promotions),
        events=frame("events", events),
        present=frozenset({"purchase_orders", "sales", "inventory"}),
    )


def daily_rows(
    *,
    sku: str,
    location_id: str = "WH1",
    start: str,
    qty: Sequence[float],
    counts: Sequence[float] | None = None,
    promo: Sequence[int] | None = None,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Sales rows (non-zero days) and end-of-day count rows (when ``counts`` is given) of one series."""
    dates = pd.date_range(start, periods=len(qty), freq="D")
    sales = [
        {
            "date": d,
            "sku": sku,
            "location_id": location_id,
            "qty": float(q),
            "on_promotion": (promo[i] if promo is not None else 0),
        }
        for i, (d, q) in enumerate(zip(dates, qty, strict=True))
        if q
    ]
    inv = (
        []
        if counts is None
        else [
            {"date": d, "sku": sku, "location_id": location_id, "on_hand": float(c)}
            for d, c in zip(dates, counts, strict=True)
            if c is not None and c == c
        ]
    )
    return sales, inv
