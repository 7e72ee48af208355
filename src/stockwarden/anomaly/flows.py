"""Daily stock flows shared by the stock and demand detectors (pure frame transforms)."""

from __future__ import annotations

import pandas as pd

from stockwarden.ingest.dataset import Dataset

KEYS = ["sku", "location_id"]


def daily_sales(ds: Dataset) -> pd.DataFrame:
    """``sku, location_id, date, qty_sold, qty_returned, is_promo``: sale lines summed per day."""
    s = ds.sales
    if s.empty:
        return pd.DataFrame(
            {
                "sku": pd.Series([], dtype=object),
                "location_id": pd.Series([], dtype=object),
                "date": pd.Series([], dtype="datetime64[ns]"),
                "qty_sold": pd.Series([], dtype=float),
                "qty_returned": pd.Series([], dtype=float),
                "is_promo": pd.Series([], dtype=bool),
            }
        )
    frame = pd.DataFrame(
        {
            "sku": s["sku"],
            "location_id": s["location_id"],
            "date": s["date"],
            "qty_sold": s["qty"].clip(lower=0),
            "qty_returned": (-s["qty"]).clip(lower=0),
            "is_promo": s["on_promotion"].fillna(0) > 0 if "on_promotion" in s else False,
        }
    )
    return frame.groupby([*KEYS, "date"], as_index=False, sort=True).agg(
        qty_sold=("qty_sold", "sum"), qty_returned=("qty_returned", "sum"), is_promo=("is_promo", "any")
    )


def daily_receipts(ds: Dataset, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """``sku, location_id, date, qty_received``: PO receipts by the end of ``as_of``, per day."""
    po = ds.purchase_orders
    po = po.loc[po["received_date"].notna() & (po["received_date"] <= as_of)]
    if "status" in po:
        po = po.loc[po["status"].fillna("received").ne("cancelled")]
    frame = pd.DataFrame(
        {
            "sku": po["sku"],
            "location_id": po["location_id"],
            "date": po["received_date"],
            "qty_received": po["received_qty"].fillna(po["qty"]),
        }
    )
    return frame.groupby([*KEYS, "date"], as_index=False, sort=True)["qty_received"].sum()


def net_flows(sales: pd.DataFrame, receipts: pd.DataFrame) -> pd.DataFrame:
    """``sku, location_id, date, flow, cum_flow``: receipts + returns - sales per day, cumulated per series."""
    f = pd.concat(
        [
            sales.assign(flow=sales["qty_returned"] - sales["qty_sold"])[[*KEYS, "date", "flow"]],
            receipts.rename(columns={"qty_received": "flow"})[[*KEYS, "date", "flow"]],
        ],
        ignore_index=True,
    )
    f["flow"] = f["flow"].astype(float)
    f = f.groupby([*KEYS, "date"], as_index=False, sort=True)["flow"].sum()
    f["cum_flow"] = f.groupby(KEYS, sort=False)["flow"].cumsum()
    return f


def cum_flow_at(flows: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
    """Cumulated net flow of each (sku, location_id, date) in ``points`` up to and including its date."""
    if points.empty:
        return pd.Series([], dtype=float, index=points.index)
    left = points[[*KEYS, "date"]].reset_index()
    left["date"] = left["date"].astype("datetime64[ns]")
    left = left.sort_values("date", kind="stable")
    right = flows[[*KEYS, "date", "cum_flow"]].sort_values("date", kind="stable")
    m = pd.merge_asof(left, right, on="date", by=KEYS, direction="backward")
    return m.set_index("index")["cum_flow"].reindex(points.index).fillna(0.0)


def position_now(ds: Dataset, *, as_of: pd.Timestamp, flows: pd.DataFrame) -> pd.DataFrame:
    """Per series with a count: ``last_count_date, last_count, on_hand`` (the count rolled forward to as_of)."""
    inv = ds.inventory
    if inv.empty:
        return pd.DataFrame(columns=[*KEYS, "last_count_date", "last_count", "on_hand"])
    last = inv.sort_values("date", kind="stable").groupby(KEYS, as_index=False, sort=True).last()
    last = last.rename(columns={"date": "last_count_date", "on_hand": "last_count"})[
        [*KEYS, "last_count_date", "last_count"]
    ]
    at_count = cum_flow_at(flows, last.rename(columns={"last_count_date": "date"}))
    at_now = cum_flow_at(flows, last.assign(date=as_of)[[*KEYS, "date"]])
    last["on_hand"] = last["last_count"] + at_now - at_count
    return last


def cover_days(sales: pd.DataFrame, position: pd.DataFrame, *, as_of: pd.Timestamp, window_days: int = 28) -> pd.Series:
    """Days of cover per (sku, location_id): on hand now / mean daily sales over the last ``window_days``
    (infinite when nothing sold; zero when nothing is on hand)."""
    recent = sales.loc[sales["date"] > as_of - pd.Timedelta(days=window_days)]
    rate = recent.groupby(KEYS)["qty_sold"].sum() / window_days
    pos = position.set_index(KEYS)["on_hand"].clip(lower=0)
    rate = rate.reindex(pos.index).fillna(0.0)
    return (pos / rate.where(rate > 0)).fillna(float("inf")).where(pos > 0, 0.0)
