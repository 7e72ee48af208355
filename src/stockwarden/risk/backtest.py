"""Backtest: assess risk at a series of past checkpoints using only what was known at each.

At every checkpoint ``start, start + every, ... <= end`` the lead-time model is re-estimated and the
demand forecast refit (every ``refit_every`` checkpoints; in between, the last forecast is *rolled*:
its days after the new checkpoint are used, so no forecast ever sees data after its own as-of date),
anomalies are detected when a detector is given, and :func:`assess_risk` runs. The learned model,
when enabled, is trained at each checkpoint only on earlier checkpoints whose outcome was already
known (the protection interval had passed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RulesConfig
from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.assess import assess_risk
from stockwarden.risk.inputs import DemandSource, LeadTimeModelLike

ForecastFn = Callable[..., DemandSource]
LeadTimeFn = Callable[..., LeadTimeModelLike]
AnomalyFn = Callable[..., pd.DataFrame]


class Progress(Protocol):
    """Called after each checkpoint with (done, total, as_of)."""

    def __call__(self, done: int, total: int, as_of: pd.Timestamp) -> None:
        """Report progress."""
        ...


def checkpoints(start: pd.Timestamp | str, end: pd.Timestamp | str, every_days: int) -> list[pd.Timestamp]:
    """``start, start + every, ...`` up to and including ``end``."""
    if every_days <= 0:
        raise ValueError(f"every must be a positive number of days, got {every_days}")
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    return list(pd.date_range(s, e, freq=f"{int(every_days)}D"))


@dataclass(frozen=True)
class _RolledForecast:
    """Any forecast seen from a later date: its paths without the days already past."""

    base: DemandSource
    shift: int

    @property
    def series(self) -> pd.DataFrame:
        return self.base.series

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.base.dates[self.shift :]

    def sample_paths(self, n_paths: int, *, seed: int) -> np.ndarray:
        return self.base.sample_paths(n_paths, seed=seed)[:, :, self.shift :]


def roll_forecast(forecast: Any, as_of: pd.Timestamp) -> Any:
    """The part of a forecast made earlier that lies after ``as_of`` (dates re-based, nothing refit)."""
    shift = int((as_of - forecast.dates[0]).days) + 1
    if shift <= 0:
        return forecast
    if not all(hasattr(forecast, a) for a in ("mean", "daily", "as_of")):
        return _RolledForecast(forecast, shift)
    daily = forecast.daily
    if len(daily) and "date" in daily.columns:
        daily = daily.loc[daily["date"] > as_of]
    return replace(forecast, mean=forecast.mean[:, shift:], dates=forecast.dates[shift:], daily=daily, as_of=as_of)


def run_backtest(
    ds: Dataset,
    *,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    every_days: int,
    forecast_fn: ForecastFn,
    lead_time_fn: LeadTimeFn,
    anomaly_fn: AnomalyFn | None = None,
    rules: RulesConfig | None = None,
    horizon_days: int | None = None,
    refit_every: int = 1,
    learned: bool | None = None,
    learned_refit_every: int = 4,
    warmup_days: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Assess every checkpoint and stack the rows (a row per checkpoint and SKU-location).

    Args:
        ds: the whole dataset (each step sees only what was known at its checkpoint).
        start, end, every_days: the checkpoints.
        forecast_fn: ``(ds, *, as_of, horizon_days) -> DemandForecast``.
        lead_time_fn: ``(ds, *, as_of) -> LeadTimeModel``.
        anomaly_fn: ``(ds, *, as_of, forecast) -> anomalies`` (optional; reasons only).
        rules: business rules (defaults when None).
        horizon_days: one H for all SKU-locations (see :func:`assess_risk`).
        refit_every: refit the demand forecast every this many checkpoints (1 = at every one).
        learned: use the learned classifier (None: follow ``rules.risk.learned_model``; "auto" keeps it
            only when it beat the projection on the earlier checkpoints).
        learned_refit_every: retrain the learned classifier every this many checkpoints.
        warmup_days: also assess checkpoints up to this many days before ``start`` (same cadence), only
            as training history for the learned classifier; they are not in the output.
        progress: optional callback.

    Returns:
        The stacked assessment frames, in checkpoint order.
    """
    cfg = rules or RulesConfig()
    r: RiskRules = cfg.risk
    first = pd.Timestamp(start).normalize()
    use_learned = r.learned_model != "never" if learned is None else learned
    # warm-up checkpoints only train the learned model, and only where the data has begun
    n_warm = int(warmup_days) // int(every_days) if use_learned else 0
    dates = checkpoints(first - pd.Timedelta(days=n_warm * every_days), end, every_days)
    begun = _first_sale_date(ds)
    dates = [d for d in dates if d >= first or (begun is not None and d > begun)]
    from stockwarden.risk.daily import forecast_days

    # the daily run's forecast length, plus the days a forecast is rolled over before the next refit
    fc_days = forecast_days(ds, cfg, horizon_days=horizon_days) + every_days * (max(refit_every, 1) - 1)
    frames: list[pd.DataFrame] = []
    fc: Any = None
    mode = r.learned_model if learned is None else ("always" if learned else "never")
    from stockwarden.risk.learned import LearnedRiskModel, build_training_set, segment_of

    model: LearnedRiskModel | None = None
    # Labels are cached: a row's outcome depends only on its own protection interval, so once that has
    # passed, labelling it again at a later checkpoint gives the same label (and costs the same again).
    labelled: list[pd.DataFrame] = []
    pending: pd.DataFrame | None = None
    for i, day in enumerate(dates):
        if fc is None or i % max(refit_every, 1) == 0:
            fc = forecast_fn(ds, as_of=day, horizon_days=fc_days)
            current = fc
        else:
            current = roll_forecast(fc, day)
        lt = lead_time_fn(ds, as_of=day)
        an = anomaly_fn(ds, as_of=day, forecast=current) if anomaly_fn is not None else None
        if use_learned and frames and (model is None or i % max(learned_refit_every, 1) == 0):
            if pending is not None:
                known = _known_by(pending, day)
                if known.any():
                    labelled.append(build_training_set(ds, pending.loc[known], as_of=day))
                    pending = pending.loc[~known]
            train = pd.concat(labelled, ignore_index=True) if labelled else frames[0].iloc[:0].assign(label=0)
            model = LearnedRiskModel.fit(train, seed=r.seed, mode=mode)
        adjuster = model if model is not None and model.is_useful else None
        a = assess_risk(
            ds,
            as_of=day,
            forecast=current,
            lead_times=lt,
            anomalies=an,
            rules=cfg,
            horizon_days=horizon_days,
            adjuster=adjuster,
        )
        a["model_source"] = "projection"
        if adjuster is not None:
            a.loc[np.isin(segment_of(a), list(adjuster.segments)), "model_source"] = "learned"
        frames.append(a)
        if use_learned:
            pending = a if pending is None else pd.concat([pending, a], ignore_index=True)
        if progress is not None:
            progress(i + 1, len(dates), day)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out["as_of"] = pd.to_datetime(out["as_of"])
    return out.loc[out["as_of"] >= first].reset_index(drop=True)


