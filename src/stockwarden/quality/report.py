"""Alert effectiveness of a company's own stored alerts against its own stock history (pure).

:func:`assess_alert_quality` turns the stored alerts (``sku, location_id, first_day, last_day, level``,
+ ``verdict``), and the dataset's counts, sales and purchase orders into the measures of
:func:`stockwarden.quality.effectiveness.alert_effectiveness`:

* stockout episodes are the days whose end-of-day count is zero (counted days only);
* an alert's label uses the sales as its demand (censored by the stockouts it is judged on: a real
  stockout then shows as one, and the demand a stockout hid is not counted), the on hand of the
  newest count on or before the day it opened, and the POs open that day arriving when they did;
  alerts whose protection interval has not passed by the newest data are left unlabelled;
* the protection interval is the stated lead time (item, else supplier, else ``default_lead_time_days``)
  plus the review period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset
from stockwarden.quality.effectiveness import (
    KEYS,
    alert_effectiveness,
    label_protection_interval,
    stockout_episodes,
)

EPISODE_LOOK_BACK_DAYS = 60  # stock counts read before the period: an episode under way when it starts


def series_facts(
    ds: Dataset, *, review_period_days: int, default_lead_time_days: float, also: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``sku, location_id, lead_time_days, horizon_days, category, supplier_id`` of every SKU-location in the
    dataset's rows and in ``also`` (``sku, location_id``: e.g. the alerts, whose rows may lie before a
    dataset loaded from a date on)."""
    keys = ds.series_keys()
    if also is not None and len(also):
        keys = pd.concat([keys, also.loc[:, KEYS].astype(str)], ignore_index=True).drop_duplicates(KEYS)
    items = ds.items.drop_duplicates("sku").set_index("sku")
    sup = ds.suppliers.drop_duplicates("supplier_id").set_index("supplier_id")["lead_time_days"]
    f = keys.copy()
    f["category"] = f["sku"].map(items["category"]) if "category" in items else None
    f["supplier_id"] = f["sku"].map(items["supplier_id"]) if "supplier_id" in items else None
    lt = f["sku"].map(items["lead_time_days"]) if "lead_time_days" in items else pd.Series(np.nan, index=f.index)
    f["lead_time_days"] = lt.fillna(f["supplier_id"].map(sup)).fillna(default_lead_time_days).astype(float)
    f["horizon_days"] = np.ceil(f["lead_time_days"]).astype(int) + int(review_period_days)
    return f


def on_hand_at(ds: Dataset, rows: pd.DataFrame, *, day_column: str) -> np.ndarray:
    """The newest count on or before each row's day (0 when none)."""
    inv = ds.inventory.loc[:, [*KEYS, "date", "on_hand"]].sort_values("date")
    left = rows.loc[:, [*KEYS, day_column]].assign(_i=np.arange(len(rows))).sort_values(day_column)
    m = pd.merge_asof(left, inv, left_on=day_column, right_on="date", by=KEYS, direction="backward")
    return m.sort_values("_i")["on_hand"].fillna(0.0).to_numpy(float)


def assess_alert_quality(
    ds: Dataset,
    alerts: pd.DataFrame,
    *,
    since: pd.Timestamp,
    until: pd.Timestamp,
    review_period_days: int = 7,
    default_lead_time_days: float = 14.0,
    planners: int = 1,
) -> dict[str, object]:
    """Alert effectiveness over ``since .. until`` (see the module docstring)."""
    facts = series_facts(
        ds, review_period_days=review_period_days, default_lead_time_days=default_lead_time_days, also=alerts
    )
    known = ds.as_of(until)
    a = alerts.reset_index(drop=True).copy()
    for c in ("first_day", "last_day"):
        a[c] = pd.to_datetime(a[c]).dt.normalize()
    a = a.merge(facts.loc[:, [*KEYS, "horizon_days"]], on=KEYS, how="left")
    a["horizon_days"] = a["horizon_days"].fillna(int(np.ceil(default_lead_time_days)) + review_period_days)
    a["label"] = np.nan
    passed = (a["first_day"] + pd.to_timedelta(a["horizon_days"], unit="D")) <= until
    done = passed & (a["first_day"] >= since)  # judged: only the alerts opened in the period are measured
    if done.any():
        rows = a.loc[done, [*KEYS, "first_day", "horizon_days"]].rename(columns={"first_day": "as_of"})
        rows = rows.assign(on_hand=on_hand_at(known, rows, day_column="as_of"))
        demand = known.sales.loc[known.sales["qty"] > 0, ["date", *KEYS, "qty"]]
        receipts = known.purchase_orders.loc[:, [*KEYS, "order_date", "received_date", "received_qty"]]
        receipts = receipts.assign(received_qty=receipts["received_qty"].fillna(known.purchase_orders["qty"]))
        a.loc[done, "label"] = label_protection_interval(rows, demand=demand, receipts=receipts)["label"].to_numpy()
    look_back = since - pd.Timedelta(days=EPISODE_LOOK_BACK_DAYS)
    stock = known.inventory.loc[known.inventory["date"] >= look_back, [*KEYS, "date", "on_hand"]]
    episodes = stockout_episodes(stock)
    out = alert_effectiveness(
        episodes=episodes,
        alerts=a.drop(columns="horizon_days"),
        facts=facts,
        period_start=since,
        period_end=until,
        planners=planners,
    )
    out["period"] = {"since": since.date().isoformat(), "until": until.date().isoformat()}
    out["unlabelled_alerts"] = int((~passed).sum())
    return out
