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
    "sku",
    "location_id",
    "date",
    "qty",
    "demand",
    "is_censored",
    "on_hand",
    "price",
    "on_promotion",
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
    end = _day_number(pd.Series([day]))[0]
    # what was known at the end of `as_of` (the spec's as-of semantics, applied column-wise: copying
    # whole frames with ds.as_of() costs more than everything else here on large data)
    sales = ds.sales
    s_day = _day_number(sales["date"])
    s_qty = sales["qty"].to_numpy(dtype=float)
    keep = (s_day <= end) & (s_qty > 0)
    s_day, s_qty = s_day[keep], s_qty[keep]
    s_sku, s_loc = sales["sku"].to_numpy()[keep], sales["location_id"].to_numpy()[keep]
    s_price = sales["price"].to_numpy(dtype=float)[keep]
    s_promo = np.nan_to_num(sales["on_promotion"].to_numpy(dtype=float)[keep])
    inv = ds.inventory
    i_day = _day_number(inv["date"])
    i_keep = i_day <= end
    i_day, i_oh = i_day[i_keep], inv["on_hand"].to_numpy(dtype=float)[i_keep]
    i_sku, i_loc = inv["sku"].to_numpy()[i_keep], inv["location_id"].to_numpy()[i_keep]
    keys, codes_all = _factorize_keys(np.r_[s_sku, i_sku], np.r_[s_loc, i_loc])
    if not len(keys) or not (len(s_day) or (i_oh > 0).any()):
        raise ForecastError(f"no sales or positive stock on or before {day.date()}: nothing to forecast from")
    sale_code, inv_code = codes_all[: len(s_day)], codes_all[len(s_day) :]
    n = len(keys)
    start = np.full(n, end + 1, dtype=np.int64)
    np.minimum.at(start, sale_code, s_day)
    stocked = i_oh > 0
    np.minimum.at(start, inv_code[stocked], i_day[stocked])
    active = start <= end  # series seen only in zero counts never started
    if not active.all():
        remap = np.cumsum(active) - 1
        keys = keys[active]
        start = start[active]
        sale_code = remap[sale_code]
        inv_code = np.where(active[inv_code], remap[inv_code], -1)
        n = len(keys)
    n_days = end - start + 1
    offset = np.r_[0, np.cumsum(n_days)[:-1]]
    total = int(n_days.sum())
    codes = np.repeat(np.arange(n), n_days)
    day_no = np.arange(total) - np.repeat(offset, n_days) + np.repeat(start, n_days)

    def rows_of(code: np.ndarray, dayn: np.ndarray) -> np.ndarray:
        ok = (code >= 0) & (dayn >= start[np.maximum(code, 0)]) & (dayn <= end)
        return np.where(ok, offset[np.maximum(code, 0)] + dayn - start[np.maximum(code, 0)], -1)

    sale_rows = rows_of(sale_code, s_day)  # every positive sale lies in its series' span
    qty = np.bincount(sale_rows, weights=s_qty, minlength=total)
    priced = ~np.isnan(s_price)
    pq = np.where(priced, s_qty, 0.0)
    value = np.bincount(sale_rows, weights=pq * np.nan_to_num(s_price), minlength=total)
    priced_qty = np.bincount(sale_rows, weights=pq, minlength=total)
    promo = np.zeros(total)
    np.maximum.at(promo, sale_rows, s_promo)
    on_hand = np.full(total, np.nan)
    inv_rows = rows_of(inv_code, i_day)
    ok = inv_rows >= 0
    on_hand[inv_rows[ok]] = i_oh[ok]  # the day's last count wins
    grid = pd.DataFrame(
        {
            "sku": keys.get_level_values(0).to_numpy()[codes],
            "location_id": keys.get_level_values(1).to_numpy()[codes],
            "date": (day_no.astype("datetime64[D]")).astype("datetime64[ns]"),
            "qty": qty,
            "on_hand": on_hand,
        }
    )
    grid["on_promotion"] = np.maximum(promo, promotion_flags(grid, ds.promotions))
    restock = qty > 0
    receipts = _receipt_days(ds.purchase_orders, day)
    if len(receipts):
        r = rows_of(_codes(keys, receipts), _day_number(receipts["date"]))
        restock[r[r >= 0]] = True
    grid["is_censored"] = _censored(on_hand, restock, offset, n_days)
    grid["demand"] = impute_censored(grid, codes=codes)
    price = np.where(priced_qty > 0, value / np.where(priced_qty > 0, priced_qty, 1.0), np.nan)
    grid["price"] = _fill_within(price, offset, n_days)
    return grid[list(HISTORY_COLUMNS)]


def history_as_of(ds: Dataset | None, history: pd.DataFrame | None, day: pd.Timestamp) -> pd.DataFrame:
    """The demand history to forecast from at ``day``: the given one cut at ``day``, else built from ``ds``.

    Raises:
        ForecastError: neither a dataset nor a history is given, or the history has no row by ``day``.
    """
    if history is None:
        if ds is None:
            raise ForecastError("give a dataset or a prebuilt history")
        return build_demand_history(ds, as_of=day)
    cut = history.loc[history["date"] <= day]
    if cut.empty:
        raise ForecastError(f"the given history has no rows on or before {day.date()}")
    return cut


def series_codes(history: pd.DataFrame) -> np.ndarray:
    """0, 1, 2, ... per series of a history frame (rows contiguous per series, sorted by key)."""
    sku = history["sku"].to_numpy()
    loc = history["location_id"].to_numpy()
    if len(sku) == 0:
        return np.empty(0, dtype=np.int64)
    change = np.r_[False, (sku[1:] != sku[:-1]) | (loc[1:] != loc[:-1])]
    return np.cumsum(change).astype(np.int64)


