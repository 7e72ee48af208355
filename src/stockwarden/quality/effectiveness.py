"""Alert effectiveness: did the alerts come before the stockouts, and were they right? (pure)

Inputs are plain frames, whichever face produced them (the database's alerts and counts, or a
backtest's daily assessments and a true demand):

* **stock**: ``sku, location_id, date, on_hand`` end-of-day stock. A *stockout day* ends with nothing
  on hand; consecutive stockout days of a SKU-location form one *episode* beginning on its first day.
* **alerts**: ``sku, location_id, first_day, last_day, level`` (+ ``category, supplier_id``,
  ``verdict`` = the user's feedback ``useful`` / ``false_alarm``, ``label``). An alert is *active*
  on the days ``first_day .. last_day``.

Measures:

* an episode is *warned in time* when an alert was active on a day at least the lead time before it
  began (and no earlier than ``lookback`` days: the protection interval, lead time + review); it is
  *warned a day before* with one day instead of the lead time. The *warning lead time* of a warned
  episode is the days from the first such alert day to its beginning;
* an alert is *effective* when its ``label`` is 1: stock would have run out within its protection
  interval had nothing new been ordered after it opened (a stockout followed, or an order prevented
  one). A *false alarm* is an alert with ``label`` 0. :func:`label_protection_interval` computes the
  label the way ``replay_dev/truth.csv`` does;
* alerts per week: alerts opened per 7 days of the period (per planner with ``planners``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["sku", "location_id"]
GROUPS = ("category", "location_id", "supplier_id")


def stockout_episodes(stock: pd.DataFrame) -> pd.DataFrame:
    """Episodes of consecutive stocked-out days: ``sku, location_id, begin, end, days``."""
    s = stock.loc[stock["on_hand"] <= 0, [*KEYS, "date"]].drop_duplicates().sort_values([*KEYS, "date"])
    if s.empty:
        return pd.DataFrame({"sku": [], "location_id": [], "begin": pd.to_datetime([]), "end": [], "days": []})
    day = s["date"].to_numpy("datetime64[D]").astype(np.int64)
    same = (s["sku"].to_numpy() == np.roll(s["sku"].to_numpy(), 1)) & (
        s["location_id"].to_numpy() == np.roll(s["location_id"].to_numpy(), 1)
    )
    new = ~(same & (day - np.roll(day, 1) == 1))
    new[0] = True
    s = s.assign(_ep=np.cumsum(new))
    g = s.groupby("_ep")
    out = g.agg(sku=("sku", "first"), location_id=("location_id", "first"), begin=("date", "min"), end=("date", "max"))
    out["days"] = g.size().to_numpy()
    return out.reset_index(drop=True)


def label_protection_interval(rows: pd.DataFrame, *, demand: pd.DataFrame, receipts: pd.DataFrame) -> pd.DataFrame:
    """Would stock have run out within each row's protection interval had nothing new been ordered?

    Args:
        rows: ``sku, location_id, as_of, on_hand, horizon_days`` (stock at the end of ``as_of``).
        demand: ``date, sku, location_id, qty`` daily demand (true demand, or sales as its stand-in).
        receipts: ``sku, location_id, order_date, received_date, received_qty`` PO lines; those ordered
            by ``as_of`` and received after it arrive when they really did.

    Returns:
        ``rows`` plus ``label`` (0/1) and ``first_stockout_date`` (the first day whose demand stock
        plus those receipts could not meet).
    """
    r = rows.reset_index(drop=True).assign(_row=lambda x: np.arange(len(x)))
    hmax = int(r["horizon_days"].max()) if len(r) else 0
    grid = r.loc[:, [*KEYS, "as_of", "on_hand", "horizon_days", "_row"]].merge(
        pd.DataFrame({"t": np.arange(1, hmax + 1)}), how="cross"
    )
    grid = grid.loc[grid["t"] <= grid["horizon_days"]]
    grid["date"] = grid["as_of"] + pd.to_timedelta(grid["t"], unit="D")
    d = demand.groupby([*KEYS, "date"])["qty"].sum().rename("_d").reset_index()
    grid = grid.merge(d, on=[*KEYS, "date"], how="left")
    rc = receipts.loc[receipts["received_date"].notna()]
    rc = r.loc[:, [*KEYS, "as_of", "_row"]].merge(rc, on=KEYS)
    rc = rc.loc[(rc["order_date"] <= rc["as_of"]) & (rc["received_date"] > rc["as_of"])]
    rc = rc.groupby(["_row", "received_date"])["received_qty"].sum().rename("_r").reset_index()
    grid = grid.merge(rc.rename(columns={"received_date": "date"}), on=["_row", "date"], how="left")
    grid = grid.fillna({"_d": 0.0, "_r": 0.0}).sort_values(["_row", "t"])
    g = grid.groupby("_row")
    grid["_left"] = grid["on_hand"] + g["_r"].cumsum() - g["_d"].cumsum()
    short = grid.loc[grid["_left"] < -1e-9]
    first = short.groupby("_row")["date"].min()
    out = r.assign(label=r["_row"].isin(first.index).astype(int), first_stockout_date=r["_row"].map(first))
    return out.drop(columns="_row")


def _warned(episodes: pd.DataFrame, alerts: pd.DataFrame, *, lead_days: pd.Series, lookback: pd.Series) -> pd.DataFrame:
    """Per episode: warned a day before, warned a lead time before, and the warning lead time."""
    e = episodes.reset_index(drop=True).assign(_ep=lambda x: np.arange(len(x)))
    e["_lead"] = lead_days.to_numpy(float)
    e["_look"] = lookback.to_numpy(float)
    m = e.merge(alerts.loc[:, [*KEYS, "first_day", "last_day"]], on=KEYS)
    lo = m["begin"] - pd.to_timedelta(m["_look"], unit="D")

    def hit(latest_gap: pd.Series) -> pd.Series:
        hi = m["begin"] - pd.to_timedelta(latest_gap, unit="D")
        ok = (m["first_day"] <= hi) & (m["last_day"] >= lo) & (hi >= lo)
        return m.loc[ok].groupby("_ep").size().reindex(e["_ep"], fill_value=0).to_numpy() > 0

    e["warned_1d"] = hit(pd.Series(1.0, index=m.index))
    e["warned_lead"] = hit(m["_lead"].clip(lower=1))
    start = np.maximum(m["first_day"].to_numpy("datetime64[D]"), lo.to_numpy("datetime64[D]"))
    active = (m["first_day"] <= m["begin"] - pd.Timedelta(days=1)) & (m["last_day"] >= lo)
    lead = pd.Series((m["begin"].to_numpy("datetime64[D]") - start).astype(float), index=m.index)
    e["warning_lead_days"] = lead.where(active).groupby(m["_ep"]).max().reindex(e["_ep"]).to_numpy()
    return e.drop(columns=["_ep", "_lead", "_look"])


def alert_effectiveness(
    *,
    episodes: pd.DataFrame,
    alerts: pd.DataFrame,
    facts: pd.DataFrame,
    period_start: pd.Timestamp,
    period_end: pd.Timestamp,
    planners: int = 1,
) -> dict[str, object]:
    """Overall and per-group (category, location, supplier) effectiveness of the alerts.

    Args:
        episodes: :func:`stockout_episodes` (only those beginning in the period count).
        alerts: see the module docstring (``label`` from :func:`label_protection_interval`).
        facts: ``sku, location_id, lead_time_days, horizon_days`` (+ ``category, supplier_id``).
        period_start, period_end: the period judged (episodes beginning and alerts opening in it).
        planners: planners sharing the alerts (alerts per planner per week).

    Returns:
        ``{"overall": {...}, "groups": [{group_by, group, ...}, ...]}`` with ``episodes``,
        ``warned_in_time`` (share at least a lead time before), ``warned_1d``, ``median_warning_lead_days``,
        ``alerts``, ``effective``, ``false_alarms`` (shares of alerts), ``alerts_per_week``,
        ``alerts_per_planner_per_week``, ``feedback_useful``, ``feedback_false_alarm`` (counts).
    """
    ep = episodes.loc[(episodes["begin"] >= period_start) & (episodes["begin"] <= period_end)]
    ep = ep.merge(facts, on=KEYS, how="left")
    al = alerts.loc[(alerts["first_day"] >= period_start) & (alerts["first_day"] <= period_end)]
    al = al.drop(columns=[c for c in ("category", "supplier_id") if c in al.columns]).merge(facts, on=KEYS, how="left")
    lead = ep["lead_time_days"].fillna(1.0)
    look = ep["horizon_days"].fillna(lead + 7)
    ep = _warned(ep, alerts, lead_days=lead, lookback=look)
    weeks = max(((period_end - period_start).days + 1) / 7.0, 1e-9)

    def measures(e: pd.DataFrame, a: pd.DataFrame) -> dict[str, object]:
        verdict = a["verdict"] if "verdict" in a.columns else pd.Series(dtype=object)
        labelled = a["label"].dropna() if "label" in a.columns else pd.Series(dtype=float)
        return {
            "episodes": len(e),
            "warned_in_time": float(e["warned_lead"].mean()) if len(e) else None,
            "warned_1d": float(e["warned_1d"].mean()) if len(e) else None,
            "median_warning_lead_days": float(e["warning_lead_days"].median())
            if e["warning_lead_days"].notna().any()
            else None,
            "alerts": len(a),
            "effective": float((labelled == 1).mean()) if len(labelled) else None,
            "false_alarms": float((labelled == 0).mean()) if len(labelled) else None,
            "alerts_per_week": len(a) / weeks,
            "alerts_per_planner_per_week": len(a) / weeks / max(planners, 1),
            "feedback_useful": int((verdict == "useful").sum()),
            "feedback_false_alarm": int((verdict == "false_alarm").sum()),
        }

    groups = []
    for col in GROUPS:
        if col not in ep.columns and col not in al.columns:
            continue
        values = sorted(
            set(ep.get(col, pd.Series(dtype=object)).dropna()) | set(al.get(col, pd.Series(dtype=object)).dropna())
        )
        for v in values:
            groups.append({"group_by": col, "group": str(v), **measures(ep.loc[ep[col] == v], al.loc[al[col] == v])})
    return {"overall": measures(ep, al), "groups": groups}


def alerts_from_levels(frame: pd.DataFrame, *, levels: tuple[str, ...] = ("warning", "critical")) -> pd.DataFrame:
    """Alerts from daily assessments (``as_of, sku, location_id, level``): one per run of alerting days."""
    a = frame.loc[frame["level"].isin(levels), [*KEYS, "as_of"]].drop_duplicates().sort_values([*KEYS, "as_of"])
    if a.empty:
        return pd.DataFrame(
            {"sku": [], "location_id": [], "first_day": pd.to_datetime([]), "last_day": pd.to_datetime([])}
        )
    day = a["as_of"].to_numpy("datetime64[D]").astype(np.int64)
    sku, loc = a["sku"].to_numpy(), a["location_id"].to_numpy()
    new = ~((sku == np.roll(sku, 1)) & (loc == np.roll(loc, 1)) & (day - np.roll(day, 1) == 1))
    new[0] = True
    a = a.assign(_run=np.cumsum(new))
    g = a.groupby("_run")
    return g.agg(
        sku=("sku", "first"),
        location_id=("location_id", "first"),
        first_day=("as_of", "min"),
        last_day=("as_of", "max"),
    ).reset_index(drop=True)
