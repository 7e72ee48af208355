"""The long panel handed to the models, and the exogenous features known ahead.

Column mapping at the forecast boundary (statsforecast / mlforecast conventions): ``unique_id`` =
the series' row in the profile (an int, so the libraries' sorted order is our order), ``ds`` = date,
``y`` = demand (censored days imputed). Exogenous columns, known for the future too:

* ``on_promotion``: sale-line flag in history, planned ``promotions`` table for both;
* ``price_ratio``: the day's price over the series' median price (future: the last known price);
* ``ev_<kind>``: 1 on a calendar event of that kind (``events`` table, all or this location),
  ``ev_any``, and ``ev_near``: 1 on the day before an event (shopping ahead of holidays).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.forecast.history import promotion_flags, series_codes

EVENT_KINDS = ("sporting", "cultural", "national", "religious", "other")
EXOG_COLUMNS = ("on_promotion", "price_ratio", *(f"ev_{k}" for k in EVENT_KINDS), "ev_any", "ev_near")


def build_panel(history: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Long panel ``unique_id, ds, y`` + :data:`EXOG_COLUMNS` for the series of ``profile``.

    ``profile`` (from the same history) fixes the series order: ``unique_id`` is its row number. Event
    columns are added by :func:`add_event_features`; here only the series-level columns are set.
    """
    codes = series_codes(history)
    if len(codes) and int(codes[-1]) + 1 != len(profile):
        raise ValueError("history and profile disagree on the series; build the profile from this history")
    price = pd.Series(history["price"].to_numpy(dtype=float))
    median_price = price.groupby(codes).transform("median").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = price.to_numpy() / median_price
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    return pd.DataFrame(
        {
            "unique_id": codes,
            "ds": history["date"].to_numpy(),
            "y": history["demand"].to_numpy(dtype=float),
            "on_promotion": history["on_promotion"].to_numpy(dtype=float),
            "price_ratio": ratio,
        }
    )


def build_future_exog(
    panel: pd.DataFrame,
    profile: pd.DataFrame,
    promotions: pd.DataFrame,
    dates: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Exogenous features of every series over ``dates`` (``unique_id, ds`` + series-level columns)."""
    n, h = len(profile), len(dates)
    uid = np.repeat(np.arange(n, dtype=np.int64), h)
    ds = np.tile(dates.to_numpy(), n)
    last_ratio = panel.groupby("unique_id")["price_ratio"].last().reindex(np.arange(n)).fillna(1.0).to_numpy()
    frame = pd.DataFrame(
        {
            "sku": profile["sku"].to_numpy()[uid],
            "location_id": profile["location_id"].to_numpy()[uid],
            "date": ds,
        }
    )
    promo = promotion_flags(frame, promotions)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "on_promotion": promo, "price_ratio": last_ratio[uid]})


def add_event_features(frame: pd.DataFrame, events: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Add the ``ev_*`` columns to a frame with ``unique_id`` and ``ds`` (in place and returned)."""
    for col in (*(f"ev_{k}" for k in EVENT_KINDS), "ev_any", "ev_near"):
        frame[col] = 0.0
    if events.empty or frame.empty:
        return frame
    ev = events[["date", "kind", "location_id"]].copy()
    kind = ev["kind"].fillna("other").astype(str).str.lower()
    ev["col"] = np.where(kind.isin(EVENT_KINDS), "ev_" + kind, "ev_other")
    loc_of = profile["location_id"].to_numpy()[frame["unique_id"].to_numpy()]
    ds = frame["ds"].to_numpy()
    for col, sub in ev.groupby("col"):
        frame[col] = _event_hits(ds, loc_of, sub)
    frame["ev_any"] = _event_hits(ds, loc_of, ev)
    before = ev.assign(date=ev["date"] - pd.Timedelta(days=1))
    frame["ev_near"] = _event_hits(ds, loc_of, before)
    return frame


def _event_hits(ds: np.ndarray, loc_of: np.ndarray, ev: pd.DataFrame) -> np.ndarray:
    """1.0 where (date, location) matches an event for all locations or that location."""
    everywhere = ev.loc[ev["location_id"].isna(), "date"].to_numpy()
    days, inverse = np.unique(ds, return_inverse=True)  # a few thousand days, not millions of rows
    out = np.isin(days, everywhere).astype(float)[inverse]
    local = ev.loc[ev["location_id"].notna()]
    if len(local):
        keys = pd.MultiIndex.from_arrays([local["date"].to_numpy(), local["location_id"].to_numpy()])
        probe = pd.MultiIndex.from_arrays([ds, loc_of])
        out = np.maximum(out, probe.isin(keys).astype(float))
    return out
