"""Reason codes, with the numbers behind them, so that "why this alert" always has an answer.

Each rule below is a vectorised mask over the assessment rows plus a small record of the figures
that triggered it (which PO, how late, what the forecast was). :func:`build_reasons` returns the
codes joined by ``;`` (most important first) and a JSON object per row ``{code: {figures}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules
from stockwarden.domain.risk import ReasonCode as RC  # noqa: N817 (short alias keeps the rule table readable)
from stockwarden.domain.risk import RiskLevel

KEYS = ["sku", "location_id"]


def _r(x: object, nd: int = 2) -> object:
    if isinstance(x, float | np.floating):
        return None if not np.isfinite(x) else round(float(x), nd)
    if isinstance(x, pd.Timestamp):
        return x.date().isoformat()
    if isinstance(x, np.integer):
        return int(x)
    return x


def _records(frame: pd.DataFrame, mask: np.ndarray, cols: Mapping[str, str]) -> dict[int, dict[str, object]]:
    sub = frame.loc[mask, list(cols.values())]
    return {
        int(i): {k: _r(v) for k, v in zip(cols, row, strict=True)}
        for i, row in zip(sub.index, sub.itertuples(index=False, name=None), strict=True)
    }


def _per_key(
    frame: pd.DataFrame, rows: pd.DataFrame, cols: list[str], limit: int = 3
) -> dict[int, list[dict[str, object]]]:
    """Rows of ``rows`` (keyed by sku, location_id) grouped onto the assessment row numbers."""
    if rows.empty:
        return {}
    idx = frame.loc[:, KEYS].reset_index().rename(columns={"index": "_row"})
    m = rows.merge(idx, on=KEYS)
    out: dict[int, list[dict[str, object]]] = {}
    for row, vals in zip(m["_row"], m[cols].itertuples(index=False, name=None), strict=True):
        lst = out.setdefault(int(row), [])
        if len(lst) < limit:
            lst.append({c: _r(v) for c, v in zip(cols, vals, strict=True)})
    return out


def build_reasons(
    frame: pd.DataFrame,
    *,
    open_pos: pd.DataFrame,
    promotions: pd.DataFrame,
    events: pd.DataFrame,
    anomalies: pd.DataFrame | None,
    rules: RiskRules,
) -> tuple[np.ndarray, np.ndarray]:
    """Reason codes and their figures for every assessment row.

    Args:
        frame: the assessment rows (RangeIndex) with ``sku, location_id, supplier_id, level, on_hand,
            inventory_position, reorder_point, on_order, stockout_probability, p_before_expedite,
            mean_daily_forecast, recent_daily_sales, protection_cv, count_age_days, horizon_days,
            supplier_on_time_rate, supplier_mean_delay_days``.
        open_pos: open PO lines with ``sku, location_id, po_id, supplier_id, qty, promised_date,
            days_overdue, p_short``.
        promotions: planned promotions overlapping the horizon, with ``sku, location_id, start_date,
            end_date, discount`` (``location_id`` NaN = every location).
        events: calendar events within the horizon, ``date, name, location_id``.
        anomalies: issue-5 anomaly records (optional), mapped to reasons by
            :func:`stockwarden.anomaly.reasons.anomaly_reasons` (the SKU-locations each one affects).
        rules: the ``risk`` rules section.

    Returns:
        ``(reasons, details)``: object arrays; ``reasons`` joins codes with ``;`` (empty when none),
        ``details`` is a JSON object per row.
    """
    n = len(frame)
    found: dict[RC, dict[int, object]] = {}
    at_risk = (frame["level"] != RiskLevel.OK.value).to_numpy()

    def add(code: RC, recs: Mapping[int, object]) -> None:
        if recs:
            found.setdefault(code, {}).update(recs)

    oos = (frame["on_hand"] <= 0).to_numpy() & (frame["mean_daily_forecast"] > 0).to_numpy()
    add(RC.ALREADY_OUT_OF_STOCK, _records(frame, oos, {"on_hand": "on_hand", "forecast_daily": "mean_daily_forecast"}))
    exp = (frame["p_before_expedite"] >= frame["critical_probability"]).to_numpy() & ~oos
    add(
        RC.STOCKOUT_BEFORE_EXPEDITE,
        _records(frame, exp, {"probability": "p_before_expedite", "expedite_days": "expedite_days"}),
    )
    below = (frame["inventory_position"] <= frame["reorder_point"]).to_numpy() & (frame["reorder_point"] > 0).to_numpy()
    add(
        RC.BELOW_REORDER_POINT,
        _records(frame, below, {"inventory_position": "inventory_position", "reorder_point": "reorder_point"}),
    )
    surge = (frame["mean_daily_forecast"] > rules.demand_surge_ratio * frame["recent_daily_sales"]).to_numpy() & (
        frame["mean_daily_forecast"] > 0.1
    ).to_numpy()
    add(
        RC.DEMAND_SURGE,
        _records(
            frame,
            surge & at_risk,
            {"forecast_daily": "mean_daily_forecast", "recent_daily_sales": "recent_daily_sales"},
        ),
    )
    if len(open_pos):
        od = open_pos.loc[open_pos["days_overdue"] > 0]
        add(RC.OPEN_PO_OVERDUE, _per_key(frame, od, ["po_id", "qty", "promised_date", "days_overdue"]))
        sh = open_pos.loc[open_pos["p_short"] >= rules.short_delivery_probability]
        add(RC.SHORT_DELIVERY_RISK, _per_key(frame, sh, ["po_id", "qty", "p_short"]))
    late = (frame["supplier_on_time_rate"] < 0.8).to_numpy() & at_risk
    add(
        RC.SUPPLIER_LATE,
        _records(
            frame,
            late,
            {
                "supplier_id": "supplier_id",
                "on_time_rate": "supplier_on_time_rate",
                "mean_delay_days": "supplier_mean_delay_days",
            },
        ),
    )
    stale = (frame["count_age_days"] > rules.stale_count_days).to_numpy() | ~frame["has_count"].to_numpy(bool)
    add(RC.STALE_COUNT, _records(frame, stale, {"count_age_days": "count_age_days"}))
    unc = (frame["protection_cv"] > rules.forecast_uncertain_cv).to_numpy() & at_risk
    add(RC.FORECAST_UNCERTAIN, _records(frame, unc, {"demand_cv": "protection_cv"}))
    if len(promotions):
        promo = pd.concat(
            [
                promotions.loc[promotions["location_id"].notna()],
                promotions.loc[promotions["location_id"].isna()]
                .drop(columns="location_id")
                .merge(frame[KEYS], on="sku"),
            ],
            ignore_index=True,
        )
        add(RC.PROMOTION_AHEAD, _per_key(frame, promo, ["start_date", "end_date", "discount"]))
    if len(events) and at_risk.any():
        ev = events.loc[:, ["date", "name", "location_id"]]
        risky = frame.loc[at_risk, KEYS]
        glob = ev.loc[ev["location_id"].isna()].drop(columns="location_id").merge(risky, how="cross")
        loc = ev.loc[ev["location_id"].notna()].merge(risky, on="location_id")
        add(RC.EVENT_AHEAD, _per_key(frame, pd.concat([glob, loc], ignore_index=True), ["date", "name"]))
    if anomalies is not None and len(anomalies):
        from stockwarden.anomaly.reasons import anomaly_reasons

        by_reason = anomaly_reasons(anomalies)
        for code in RC:
            sub = by_reason.loc[by_reason["reason_code"] == code.value]
            if len(sub):
                add(code, _per_key(frame, sub, ["kind", "severity", "detail"], limit=2))
    no_po = (frame["on_order"] <= 0).to_numpy() & at_risk
    add(RC.NO_OPEN_ORDER, _records(frame, no_po, {"on_order": "on_order"}))

    order = [c for c in RC if c in found]
    reasons = np.full(n, "", dtype=object)
    details = np.full(n, "{}", dtype=object)
    rows = sorted({i for c in order for i in found[c]})
    for i in rows:
        codes = [c for c in order if i in found[c]]
        reasons[i] = ";".join(c.value for c in codes)
        details[i] = json.dumps({c.value: found[c][i] for c in codes}, default=str)
    return reasons, details