def _first_sale_date(ds: Dataset) -> pd.Timestamp | None:
    """The first day with a sale, None when there is none."""
    dates = ds.sales["date"]
    return pd.Timestamp(dates.min()).normalize() if len(dates) else None


def _known_by(rows: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """Rows whose protection interval has passed by ``day`` (their outcome is known)."""
    end = pd.to_datetime(rows["as_of"]) + pd.to_timedelta(rows["horizon_days"], unit="D")
    return (end <= day).to_numpy()


def realised_stockouts(ds: Dataset, assessments: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Outcome of earlier checkpoints whose protection interval ended by ``as_of`` (the training labels).

    Counterfactual "nothing new ordered" stock is rebuilt from what is known at ``as_of``: the stock
    at the checkpoint, minus sales after it, plus receipts of the POs that were already open then.
    A stockout is a day on which that stock would not cover the day's sales, or a day that ended with
    a zero count (the shelf was empty while the item sells). Sales are censored by stockouts, but
    the first stockout day is seen correctly: until then sales were the demand.

    Returns:
        ``assessments`` rows (with ``as_of + horizon_days <= as_of``) plus ``label`` (0/1).
    """
    from stockwarden.risk.position import open_purchase_orders

    d = pd.Timestamp(as_of).normalize()
    a = assessments.loc[
        pd.to_datetime(assessments["as_of"]) + pd.to_timedelta(assessments["horizon_days"], unit="D") <= d
    ].copy()
    if a.empty:
        return a.assign(label=pd.Series(dtype=int))
    known = ds.as_of(d)
    keys = ["sku", "location_id"]
    sales = known.sales.loc[known.sales["qty"] > 0].groupby([*keys, "date"])["qty"].sum().rename("sold").reset_index()
    inv = known.inventory.groupby([*keys, "date"])["on_hand"].last().rename("count").reset_index()
    labels = np.zeros(len(a), dtype=int)
    a = a.reset_index(drop=True)
    for day, g in a.groupby("as_of", sort=False):
        day = pd.Timestamp(day)
        hmax = int(g["horizon_days"].max())
        grid = g[[*keys, "on_hand", "horizon_days"]].assign(_row=g.index)
        days = pd.DataFrame({"t": np.arange(1, hmax + 1)})
        grid = grid.merge(days, how="cross")
        grid = grid.loc[grid["t"] <= grid["horizon_days"]]
        grid["date"] = day + pd.to_timedelta(grid["t"], unit="D")
        opened = open_purchase_orders(known, as_of=day)
        po = known.purchase_orders.merge(opened[["po_id", "sku", "location_id"]], on=["po_id", "sku", "location_id"])
        po = po.loc[po["received_date"].notna()]
        rec = po.groupby([*keys, "received_date"])["received_qty"].sum().rename("rec").reset_index()
        rec = rec.rename(columns={"received_date": "date"})
        grid = grid.merge(sales, on=[*keys, "date"], how="left").merge(rec, on=[*keys, "date"], how="left")
        grid = grid.merge(inv, on=[*keys, "date"], how="left")
        grid = grid.fillna({"sold": 0.0, "rec": 0.0}).sort_values(["_row", "t"])
        grid["stock"] = grid["on_hand"] + grid.groupby("_row")["rec"].cumsum() - grid.groupby("_row")["sold"].cumsum()
        before = grid["stock"] + grid["sold"]
        short = (grid["sold"] > before + 1e-9) | (grid["stock"] < -1e-9) | (grid["count"] <= 0)
        hit = grid.loc[short, "_row"].unique()
        labels[hit] = 1
    return a.assign(label=labels)
