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
    # rows as (location code, day number): every event column is then a lookup in a small table
    series_loc, locations = pd.factorize(profile["location_id"].to_numpy())
    loc_of = series_loc[frame["unique_id"].to_numpy()]
    day = _day_numbers(frame["ds"])
    grid = _DayGrid(day=day - int(day.min()), first=int(day.min()), loc=loc_of, locations=pd.Index(locations))
    for col, sub in ev.groupby("col"):
        frame[col] = grid.hits(sub)
    frame["ev_any"] = grid.hits(ev)
    before = ev.assign(date=ev["date"] - pd.Timedelta(days=1))
    frame["ev_near"] = grid.hits(before)
    return frame


def _day_numbers(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


class _DayGrid:
    """The rows of a frame as (location code, day number), to mark the rows of dated events."""

    def __init__(self, *, day: np.ndarray, first: int, loc: np.ndarray, locations: pd.Index) -> None:
        self.day, self.first, self.loc, self.locations = day, first, loc, locations
        self.span = int(day.max()) + 1 if len(day) else 0

    def hits(self, ev: pd.DataFrame) -> np.ndarray:
        """1.0 where (date, location) matches an event for all locations or that location."""
        e_day = _day_numbers(ev["date"]) - self.first
        inside = (e_day >= 0) & (e_day < self.span)
        everywhere = ev["location_id"].isna().to_numpy() & inside
        table = np.zeros(self.span, dtype=bool)
        table[e_day[everywhere]] = True
        out = table[self.day]
        local = ~ev["location_id"].isna().to_numpy() & inside
        if local.any():
            e_loc = self.locations.get_indexer(ev["location_id"].to_numpy()[local])
            known = e_loc >= 0
            if known.any():
                at = np.zeros((len(self.locations), self.span), dtype=bool)
                at[e_loc[known], e_day[local][known]] = True
                out = out | ((self.loc >= 0) & at[np.maximum(self.loc, 0), self.day])
        return out.astype(float)
