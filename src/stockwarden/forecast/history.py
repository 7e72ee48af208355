"""Daily demand history per SKU-location, with censored (stocked-out) days marked and imputed.

Rules (issue 3, item 1):

* a series is *active* from its first positive sale or first positive stock count up to ``as_of``;
  days in that span without a sale are zero demand, days before it are not part of the history;
* returns (negative sale lines) are not demand: the day's demand is the sum of its positive lines;
* a day that ended out of stock hides demand: it is ``is_censored``. The end-of-day stock state comes
  from the counts (``on_hand == 0`` -> out), carried forward until a positive count, a receipt or a
  sale proves stock was back. Censored days get ``demand`` imputed from the mean of the last
  ``IMPUTE_WINDOW_DAYS`` uncensored days (trailing only, so the history is the same whichever later
  ``as_of`` it was built at);
* price is the day's quantity-weighted selling price, carried forward (and back to the series
  start); ``on_promotion`` is 1 when a sale line says so or a planned promotion covers the day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.errors import ForecastError
from stockwarden.ingest.dataset import Dataset

IMPUTE_WINDOW_DAYS = 56
HISTORY_COLUMNS = (
    "sku", "location_id", "date", "qty", "demand", "is_censored", "on_hand", "price", "on_promotion",
)
KEYS = ["sku", "location_id"]
DAY_KEYS = ["sku", "location_id", "date"]


def build_demand_history(ds: Dataset, *, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """Daily demand per SKU-location from everything known at the end of ``as_of``.

    Args:
        ds: the dataset (later rows are ignored: ``ds.as_of(as_of)`` is applied here).
        as_of: the last day of history.

    Returns:
        Frame with :data:`HISTORY_COLUMNS`, sorted by sku, location_id, date, one row per active day:
        ``qty`` observed sales (returns excluded), ``demand`` = ``qty`` or the imputed value on
        censored days, ``is_censored``, ``on_hand`` (the count that day, NaN if none), ``price``
        (carried), ``on_promotion`` (0/1).

    Raises:
        ForecastError: when no sale or positive stock count exists on or before ``as_of``.
    """
    day = pd.Timestamp(as_of).normalize()
    known = ds.as_of(day)
    sales = known.sales
    pos = sales.loc[sales["qty"] > 0]
    daily = _daily_sales(pos)
    counts = known.inventory.groupby(DAY_KEYS, sort=False)["on_hand"].last()
    starts = _active_starts(daily, counts)
    if starts.empty:
        raise ForecastError(f"no sales or positive stock on or before {day.date()}: nothing to forecast from")
    grid = _grid(starts, day)
    grid = grid.merge(daily, on=DAY_KEYS, how="left")
    grid["qty"] = grid["qty"].fillna(0.0)
    grid = grid.merge(counts.rename("on_hand").reset_index(), on=DAY_KEYS, how="left")
    grid["on_promotion"] = np.maximum(grid["on_promotion"].fillna(0.0).to_numpy(),
                                      promotion_flags(grid, known.promotions))
    receipts = _receipt_days(known.purchase_orders)
    grid["is_censored"] = _censored(grid, receipts)
    grid["demand"] = impute_censored(grid)
    codes = _series_codes(grid)
    grid["price"] = grid["price"].groupby(codes).ffill().groupby(codes).bfill()
    return grid[list(HISTORY_COLUMNS)]


def _daily_sales(pos: pd.DataFrame) -> pd.DataFrame:
    """Sum positive sale lines per day; quantity-weighted price; promotion flag = any line."""
    if pos.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             [("sku", object), ("location_id", object), ("date", "datetime64[ns]"),
                              ("qty", float), ("price", float), ("on_promotion", float)]})
    frame = pos[[*DAY_KEYS, "qty"]].copy()
    priced = pos["price"].notna()
    frame["value"] = np.where(priced, pos["qty"] * pos["price"].fillna(0.0), 0.0)
    frame["priced_qty"] = np.where(priced, pos["qty"], 0.0)
    frame["on_promotion"] = pos["on_promotion"].fillna(0.0)
    g = frame.groupby(DAY_KEYS, sort=False).agg(
        qty=("qty", "sum"), value=("value", "sum"), priced_qty=("priced_qty", "sum"),
        on_promotion=("on_promotion", "max"))
    g["price"] = np.where(g["priced_qty"] > 0, g["value"] / g["priced_qty"].where(g["priced_qty"] > 0), np.nan)
    return g.drop(columns=["value", "priced_qty"]).reset_index()


def _active_starts(daily: pd.DataFrame, counts: pd.Series) -> pd.Series:
    """First day of each series: its first positive sale or first positive count."""
    first_sale = daily.groupby(KEYS)["date"].min()
    stocked = counts[counts > 0].reset_index()
    first_stock = stocked.groupby(KEYS)["date"].min()
    starts = pd.concat([first_sale, first_stock], axis=1).min(axis=1)
    return starts.sort_index()


def _grid(starts: pd.Series, end: pd.Timestamp) -> pd.DataFrame:
    """Every (series, day) from the series start to ``end``, sorted."""
    n_days = ((end - starts).dt.days + 1).to_numpy()
    reps = np.repeat(np.arange(len(starts)), n_days)
    offsets = np.arange(n_days.sum()) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    start_vals = starts.to_numpy().astype("datetime64[D]")
    dates = (start_vals[reps] + offsets.astype("timedelta64[D]")).astype("datetime64[ns]")
    idx = starts.index
    return pd.DataFrame({
        "sku": idx.get_level_values("sku").to_numpy()[reps],
        "location_id": idx.get_level_values("location_id").to_numpy()[reps],
        "date": dates,
    })


def promotion_flags(frame: pd.DataFrame, promotions: pd.DataFrame) -> np.ndarray:
    """1.0 where a planned promotion covers the row's (sku, location_id, date), else 0.0.

    A promotion without ``location_id`` covers every location.
    """
    out = np.zeros(len(frame))
    if promotions.empty or frame.empty:
        return out
    promo = promotions[["sku", "location_id", "start_date", "end_date"]].dropna(subset=["start_date", "end_date"])
    lo, hi = frame["date"].min(), frame["date"].max()
    promo = promo.loc[(promo["end_date"] >= lo) & (promo["start_date"] <= hi)]
    if promo.empty:
        return out
    days = (promo["end_date"] - promo["start_date"]).dt.days.clip(lower=0).to_numpy() + 1
    rep = np.repeat(np.arange(len(promo)), days)
    off = np.arange(days.sum()) - np.repeat(np.cumsum(days) - days, days)
    expanded = pd.DataFrame({
        "sku": promo["sku"].to_numpy()[rep],
        "location_id": promo["location_id"].to_numpy()[rep],
        "date": promo["start_date"].to_numpy()[rep] + off.astype("timedelta64[D]"),
    })
    expanded["flag"] = 1.0
    specific = expanded.loc[expanded["location_id"].notna()].drop_duplicates(DAY_KEYS)
    everywhere = expanded.loc[expanded["location_id"].isna(), ["sku", "date", "flag"]].drop_duplicates()
    a = frame[DAY_KEYS].merge(specific, on=DAY_KEYS, how="left")["flag"].fillna(0.0).to_numpy()
    b = frame[["sku", "date"]].merge(everywhere, on=["sku", "date"], how="left")["flag"].fillna(0.0).to_numpy()
    return np.maximum(a, b)


def _receipt_days(po: pd.DataFrame) -> pd.DataFrame:
    """(sku, location_id, date) of every known receipt with a positive quantity."""
    got = po.loc[po["received_date"].notna() & (po["received_qty"].fillna(po["qty"]) > 0)]
    return got.rename(columns={"received_date": "date"})[DAY_KEYS].drop_duplicates()


def _censored(grid: pd.DataFrame, receipts: pd.DataFrame) -> np.ndarray:
    """End-of-day out-of-stock state per row, carried forward between observations.

    A count is the end-of-day truth; without a count, a receipt or a sale proves stock was there.
    """
    state = np.full(len(grid), np.nan)
    restock = grid["qty"].to_numpy() > 0
    if len(receipts):
        hit = grid[DAY_KEYS].merge(receipts.assign(r=1.0), on=DAY_KEYS, how="left")["r"]
        restock |= hit.notna().to_numpy()
    state[restock] = 1.0
    oh = grid["on_hand"].to_numpy()
    counted = ~np.isnan(oh)
    state[counted] = (oh[counted] > 0).astype(float)
    filled = pd.Series(state).groupby(_series_codes(grid)).ffill().to_numpy()
    return filled == 0.0


def _series_codes(grid: pd.DataFrame) -> np.ndarray:
    """An integer id per series (rows are grouped by series)."""
    return grid.groupby(KEYS, sort=False).ngroup().to_numpy()


def impute_censored(grid: pd.DataFrame, *, window_days: int = IMPUTE_WINDOW_DAYS) -> np.ndarray:
    """Demand with censored days replaced by the trailing mean of uncensored days.

    The mean covers the last ``window_days`` calendar days before the censored day; with no
    uncensored day in that window, the last available such mean is carried forward (0 at the start).
    """
    qty = grid["qty"].to_numpy(dtype=float)
    cens = grid["is_censored"].to_numpy(dtype=bool)
    if not cens.any():
        return qty.copy()
    codes = _series_codes(grid)
    obs = np.where(cens, 0.0, qty)
    cnt = (~cens).astype(float)
    # trailing window sums within each series via cumulative sums (rows are contiguous per series)
    c_obs, c_cnt = np.cumsum(obs), np.cumsum(cnt)
    pos = np.arange(len(qty))
    first = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    series_start = np.repeat(first, np.diff(np.r_[first, len(qty)]))
    lo = np.maximum(pos - window_days, series_start) - 1
    prev_obs = np.where(pos - 1 >= series_start, c_obs[np.maximum(pos - 1, 0)], 0.0)
    prev_cnt = np.where(pos - 1 >= series_start, c_cnt[np.maximum(pos - 1, 0)], 0.0)
    base_obs = np.where(lo >= series_start, c_obs[np.maximum(lo, 0)], 0.0)
    base_cnt = np.where(lo >= series_start, c_cnt[np.maximum(lo, 0)], 0.0)
    n = prev_cnt - base_cnt
    mean = np.where(n > 0, (prev_obs - base_obs) / np.where(n > 0, n, 1.0), np.nan)
    mean = pd.Series(mean).groupby(codes).ffill().fillna(0.0).to_numpy()
    return np.where(cens, np.maximum(mean, qty), qty)
