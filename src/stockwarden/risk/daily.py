"""One day's assessment, the one code path of ``stockwarden run``, ``assess`` and ``backtest``.

Every face that assesses a dataset on a date goes through these functions, so the daily run acts on
exactly what the backtest measured:

* :func:`forecast_for` forecasts ``max(forecast.horizon_days, what the assessment reads)`` days with
  the run's mode and seed, from at most ``forecast.history_days`` days of demand history;
* :func:`lead_times_for` and :func:`anomalies_for` estimate the lead-time model and the anomalies;
* :func:`assess_frame` turns them into the assessment frame (``assess_risk`` plus each row's data health).

The policy levels (safety stock, reorder point, order-up-to) and the suggested quantity read only the
protection interval, so neither the forecast's length nor ``--horizon`` moves them (see
:mod:`stockwarden.risk.policy` and :mod:`stockwarden.risk.assess`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.assess import RiskAdjuster, assess_risk
from stockwarden.risk.inputs import DemandSource, LeadTimeModelLike, required_horizon_days


def forecast_days(ds: Dataset, rules: RulesConfig, *, horizon_days: int | None = None) -> int:
    """Days forecast: the run's horizon, or the longest protection interval (or ``horizon_days``) if longer."""
    return max(int(rules.forecast.horizon_days), required_horizon_days(ds, rules.risk, horizon_days=horizon_days))


def forecast_for(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    rules: RulesConfig,
    horizon_days: int | None = None,
    backend: Any = "local",
    history: pd.DataFrame | None = None,
    days: int | None = None,
    n_jobs: int | None = None,
) -> Any:
    """The demand forecast the assessment of ``as_of`` uses (mode, seed and history window from ``rules``).

    Args:
        ds: the dataset (only what was known at ``as_of`` is used).
        as_of: the assessment date.
        rules: the rules in force (``run.forecast_mode``, ``run.seed``, ``forecast.*``).
        horizon_days: the assessment's ``--horizon``, when given (the forecast covers it).
        backend: where the forecast runs (``"local"``, ``"dask"`` or a ``DaskBackend``).
        history: a prebuilt demand history (the backtest builds it once); cut at ``as_of`` here.
        days: forecast this many days instead of :func:`forecast_days` (a backtest that rolls a
            forecast over several checkpoints needs more).
        n_jobs: forecast threads/processes of the local engine (default all cores; 1 on a Dask worker).
    """
    from stockwarden.forecast.engine import forecast_demand
    from stockwarden.forecast.history import build_demand_history

    day = pd.Timestamp(as_of).normalize()
    window = rules.forecast.history_days
    if window is not None:
        if history is None:
            history = build_demand_history(ds, as_of=day)
        history = history.loc[(history["date"] > day - pd.Timedelta(days=window)) & (history["date"] <= day)]
    return forecast_demand(
        ds,
        as_of=day,
        horizon_days=days if days is not None else forecast_days(ds, rules, horizon_days=horizon_days),
        seed=rules.run.seed,
        mode=rules.run.forecast_mode,
        backend=backend,
        history=history,
        n_jobs=n_jobs,
    )


def lead_times_for(ds: Dataset, *, as_of: pd.Timestamp, rules: RulesConfig) -> Any:
    """The lead-time model as of ``as_of``."""
    from stockwarden.forecast.leadtime import estimate_lead_times

    return estimate_lead_times(ds, as_of=pd.Timestamp(as_of).normalize(), rules=rules)


def anomalies_for(ds: Dataset, *, as_of: pd.Timestamp, forecast: Any, rules: RulesConfig) -> pd.DataFrame:
    """Supply and data anomalies as of ``as_of`` (they become reason codes)."""
    from stockwarden.anomaly.detect import detect_anomalies

    return detect_anomalies(ds, as_of=pd.Timestamp(as_of).normalize(), forecast=forecast, rules=rules)


def assess_frame(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    forecast: DemandSource,
    lead_times: LeadTimeModelLike,
    anomalies: pd.DataFrame | None,
    rules: RulesConfig,
    horizon_days: int | None = None,
    adjuster: RiskAdjuster | None = None,
) -> pd.DataFrame:
    """The assessment frame from the day's forecast, lead times and anomalies, with each row's data health.

    The run's ``assess`` step, :func:`assess_day` and every backtest checkpoint call this.
    """
    from stockwarden.ingest.freshness import add_data_health

    day = pd.Timestamp(as_of).normalize()
    frame = assess_risk(
        ds,
        as_of=day,
        forecast=forecast,
        lead_times=lead_times,
        anomalies=anomalies,
        rules=rules,
        horizon_days=horizon_days,
        adjuster=adjuster,
    )
    return add_data_health(frame, ds, day, rules.health)


@dataclass(frozen=True)
class DayAssessment:
    """Everything one day's assessment made: the forecast, lead times, anomalies and the risk frame."""

    forecast: Any
    lead_times: Any
    anomalies: pd.DataFrame | None
    assessment: pd.DataFrame


def assess_day(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    rules: RulesConfig,
    horizon_days: int | None = None,
    backend: Any = "local",
    with_anomalies: bool = True,
    forecast: DemandSource | None = None,
    lead_times: LeadTimeModelLike | None = None,
    adjuster: RiskAdjuster | None = None,
) -> DayAssessment:
    """Forecast, lead times, anomalies and the risk assessment of ``ds`` as of ``as_of``.

    ``forecast`` and ``lead_times`` may be given when already made for this date (the backtest's
    rolled forecasts, the run's resumed steps); otherwise they are made here with :func:`forecast_for`
    and :func:`lead_times_for`.
    """
    day = pd.Timestamp(as_of).normalize()
    fc = forecast
    if fc is None:
        fc = forecast_for(ds, as_of=day, rules=rules, horizon_days=horizon_days, backend=backend)
    lt = lead_times if lead_times is not None else lead_times_for(ds, as_of=day, rules=rules)
    anomalies = anomalies_for(ds, as_of=day, forecast=fc, rules=rules) if with_anomalies else None
    frame = assess_frame(
        ds,
        as_of=day,
        forecast=fc,
        lead_times=lt,
        anomalies=anomalies,
        rules=rules,
        horizon_days=horizon_days,
        adjuster=adjuster,
    )
    return DayAssessment(forecast=fc, lead_times=lt, anomalies=anomalies, assessment=frame)
