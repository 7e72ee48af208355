"""Use-case: how the company's own alerts did against what happened (alert effectiveness), in the actor's scope.

The measures are :func:`stockwarden.quality.report.assess_alert_quality` over the stored alerts (warning and
critical, with their newest feedback verdict) and the imported counts, sales and purchase orders, judged over
``since`` (default 90 days back) .. the newest data, overall and per category, location and supplier, never from
before the day after the first completed run (a stockout before could not have been warned a day ahead). A user
limited to locations or categories sees the measures of their SKU-locations only (the data outside is left out
before anything is computed). Read-only: ``stockwarden quality`` stores snapshots for the trend.

Results are kept per process, keyed by the data they were computed from (imports, alerts, feedback, rules
version), the period and the scope: the overview recomputes only after new data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import InputError, PermissionDenied
from stockwarden.services.common import require
from stockwarden.services.context import AppContext
from stockwarden.services.data import scoped_dataset

DEFAULT_PERIOD_DAYS = 90
_CACHE_KEY = "alert_quality"
_CACHE_SIZE = 16


def _fingerprint(conn: sa.Connection) -> tuple[Any, ...]:
    """What the measures depend on: the newest import, alert change and feedback."""
    out: list[Any] = []
    for sql in (
        "SELECT max(id) FROM import_batches",
        "SELECT count(*), max(id), max(last_as_of) FROM alerts",
        "SELECT count(*), max(id) FROM alert_feedback",
        "SELECT min(as_of) FROM runs WHERE status = 'completed'",
    ):
        out.extend(conn.execute(sa.text(sql)).one())
    return tuple(str(x) for x in out)


def alert_quality(ctx: AppContext, *, actor: Actor, since: dt.date | None = None, planners: int = 1) -> dict[str, Any]:
    """Alert effectiveness in the actor's scope.

    Returns:
        ``{"period": {"since", "until"}, "overall": {...}, "groups": [...], "unlabelled_alerts": n,
        "enough_history": bool}`` with the measures of
        :func:`stockwarden.quality.effectiveness.alert_effectiveness`; ``enough_history`` is False while no
        stockout began and no alert could be judged in the period (nothing to measure yet). Without imported
        data or a completed run the period is ``None`` and ``enough_history`` False. ``period.since`` is the
        day after the first completed run when ``since`` is earlier.

    Raises:
        InputError: ``since`` after the newest data, or ``planners`` below 1.
    """
    from stockwarden.quality.report import EPISODE_LOOK_BACK_DAYS, assess_alert_quality
    from stockwarden.services.rules import current_rules
    from stockwarden.store.partition import last_date
    from stockwarden.store.quality import load_alert_history
    from stockwarden.store.repo import load_dataset_since

    require(actor, Permission.READ)
    if planners < 1:
        raise InputError(f"planners must be at least 1, not {planners}")
    version, rules = current_rules(ctx)
    with ctx.engine.connect() as conn:
        key = (
            _fingerprint(conn),
            version.rules_hash,
            since,
            planners,
            tuple(sorted(actor.scope.locations)),
            tuple(sorted(actor.scope.categories)),
        )
    cache: dict[Any, dict[str, Any]] = ctx.cache.setdefault(_CACHE_KEY, {})
    if key in cache:
        return cache[key]
    newest = last_date(ctx.engine)
    if newest is None:
        return {"period": None, "overall": None, "groups": [], "unlabelled_alerts": 0, "enough_history": False}
    until = pd.Timestamp(newest)
    start = pd.Timestamp(since) if since is not None else until - pd.Timedelta(days=DEFAULT_PERIOD_DAYS)
    if start > until:
        raise InputError(f"since {start.date()} is after the newest data ({until.date()})")
    with ctx.engine.connect() as conn:
        alerts = load_alert_history(conn)
        first_run = conn.execute(sa.text("SELECT min(as_of) FROM runs WHERE status = 'completed'")).scalar()
    if first_run is None:
        return {"period": None, "overall": None, "groups": [], "unlabelled_alerts": 0, "enough_history": False}
    # a stockout could be warned a day ahead only from the day after the first run
    start = max(start, pd.Timestamp(first_run) + pd.Timedelta(days=1))
    if start > until:
        return {"period": None, "overall": None, "groups": [], "unlabelled_alerts": 0, "enough_history": False}
    # only the period and the look back its measures need: a large company's history never enters memory
    ds = load_dataset_since(ctx.engine, (start - pd.Timedelta(days=EPISODE_LOOK_BACK_DAYS)).date())
    scope = actor.scope
    if not scope.is_unrestricted:
        ds = scoped_dataset(ds, scope)
        skus = set(ds.items["sku"].astype(str)) if scope.categories else None
        if scope.locations:
            alerts = alerts.loc[alerts["location_id"].isin(scope.locations)]
        if skus is not None:
            alerts = alerts.loc[alerts["sku"].isin(skus)]
    result = assess_alert_quality(
        ds,
        alerts,
        since=start,
        until=until,
        review_period_days=rules.risk.review_period_days,
        default_lead_time_days=rules.forecast.default_lead_time_days,
        planners=planners,
    )
    o: dict[str, Any] = result["overall"]  # type: ignore[assignment]
    result["enough_history"] = bool(o["episodes"]) or o["effective"] is not None
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = result
    return result


def false_alarm_marks(ctx: AppContext, *, actor: Actor) -> pd.DataFrame:
    """``sku, location_id, first_day, last_day`` of the stored alerts a planner marked false alarm, in the
    actor's scope (what ``tune`` counts against a threshold)."""
    from stockwarden.store.quality import load_alert_history

    require(actor, Permission.READ)
    with ctx.engine.connect() as conn:
        a = load_alert_history(conn)
    if actor.scope.locations:
        a = a.loc[a["location_id"].astype(str).isin(actor.scope.locations)]
    return a.loc[a["verdict"] == "false_alarm", ["sku", "location_id", "first_day", "last_day"]]