def _day_number(dates: pd.Series) -> np.ndarray:
    """Days since the epoch."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _factorize_keys(sku: np.ndarray, loc: np.ndarray) -> tuple[pd.MultiIndex, np.ndarray]:
    """Sorted unique (sku, location_id) keys and the key row of every input pair."""
    if not len(sku):
        return pd.MultiIndex.from_arrays([[], []]), np.empty(0, dtype=np.int64)
    sku_code, sku_uni = pd.factorize(sku.astype(object), sort=True)
    loc_code, loc_uni = pd.factorize(loc.astype(object), sort=True)
    pair = sku_code.astype(np.int64) * len(loc_uni) + loc_code
    uniq, inverse = np.unique(pair, return_inverse=True)
    keys = pd.MultiIndex.from_arrays(
        [
            np.asarray(sku_uni, dtype=object)[uniq // len(loc_uni)],
            np.asarray(loc_uni, dtype=object)[uniq % len(loc_uni)],
        ]
    )
    return keys, inverse.astype(np.int64)


def _codes(keys: pd.MultiIndex, frame: pd.DataFrame) -> np.ndarray:
    """Row of each (sku, location_id) of ``frame`` in ``keys`` (-1 if absent)."""
    if frame.empty:
        return np.empty(0, dtype=np.int64)
    probe = pd.MultiIndex.from_arrays(
        [frame["sku"].astype(object).to_numpy(), frame["location_id"].astype(object).to_numpy()]
    )
    return keys.get_indexer(probe).astype(np.int64)


def _fill_within(values: np.ndarray, offset: np.ndarray, n_days: np.ndarray) -> np.ndarray:
    """Carry values forward within each series, then back-fill its leading gap."""
    pos = np.arange(len(values))
    series_start = np.repeat(offset, n_days)
    valid = ~np.isnan(values)
    idx = np.maximum.accumulate(np.where(valid, pos, series_start))
    out = values[idx]
    first_valid = np.where(valid, pos, len(values))
    first = np.minimum.reduceat(first_valid, offset) if len(offset) else first_valid
    has = first < len(values)
    lead = np.isnan(out)
    fill = np.where(has, values[np.minimum(first, len(values) - 1)], np.nan)
    return np.where(lead, np.repeat(fill, n_days), out)


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
    expanded = pd.DataFrame(
        {
            "sku": promo["sku"].to_numpy()[rep],
            "location_id": promo["location_id"].to_numpy()[rep],
            "date": promo["start_date"].to_numpy()[rep] + off.astype("timedelta64[D]"),
        }
    )
    # membership by integer keys (series code x day), not a merge on string columns of every row
    f_sku, sku_uni = pd.factorize(frame["sku"].to_numpy())
    f_loc, loc_uni = pd.factorize(frame["location_id"].to_numpy())
    f_day = frame["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first = int(f_day.min())
    span = int(f_day.max()) - first + 1
    e_day = expanded["date"].to_numpy().astype("datetime64[D]").astype(np.int64) - first
    e_sku = pd.Index(sku_uni).get_indexer(expanded["sku"].to_numpy())
    in_frame = (e_sku >= 0) & (e_day >= 0) & (e_day < span)
    n_loc = max(len(loc_uni), 1)
    everywhere = in_frame & pd.isna(expanded["location_id"].to_numpy())
    hit = np.isin(
        f_sku.astype(np.int64) * span + (f_day - first), e_sku[everywhere].astype(np.int64) * span + e_day[everywhere]
    )
    e_loc = pd.Index(loc_uni).get_indexer(expanded["location_id"].to_numpy())
    specific = in_frame & (e_loc >= 0)
    if specific.any():
        f_key = (f_sku.astype(np.int64) * n_loc + f_loc) * span + (f_day - first)
        e_key = (e_sku[specific].astype(np.int64) * n_loc + e_loc[specific]) * span + e_day[specific]
        hit |= (f_loc >= 0) & np.isin(f_key, e_key)
    return (hit & (f_sku >= 0)).astype(float)


def _receipt_days(po: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """(sku, location_id, date) of every receipt known by ``day`` with a positive quantity."""
    got = po.loc[(po["order_date"] <= day) & (po["received_date"] <= day) & (po["received_qty"].fillna(po["qty"]) > 0)]
    return got.rename(columns={"received_date": "date"})[DAY_KEYS].drop_duplicates()


def _censored(on_hand: np.ndarray, restock: np.ndarray, offset: np.ndarray, n_days: np.ndarray) -> np.ndarray:
    """End-of-day out-of-stock state per row, carried forward between observations.

    A count is the end-of-day truth; without a count, a receipt or a sale proves stock was there.
    """
    counted = ~np.isnan(on_hand)
    if not (counted & (np.nan_to_num(on_hand, nan=1.0) <= 0)).any():
        return np.zeros(len(on_hand), dtype=bool)
    state = np.full(len(on_hand), np.nan)
    state[restock] = 1.0
    state[counted] = (on_hand[counted] > 0).astype(float)
    pos = np.arange(len(state))
    idx = np.maximum.accumulate(np.where(~np.isnan(state), pos, np.repeat(offset, n_days)))
    return state[idx] == 0.0


def impute_censored(grid: pd.DataFrame, *, codes: np.ndarray, window_days: int = IMPUTE_WINDOW_DAYS) -> np.ndarray:
    """Demand with censored days replaced by the trailing mean of uncensored days.

    The mean covers the last ``window_days`` calendar days before the censored day; with no
    uncensored day in that window, the last available such mean is carried forward (0 at the start).
    ``codes`` numbers the series; rows are contiguous per series and sorted by date.
    """
    qty = grid["qty"].to_numpy(dtype=float)
    cens = grid["is_censored"].to_numpy(dtype=bool)
    if not cens.any():
        return qty.copy()
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
