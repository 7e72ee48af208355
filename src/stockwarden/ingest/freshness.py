"""Is the data fresh enough for an as-of date? Refuse stale assessments, or say per row how stale they are.

Assessing months after the last sale or count gives numbers that look calm (no recent demand, so
"ok") while saying nothing about today. So a command asked about a date more than
``health.stale_feed_days`` after the newest sales or stock data refuses (:func:`check_as_of_freshness`)
unless the user passes ``--allow-stale``; then every row carries a data-health level
(:func:`data_health_by_row`): ``ok``, ``stale`` (with the reason) or ``no_data``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import HealthRules
from stockwarden.domain.risk import HEALTH_COLUMNS
from stockwarden.errors import StaleData
from stockwarden.ingest.dataset import Dataset

DATA_HEALTH_COLUMNS: tuple[str, ...] = HEALTH_COLUMNS
HEALTH_OK = "ok"
HEALTH_STALE = "stale"
HEALTH_NO_DATA = "no_data"


def data_lag_days(ds: Dataset, as_of: pd.Timestamp) -> int | None:
    """Days between ``as_of`` and the newest sales or stock-count date (None when there is neither)."""
    last = ds.last_date
    if last is None:
        return None
    return int((pd.Timestamp(as_of).normalize() - pd.Timestamp(last).normalize()).days)


def check_as_of_freshness(
    ds: Dataset, as_of: pd.Timestamp, rules: HealthRules, *, allow_stale: bool = False, option: str = "--as-of"
) -> int | None:
    """Refuse an as-of date more than ``rules.stale_feed_days`` after the newest data, unless allowed.

    Returns:
        The lag in days (None when the dataset has no dates).

    Raises:
        StaleData: naming the as-of date, the newest data date, the limit and the ways out.
    """
    lag = data_lag_days(ds, as_of)
    if lag is None or lag <= rules.stale_feed_days or allow_stale:
        return lag
    last = pd.Timestamp(ds.last_date).date()  # type: ignore[arg-type]
    raise StaleData(
        f"{option} {pd.Timestamp(as_of).date()} is {lag} days after the newest sales or stock data ({last}), "
        f"more than health.stale_feed_days ({rules.stale_feed_days}): results would describe stale data as if "
        f"it were today. Import newer data, choose an earlier {option}, or pass --allow-stale to go on anyway",
        lag_days=lag,
    )


def data_health_by_row(keys: pd.DataFrame, ds: Dataset, as_of: pd.Timestamp, rules: HealthRules) -> pd.DataFrame:
    """Per (sku, location_id) of ``keys``: the data-health level and why, as of ``as_of``.

    A row is ``stale`` when its location's newest sale is more than ``stale_feed_days`` old (the sales
    feed stopped) or its newest stock count more than ``stale_count_days`` old; ``no_data`` when there is
    neither a sale nor a count for it; else ``ok``.

    Returns:
        ``data_health`` and ``data_health_detail``, aligned with ``keys``' index.
    """
    day = pd.Timestamp(as_of).normalize()
    now = ds.as_of(day)
    feed = now.sales.groupby("location_id")["date"].max() if len(now.sales) else pd.Series(dtype="datetime64[ns]")
    counts = now.inventory.groupby(["sku", "location_id"])["date"].max() if len(now.inventory) else None
    sales_any = now.sales.groupby(["sku", "location_id"])["date"].max() if len(now.sales) else None
    loc = keys["location_id"].astype(object)
    index = pd.MultiIndex.from_arrays([keys["sku"].astype(object), loc])
    feed_last = pd.to_datetime(loc.map(feed), errors="coerce").to_numpy(dtype="datetime64[ns]")
    count_last = _lookup(counts, index)
    sale_last = _lookup(sales_any, index)
    feed_age = _age(day, feed_last)
    count_age = _age(day, count_last)
    level = np.full(len(keys), HEALTH_OK, dtype=object)
    detail = np.full(len(keys), "", dtype=object)
    for i in range(len(keys)):
        why = []
        if not np.isnan(feed_age[i]) and feed_age[i] > rules.stale_feed_days:
            why.append(f"no sales recorded at {loc.iat[i]} for {int(feed_age[i])} days")
        if not np.isnan(count_age[i]) and count_age[i] > rules.stale_count_days:
            why.append(f"last stock count {int(count_age[i])} days old")
        if np.isnat(count_last[i]) and np.isnat(sale_last[i]):
            level[i], detail[i] = HEALTH_NO_DATA, "no sales and no stock count for this SKU-location"
        elif why:
            level[i], detail[i] = HEALTH_STALE, "; ".join(why)
    return pd.DataFrame({"data_health": level, "data_health_detail": detail}, index=keys.index)


def add_data_health(frame: pd.DataFrame, ds: Dataset, as_of: pd.Timestamp, rules: HealthRules) -> pd.DataFrame:
    """``frame`` (with ``sku`` and ``location_id``) plus the :data:`DATA_HEALTH_COLUMNS`."""
    if frame.empty:
        return frame.assign(data_health=pd.Series(dtype=object), data_health_detail=pd.Series(dtype=object))
    health = data_health_by_row(frame[["sku", "location_id"]], ds, as_of, rules)
    return frame.assign(data_health=health["data_health"], data_health_detail=health["data_health_detail"])


def _lookup(last: pd.Series | None, index: pd.MultiIndex) -> np.ndarray:
    if last is None or last.empty:
        return np.full(len(index), np.datetime64("NaT"), dtype="datetime64[ns]")
    return last.reindex(index).to_numpy(dtype="datetime64[ns]")


def _age(day: pd.Timestamp, last: np.ndarray) -> np.ndarray:
    days = (day.to_datetime64() - last) / np.timedelta64(1, "D")
    return np.asarray(days, dtype=float)


__all__ = [
    "DATA_HEALTH_COLUMNS",
    "HEALTH_NO_DATA",
    "HEALTH_OK",
    "HEALTH_STALE",
    "add_data_health",
    "check_as_of_freshness",
    "data_health_by_row",
    "data_lag_days",
]
