"""Demand shocks: a day or a week of demand far outside what the series makes plausible.

The reference distribution of one day's demand is a negative binomial fitted by moments to the
``demand_baseline_days`` before the last week (days that ended out of stock are left out: they hide
demand), or, when a forecast covering those days is given, a negative binomial with the forecast's
mean and the baseline's dispersion. A week's total is the sum of seven such days (NB with seven times
the size). A spike is reported when ``P(X >= observed) < demand_alpha`` and the excess is at least
``demand_min_units``; a drop symmetrically (and only for weeks without stock-outs). Over-dispersion
makes this robust for intermittent series: a slow mover's occasional sale is not improbable under
its own fitted NB. A shock during a promotion or a calendar event is tagged as explained (info).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from stockwarden.anomaly.flows import KEYS
from stockwarden.anomaly.records import fmt_date, join_keys
from stockwarden.config import AnomalyRules
from stockwarden.domain.supply import AnomalyKind, Severity
from stockwarden.ingest.dataset import Dataset

_DAY = pd.Timedelta(days=1)
_WEEK = 7
Record = dict[str, object]


def _nb_tails(x: np.ndarray, mean: np.ndarray, var: np.ndarray, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """``P(X >= x)`` and ``P(X <= x)`` for a sum of ``n_days`` iid NB (Poisson when var <= mean) days."""
    mean = np.maximum(mean, 1e-9)
    var = np.nan_to_num(var, nan=0.0)
    over = var > mean * 1.0001
    size = np.where(over, mean**2 / np.where(over, var - mean, 1.0), 1.0)
    p = size / (size + mean)
    upper = np.where(over, stats.nbinom.sf(x - 1, size * n_days, p), stats.poisson.sf(x - 1, mean * n_days))
    lower = np.where(over, stats.nbinom.cdf(x, size * n_days, p), stats.poisson.cdf(x, mean * n_days))
    return upper, lower


def _explanations(
    ds: Dataset, keys: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, promo_days: pd.DataFrame
) -> list[str | None]:
    """Per key, the promotion or event that falls in [start, end], if any."""
    out: list[str | None] = [None] * len(keys)
    promos = ds.promotions
    promos = promos.loc[(promos["start_date"] <= end) & (promos["end_date"] >= start)]
    events = ds.events.loc[(ds.events["date"] >= start) & (ds.events["date"] <= end)]
    flagged = set(zip(promo_days["sku"], promo_days["location_id"], strict=True))
    for i, (sku, loc) in enumerate(keys[KEYS].itertuples(index=False)):
        p = promos.loc[(promos["sku"] == sku) & (promos["location_id"].isna() | (promos["location_id"] == loc))]
        if len(p) or (sku, loc) in flagged:
            out[i] = "a promotion"
            continue
        e = (
            events.loc[events["location_id"].isna() | (events["location_id"] == loc)]
            if "location_id" in events
            else events
        )
        if len(e):
            out[i] = f"{e['name'].iloc[0]} ({fmt_date(e['date'].iloc[0])})"
    return out


def detect_demand_shocks(
    ds: Dataset, *, as_of: pd.Timestamp, rules: AnomalyRules, sales: pd.DataFrame, forecast: object | None = None
) -> list[Record]:
    """``demand_spike`` / ``demand_drop`` records for the last day and the last week up to ``as_of``."""
    b_days = rules.demand_baseline_days
    first = as_of - (b_days + _WEEK - 1) * _DAY
    s = sales.loc[(sales["date"] >= first) & (sales["date"] <= as_of)]
    if s.empty:
        return []
    keys = s[KEYS].drop_duplicates().sort_values(KEYS).reset_index(drop=True)
    n_days = b_days + _WEEK
    key_idx = keys.reset_index().set_index(KEYS)["index"]
    rows = key_idx.loc[pd.MultiIndex.from_frame(s[KEYS])].to_numpy()
    cols = ((s["date"] - first) / _DAY).to_numpy(int)
    Y = np.zeros((len(keys), n_days))
    np.add.at(Y, (rows, cols), s["qty_sold"].to_numpy(float))
    # Days that ended out of stock hide demand: mask them (counts of zero).
    inv = ds.inventory
    inv = inv.loc[(inv["date"] >= first) & (inv["date"] <= as_of) & (inv["on_hand"] <= 0)].merge(keys, on=KEYS)
    out_mask = np.zeros_like(Y, dtype=bool)
    if len(inv):
        r_i = key_idx.loc[pd.MultiIndex.from_frame(inv[KEYS])].to_numpy()
        out_mask[r_i, ((inv["date"] - first) / _DAY).to_numpy(int)] = True
    base = np.where(out_mask[:, :b_days], np.nan, Y[:, :b_days])
    n_ok = (~np.isnan(base)).sum(axis=1)
    # Moments by hand: nanmean/nanvar warn on rows with fewer than two usable days.
    s1, s2 = np.nansum(base, axis=1), np.nansum(base**2, axis=1)
    mean = s1 / np.maximum(n_ok, 1)
    var = np.maximum(s2 - n_ok * mean**2, 0.0) / np.maximum(n_ok - 1, 1)
    # A forecast (when it covers the last week) sets the mean; the baseline keeps the dispersion index.
    f_mean = _forecast_mean(forecast, keys, as_of, mean)
    dispersion = np.where(mean > 0, np.nan_to_num(var, nan=0.0) / np.maximum(mean, 1e-9), 1.0)
    var = np.where(f_mean != mean, f_mean * np.maximum(dispersion, 1.0), var)
    mean = f_mean
    week = Y[:, b_days:].sum(axis=1)
    day = Y[:, -1]
    week_hi, week_lo = _nb_tails(week, mean, var, _WEEK)
    day_hi, _ = _nb_tails(day, mean, var, 1)
    week_has_out = out_mask[:, b_days:].any(axis=1)
    enough = n_ok >= b_days // 2
    spike_w = enough & (week_hi < rules.demand_alpha) & (week - _WEEK * mean >= rules.demand_min_units)
    spike_d = enough & ~spike_w & (day_hi < rules.demand_alpha) & (day - mean >= rules.demand_min_units)
    drop_w = enough & ~week_has_out & (week_lo < rules.demand_alpha) & (_WEEK * mean - week >= rules.demand_min_units)
    hits = np.flatnonzero(spike_w | spike_d | drop_w)
    if len(hits) == 0:
        return []
    promo_days = s.loc[s["is_promo"] & (s["date"] > as_of - _WEEK * _DAY)]
    why = _explanations(ds, keys.iloc[hits], as_of - (_WEEK - 1) * _DAY, as_of, promo_days)
    out: list[Record] = []
    for i, reason in zip(hits, why, strict=True):
        sku, loc = keys.iloc[i]["sku"], keys.iloc[i]["location_id"]
        is_day = bool(spike_d[i])
        kind = AnomalyKind.DEMAND_DROP if drop_w[i] else AnomalyKind.DEMAND_SPIKE
        n = 1 if is_day else _WEEK
        observed, expected = (day[i] if is_day else week[i]), float(mean[i] * n)
        span = f"on {fmt_date(as_of)}" if is_day else f"in the week to {fmt_date(as_of)}"
        verb = "sold" if kind is AnomalyKind.DEMAND_SPIKE else "sold only"
        detail = f"{sku} at {loc}: {verb} {observed:g} units {span} against about {expected:.1f} expected"
        sev = Severity.WARNING if kind is AnomalyKind.DEMAND_SPIKE else Severity.INFO
        if reason:
            detail += f"; explained by {reason}"
            sev = Severity.INFO
        out.append(
            {
                "kind": kind.value,
                "severity": sev.value,
                "detected_on": as_of,
                "supplier_id": None,
                "sku": sku,
                "location_id": loc,
                "po_id": None,
                "started_on": as_of - (n - 1) * _DAY,
                "metric": "day_demand" if is_day else "week_demand",
                "expected": expected,
                "observed": float(observed),
                "detail": detail,
                "affected": join_keys([(sku, loc)]),
            }
        )
    return out


def _forecast_mean(forecast: object | None, keys: pd.DataFrame, as_of: pd.Timestamp, mean: np.ndarray) -> np.ndarray:
    """Daily mean from a forecast whose ``daily`` frame covers the last week (else the baseline's)."""
    daily = getattr(forecast, "daily", forecast)
    if not isinstance(daily, pd.DataFrame) or daily.empty or not {"date", "mean"} <= set(daily.columns):
        return mean
    week = daily.loc[(daily["date"] > as_of - _WEEK * _DAY) & (daily["date"] <= as_of)]
    if week.empty:
        return mean
    m = week.groupby(KEYS)["mean"].mean()
    got = m.reindex(pd.MultiIndex.from_frame(keys[KEYS])).to_numpy(float)
    return np.where(np.isnan(got), mean, got)
