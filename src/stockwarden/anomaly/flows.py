"""Daily stock flows shared by the stock and demand detectors (pure frame transforms)."""

from __future__ import annotations

import numpy as np
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
    """Cumulated net flow of each (sku, location_id, date) in ``points`` up to and including its date.

    The last flow row of the same series dated on or before the point (0 when there is none): an
    as-of join, done as one binary search over (series, day) numbers rather than a ``merge_asof`` by
    string keys (which sorts and compares the keys of every flow row on each call).
    """
    if points.empty:
        return pd.Series([], dtype=float, index=points.index)
    if flows.empty:
        return pd.Series(0.0, index=points.index)
    keys = pd.MultiIndex.from_arrays([flows["sku"].to_numpy(), flows["location_id"].to_numpy()])
    n_loc = max(len(keys.levels[1]), 1)
    f_sid = keys.codes[0].astype(np.int64) * n_loc + keys.codes[1]
    f_day = _day_numbers(flows["date"])
    first = int(f_day.min())
    span_bits = max(int(f_day.max() - first + 2).bit_length(), 1)
    f_key = (f_sid << span_bits) | (f_day - first)
    cum = flows["cum_flow"].to_numpy(dtype=float)
    if len(f_key) > 1 and not (np.diff(f_key) >= 0).all():
        order = np.argsort(f_key, kind="stable")
        f_key, f_sid, cum = f_key[order], f_sid[order], cum[order]
    p_sku = keys.levels[0].get_indexer(points["sku"].to_numpy())
    p_loc = keys.levels[1].get_indexer(points["location_id"].to_numpy())
    p_sid = np.where((p_sku >= 0) & (p_loc >= 0), p_sku.astype(np.int64) * n_loc + p_loc, -1)
    offset = np.clip(_day_numbers(points["date"]) - first, -1, (1 << span_bits) - 1)
    p_key = (np.maximum(p_sid, 0) << span_bits) + offset
    pos = np.searchsorted(f_key, p_key, side="right") - 1
    hit = (p_sid >= 0) & (pos >= 0) & (f_sid[np.maximum(pos, 0)] == p_sid)
    return pd.Series(np.where(hit, cum[np.maximum(pos, 0)], 0.0), index=points.index)


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since the epoch of a date column."""
    return pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64)


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
