"""Forecast accuracy tracking: the forecasts runs kept, scored once their actuals arrived (pure).

A kept forecast (``as_of, sku, location_id, category, demand_class, nb_size, mean``: ``mean`` the
daily means after ``as_of``) is scored over its first ``days_ahead`` days once they have all passed.
Days that ended out of stock are left out: their sales are not the demand (censored).

Per demand class, category and overall, for each run date:

* WAPE = sum |actual - forecast| / sum actual;
* bias = (sum forecast - sum actual) / sum actual (positive: over-forecast);
* pinball = mean over the 0.1, 0.5 and 0.9 quantiles of the pinball loss of the negative binomial
  (mean, ``nb_size``; Poisson when no size), divided by the mean actual (scale-free).

:func:`accuracy_drops` names the series whose WAPE rose most between the earlier and the later half
of the scored run dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

KEYS = ["sku", "location_id"]
QUANTILES = (0.1, 0.5, 0.9)


def _quantiles(mean: np.ndarray, size: np.ndarray) -> np.ndarray:
    """(len, 3) NB quantiles at :data:`QUANTILES` (Poisson where size is missing or huge)."""
    mean = np.maximum(mean, 1e-9)
    out = np.empty((len(mean), len(QUANTILES)))
    nb = np.isfinite(size) & (size > 0) & (size < 1e6)
    for j, q in enumerate(QUANTILES):
        col = stats.poisson.ppf(q, mean)
        if nb.any():
            s = size[nb]
            col[nb] = stats.nbinom.ppf(q, s, s / (s + mean[nb]))
        out[:, j] = col
    return out


def score_points(
    kept: pd.DataFrame, actuals: pd.DataFrame, *, today: pd.Timestamp, days_ahead: int = 28
) -> pd.DataFrame:
    """One row per kept forecast day with its actual: ``as_of, sku, location_id, category, demand_class,
    day, forecast, actual, pinball`` (only forecasts whose ``days_ahead`` days have passed by ``today``).

    Args:
        kept: kept forecasts (see the module docstring).
        actuals: ``date, sku, location_id, qty`` daily sales, plus ``is_censored`` (day ended out of stock).
        today: the newest day with actuals.
        days_ahead: days scored after each run date.
    """
    ready = kept.loc[kept["as_of"] + pd.Timedelta(days=days_ahead) <= today]
    if ready.empty:
        return pd.DataFrame(
            columns=["as_of", *KEYS, "category", "demand_class", "date", "forecast", "actual", "pinball"]
        )
    parts = []
    for r in ready.itertuples(index=False):
        m = np.asarray(r.mean, dtype=float)[:days_ahead]
        parts.append(
            pd.DataFrame(
                {
                    "as_of": r.as_of,
                    "sku": r.sku,
                    "location_id": r.location_id,
                    "category": r.category,
                    "demand_class": r.demand_class,
                    "date": r.as_of + pd.to_timedelta(np.arange(1, len(m) + 1), unit="D"),
                    "forecast": m,
                    "nb_size": np.nan if r.nb_size is None else float(r.nb_size),
                }
            )
        )
    p = pd.concat(parts, ignore_index=True)
    acts = actuals.assign(qty=actuals["qty"].clip(lower=0))
    if "is_censored" not in acts.columns:
        acts = acts.assign(is_censored=False)
    a = acts.groupby([*KEYS, "date"]).agg(actual=("qty", "sum"), censored=("is_censored", "max"))
    p = p.merge(a.reset_index(), on=[*KEYS, "date"], how="left")
    p["actual"] = p["actual"].fillna(0.0)
    p = p.loc[~p["censored"].fillna(False).astype(bool)].drop(columns="censored")
    q = _quantiles(p["forecast"].to_numpy(float), p["nb_size"].to_numpy(float))
    y = p["actual"].to_numpy(float)[:, None]
    tau = np.array(QUANTILES)[None, :]
    loss = np.maximum(tau * (y - q), (tau - 1) * (y - q)).mean(axis=1)
    return p.assign(pinball=loss).drop(columns="nb_size")


def score_forecasts(points: pd.DataFrame, *, days_ahead: int = 28) -> pd.DataFrame:
    """WAPE, bias and scaled pinball per run date and group (``all``, ``demand_class``, ``category``)."""
    cols = ["as_of", "days_ahead", "group_by", "group_value", "n_series", "wape", "bias", "pinball"]
    if points.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for group_by in ("all", "demand_class", "category"):
        key = pd.Series("all", index=points.index) if group_by == "all" else points[group_by].fillna("unknown")
        for (as_of, value), g in points.groupby([points["as_of"], key], sort=True):
            total = g["actual"].sum()
            mean_actual = g["actual"].mean()
            rows.append(
                {
                    "as_of": as_of,
                    "days_ahead": days_ahead,
                    "group_by": group_by,
                    "group_value": str(value),
                    "n_series": int(g[KEYS].drop_duplicates().shape[0]),
                    "wape": float((g["actual"] - g["forecast"]).abs().sum() / total) if total > 0 else None,
                    "bias": float((g["forecast"].sum() - total) / total) if total > 0 else None,
                    "pinball": float(g["pinball"].mean() / mean_actual) if mean_actual > 0 else None,
                }
            )
    return pd.DataFrame(rows, columns=cols)


def accuracy_drops(points: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """Series whose WAPE rose most from the earlier to the later half of the scored run dates."""
    cols = [*KEYS, "wape_before", "wape_after", "change"]
    dates: np.ndarray = np.sort(points["as_of"].unique()) if len(points) else np.zeros(0)
    if len(dates) < 2:
        return pd.DataFrame(columns=cols)
    cut = dates[len(dates) // 2]
    half = np.where(points["as_of"] < cut, "before", "after")
    g = points.assign(_half=half, _err=(points["actual"] - points["forecast"]).abs())
    agg = g.groupby([*KEYS, "_half"]).agg(err=("_err", "sum"), act=("actual", "sum")).reset_index()
    agg["wape"] = agg["err"] / agg["act"].where(agg["act"] > 0)
    w = agg.pivot_table(index=KEYS, columns="_half", values="wape").reset_index()
    if not {"before", "after"} <= set(w.columns):
        return pd.DataFrame(columns=cols)
    w = w.rename(columns={"before": "wape_before", "after": "wape_after"}).dropna(subset=["wape_before", "wape_after"])
    w["change"] = w["wape_after"] - w["wape_before"]
    return w.sort_values("change", ascending=False).head(top).loc[:, cols].reset_index(drop=True)