@dataclass(frozen=True)
class QualityEvaluation:
    """What ``stockwarden quality`` shows and stores: the alert measures (as :func:`alert_quality` returns
    them), the kept forecasts' scores per run and group, the series whose accuracy fell most, and the
    stored snapshots (trend)."""

    start: pd.Timestamp
    until: pd.Timestamp
    result: dict[str, Any]
    scores: pd.DataFrame
    drops: pd.DataFrame
    trend: pd.DataFrame


def evaluate_quality(
    ctx: AppContext,
    *,
    actor: Actor,
    since: pd.Timestamp | None = None,
    planners: int = 1,
    days_ahead: int = 28,
    rules: Any = None,
) -> QualityEvaluation:
    """Judge the stored alerts against what happened since ``since`` (default :data:`DEFAULT_PERIOD_DAYS`
    back from the newest data), score the kept forecasts ``days_ahead`` days after each run, and store both
    (a snapshot for the trend). Unscoped users only (the snapshot is the company's).

    Raises:
        InputError: no data yet, or ``since`` after the newest data. PermissionDenied: a scoped user.
    """
    from stockwarden.quality.forecast_accuracy import accuracy_drops, score_forecasts, score_points
    from stockwarden.quality.report import assess_alert_quality
    from stockwarden.services.rules import current_rules
    from stockwarden.store.quality import (
        load_alert_history,
        load_forecasts,
        load_quality_history,
        record_forecast_scores,
        record_quality,
    )
    from stockwarden.store.repo import load_dataset_from_db

    require(actor, Permission.READ)
    if not actor.scope.is_unrestricted:
        raise PermissionDenied("the stored quality snapshots are the company's: ask an unscoped user, or use the API")
    cfg = rules if rules is not None else current_rules(ctx)[1]
    ds = load_dataset_from_db(ctx.engine)
    until = ds.last_date
    if until is None:
        raise InputError("the database holds no sales or inventory yet: import a dataset first")
    start = since if since is not None else until - pd.Timedelta(days=DEFAULT_PERIOD_DAYS)
    if start > until:
        raise InputError(f"--since {start.date()} is after the newest data ({until.date()})")
    with ctx.engine.connect() as conn:
        alerts = load_alert_history(conn)
        kept = load_forecasts(conn, since=(start - pd.Timedelta(days=days_ahead)).date())
    result = assess_alert_quality(
        ds,
        alerts,
        since=start,
        until=until,
        review_period_days=cfg.risk.review_period_days,
        default_lead_time_days=cfg.forecast.default_lead_time_days,
        planners=planners,
    )
    scores = pd.DataFrame()
    drops = pd.DataFrame()
    if len(kept):
        cats = ds.items.drop_duplicates("sku").set_index("sku")["category"]
        kept = kept.assign(category=kept["sku"].map(cats))
        inv = ds.inventory.loc[:, ["sku", "location_id", "date", "on_hand"]]
        actuals = ds.sales.loc[:, ["date", "sku", "location_id", "qty"]].merge(
            inv.assign(is_censored=inv["on_hand"] <= 0).drop(columns="on_hand"),
            on=["sku", "location_id", "date"],
            how="outer",
        )
        actuals = actuals.assign(qty=actuals["qty"].fillna(0.0), is_censored=actuals["is_censored"].fillna(False))
        points = score_points(kept, actuals, today=until, days_ahead=days_ahead)
        scores = score_forecasts(points, days_ahead=days_ahead)
        drops = accuracy_drops(points)
    with ctx.engine.begin() as conn:
        record_quality(conn, result, computed_at=ctx.now(), period_start=start.date(), period_end=until.date())
        record_forecast_scores(conn, scores)
        trend = load_quality_history(conn)
    return QualityEvaluation(start, until, result, scores, drops, trend)


__all__ = ["DEFAULT_PERIOD_DAYS", "QualityEvaluation", "alert_quality", "evaluate_quality", "false_alarm_marks"]
