"""Inventory position as of a date: on hand, open purchase orders, backorders.

On hand is the newest stock count on or before ``as_of``, rolled forward by the sales and receipts
dated after that count (spec: "days between snapshots are carried forward from sales and receipts").
Open purchase orders follow the spec's as-of semantics: ordered on or before ``as_of`` and not
received nor cancelled by it. Everything is vectorised with pandas (no loop per SKU).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset

KEYS = ["sku", "location_id"]

POSITION_COLUMNS: tuple[str, ...] = (
    "sku",
    "location_id",
    "on_hand",
    "on_hand_recorded",
    "count_date",
    "count_age_days",
    "sales_since_count",
    "receipts_since_count",
    "has_count",
    "backorders",
    "on_order",
    "open_po_count",
    "inventory_position",
)
"""Columns of :func:`compute_positions`."""

OPEN_PO_COLUMNS: tuple[str, ...] = (
    "po_id",
    "line_no",
    "sku",
    "location_id",
    "supplier_id",
    "qty",
    "order_date",
    "promised_date",
    "days_since_order",
    "days_overdue",
)
"""Columns of :func:`open_purchase_orders`."""

_BACKORDER_COLUMNS = ("backorders", "backorder_qty", "qty_backordered")


def open_purchase_orders(ds: Dataset, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Purchase-order lines open at the end of ``as_of`` (ordered by then, not received nor cancelled).

    Args:
        ds: the dataset (rows after ``as_of`` are ignored here, whatever they say).
        as_of: the assessment date.

    Returns:
        One row per open line with :data:`OPEN_PO_COLUMNS`; ``days_overdue`` is the days past the
        promised date (0 when not yet due or no promise).
    """
    d = pd.Timestamp(as_of).normalize()
    po = ds.purchase_orders
    status = po["status"].fillna("").astype(str).str.lower()
    is_open = (po["order_date"] <= d) & ~(po["received_date"] <= d) & (status != "cancelled")
    out = po.loc[is_open].copy()
    out["days_since_order"] = (d - out["order_date"]).dt.days.astype(float)
    overdue = (d - out["promised_date"]).dt.days.astype(float)
    out["days_overdue"] = overdue.clip(lower=0).fillna(0.0)
    for col in OPEN_PO_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    return out.loc[:, list(OPEN_PO_COLUMNS)].reset_index(drop=True)


def compute_positions(ds: Dataset, *, as_of: pd.Timestamp, keys: pd.DataFrame | None = None) -> pd.DataFrame:
    """The inventory position of every SKU-location at the end of ``as_of``.

    Args:
        ds: the dataset; rows dated after ``as_of`` are ignored (as-of semantics).
        as_of: the assessment date.
        keys: the SKU-locations to report (``sku, location_id``); default every pair seen by ``as_of``.

    Returns:
        One row per key with :data:`POSITION_COLUMNS`. ``on_hand`` = newest count + receipts - sales
        after it (clipped at 0; ``on_hand_recorded`` keeps the count itself). A key never counted starts
        from zero stock at its first movement (``has_count`` False). ``inventory_position`` =
        on hand + on order - backorders.
    """
    d = pd.Timestamp(as_of).normalize()
    known = ds.as_of(d)
    if keys is None:
        keys = known.series_keys()
    out = keys.loc[:, KEYS].drop_duplicates().reset_index(drop=True)

    inv = known.inventory
    # newest count per key (the last row of that date when a day has several)
    order = np.lexsort((np.arange(len(inv)), inv["date"].to_numpy()))
    last = inv.iloc[order].drop_duplicates(KEYS, keep="last")
    bo_col = next((c for c in _BACKORDER_COLUMNS if c in inv.columns), None)
    cols = [*KEYS, "date", "on_hand"] + ([bo_col] if bo_col else [])
    last = last.loc[:, cols].rename(columns={"date": "count_date", "on_hand": "on_hand_recorded"})
    if bo_col:
        last = last.rename(columns={bo_col: "backorders"})
    out = out.merge(last, on=KEYS, how="left")
    if "backorders" not in out.columns:
        out["backorders"] = 0.0
    out["backorders"] = pd.to_numeric(out["backorders"], errors="coerce").fillna(0.0).clip(lower=0)
    out["has_count"] = out["count_date"].notna()
    start = out["count_date"].fillna(pd.Timestamp.min)
    earliest = start.min() if len(start) else d
    starts = out.loc[:, KEYS].assign(_start=start.to_numpy())

    s_all = known.sales
    sales = s_all.loc[s_all["date"] > earliest, [*KEYS, "date", "qty"]].merge(starts, on=KEYS)
    sold = sales.loc[sales["date"] > sales["_start"]].groupby(KEYS)["qty"].sum().rename("sales_since_count")

    po = known.purchase_orders
    rec = po.loc[po["received_date"].notna() & (po["received_date"] <= d) & (po["received_date"] > earliest)]
    rec = rec.assign(_recv_qty=rec["received_qty"].fillna(rec["qty"])).loc[:, [*KEYS, "received_date", "_recv_qty"]]
    rec = rec.merge(starts, on=KEYS)
    got = rec.loc[rec["received_date"] > rec["_start"]].groupby(KEYS)["_recv_qty"].sum().rename("receipts_since_count")

    out = out.merge(sold, on=KEYS, how="left").merge(got, on=KEYS, how="left")
    out["sales_since_count"] = out["sales_since_count"].fillna(0.0)
    out["receipts_since_count"] = out["receipts_since_count"].fillna(0.0)
    rolled = out["on_hand_recorded"].fillna(0.0) + out["receipts_since_count"] - out["sales_since_count"]
    out["on_hand"] = rolled.clip(lower=0.0)
    out["count_age_days"] = (d - out["count_date"]).dt.days.astype(float)

    open_po = open_purchase_orders(known, as_of=d)
    agg = open_po.groupby(KEYS).agg(on_order=("qty", "sum"), open_po_count=("qty", "size"))
    out = out.merge(agg, on=KEYS, how="left")
    out["on_order"] = out["on_order"].fillna(0.0)
    out["open_po_count"] = out["open_po_count"].fillna(0).astype(int)
    out["inventory_position"] = out["on_hand"] + out["on_order"] - out["backorders"]
    return out.loc[:, list(POSITION_COLUMNS)]
