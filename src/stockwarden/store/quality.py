"""Quality tables (migration 0006): alert-effectiveness snapshots, kept forecasts and their scores.

* ``quality_snapshots``: each ``stockwarden quality`` run stores its measures, overall and per group
  (category, location, supplier), so trends show;
* ``forecast_snapshots``: the forecast a run made, compactly: per SKU-location the mean per day
  ahead as float32 bytes and the negative-binomial size (quantiles are recomputed from both);
* ``forecast_scores``: a kept forecast scored once its actuals arrived (WAPE, bias, pinball) per
  demand class and category.

The repository functions take a :class:`sqlalchemy.engine.Connection` and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from stockwarden.store.base import Base

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

MEASURES = (
    "episodes",
    "warned_in_time",
    "warned_1d",
    "median_warning_lead_days",
    "alerts",
    "effective",
    "false_alarms",
    "alerts_per_week",
    "alerts_per_planner_per_week",
    "feedback_useful",
    "feedback_false_alarm",
)

quality_snapshots = sa.Table(
    "quality_snapshots",
    Base.metadata,
    sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("period_start", sa.Date(), nullable=False),
    sa.Column("period_end", sa.Date(), nullable=False),
    sa.Column("group_by", sa.String(40), nullable=False),
    sa.Column("group_value", sa.Text(), nullable=False),
    *(sa.Column(m, sa.Float(), nullable=True) for m in MEASURES),
    sa.Index("ix_quality_snapshots_period", "period_end", "group_by"),
)

forecast_snapshots = sa.Table(
    "forecast_snapshots",
    Base.metadata,
    sa.Column("as_of", sa.Date(), primary_key=True),
    sa.Column("sku", sa.Text(), primary_key=True),
    sa.Column("location_id", sa.Text(), primary_key=True),
    sa.Column("category", sa.Text(), nullable=True),
    sa.Column("demand_class", sa.Text(), nullable=True),
    sa.Column("nb_size", sa.Float(), nullable=True),
    sa.Column("mean_f32", sa.LargeBinary(), nullable=False),
)

forecast_scores = sa.Table(
    "forecast_scores",
    Base.metadata,
    sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("as_of", sa.Date(), nullable=False),
    sa.Column("days_ahead", sa.Integer(), nullable=False),
    sa.Column("group_by", sa.String(40), nullable=False),
    sa.Column("group_value", sa.Text(), nullable=False),
    sa.Column("n_series", sa.Integer(), nullable=False),
    sa.Column("wape", sa.Float(), nullable=True),
    sa.Column("bias", sa.Float(), nullable=True),
    sa.Column("pinball", sa.Float(), nullable=True),
    sa.Index("ix_forecast_scores_as_of", "as_of", "group_by"),
)


def record_quality(
    conn: sa.Connection,
    result: dict[str, object],
    *,
    computed_at: dt.datetime,
    period_start: dt.date,
    period_end: dt.date,
) -> int:
    """Store one ``alert_effectiveness`` result (overall + groups); return the rows written."""
    groups = [{"group_by": "all", "group": "all", **result["overall"]}, *result["groups"]]  # type: ignore[dict-item,misc]
    rows = [
        {
            "computed_at": computed_at,
            "period_start": period_start,
            "period_end": period_end,
            "group_by": g["group_by"],
            "group_value": g["group"],
            **{m: None if g.get(m) is None else float(g[m]) for m in MEASURES},
        }
        for g in groups
    ]
    if rows:
        conn.execute(sa.insert(quality_snapshots), rows)
    return len(rows)


def load_quality_history(conn: sa.Connection, *, group_by: str = "all") -> pd.DataFrame:
    """Stored snapshots of one grouping, oldest first (the trend)."""
    q = (
        sa.select(quality_snapshots)
        .where(quality_snapshots.c.group_by == group_by)
        .order_by(quality_snapshots.c.computed_at, quality_snapshots.c.id)
    )
    return pd.DataFrame(conn.execute(q).mappings().all())


def record_forecast(
    conn: sa.Connection,
    *,
    as_of: dt.date,
    series: pd.DataFrame,
    mean: np.ndarray,
    locations: Sequence[str] | None = None,
    skus: Sequence[str] | None = None,
) -> int:
    """Keep a run's forecast: ``series`` (``sku, location_id`` + ``category, demand_class, size``), ``mean`` (n, H).

    The forecasts already kept for the same date are replaced: all of them, or with ``locations`` (and
    ``skus``) only those of these locations (and SKUs): the part of the company a partition forecasts.
    """
    t = forecast_snapshots
    replaced = sa.delete(t).where(t.c.as_of == as_of)
    if locations is not None:
        replaced = replaced.where(t.c.location_id.in_(list(locations)))
    if skus is not None:
        replaced = replaced.where(t.c.sku.in_(list(skus)))
    conn.execute(replaced)
    m = np.asarray(mean, dtype=np.float32)
    rows = [
        {
            "as_of": as_of,
            "sku": str(r["sku"]),
            "location_id": str(r["location_id"]),
            "category": None if pd.isna(r.get("category")) else str(r.get("category")),
            "demand_class": None if pd.isna(r.get("demand_class")) else str(r.get("demand_class")),
            "nb_size": None if pd.isna(r.get("size", np.nan)) else float(r["size"]),
            "mean_f32": m[i].tobytes(),
        }
        for i, r in enumerate(series.to_dict("records"))
    ]
    if rows:
        conn.execute(sa.insert(forecast_snapshots), rows)
    return len(rows)


def load_forecasts(conn: sa.Connection, *, since: dt.date | None = None) -> pd.DataFrame:
    """Kept forecasts: one row per run date and SKU-location with ``mean`` as a float array."""
    q = sa.select(forecast_snapshots)
    if since is not None:
        q = q.where(forecast_snapshots.c.as_of >= since)
    f = pd.DataFrame(conn.execute(q).mappings().all())
    if f.empty:
        return f
    f["mean"] = [np.frombuffer(b, dtype=np.float32).astype(float) for b in f.pop("mean_f32")]
    f["as_of"] = pd.to_datetime(f["as_of"])
    return f


def record_forecast_scores(conn: sa.Connection, scores: pd.DataFrame) -> int:
    """Store forecast scores (one row per date and group), replacing those of the same dates."""
    if scores.empty:
        return 0
    for day in scores["as_of"].unique():
        conn.execute(sa.delete(forecast_scores).where(forecast_scores.c.as_of == pd.Timestamp(day).date()))
    rows = scores.assign(as_of=pd.to_datetime(scores["as_of"]).dt.date).to_dict("records")
    conn.execute(sa.insert(forecast_scores), rows)
    return len(rows)


def keep_forecast(
    conn: sa.Connection,
    forecast: object,
    *,
    as_of: dt.date,
    locations: Sequence[str] | None = None,
    skus: Sequence[str] | None = None,
) -> int:
    """Keep a run's demand forecast (anything with ``series``, ``mean`` and optionally ``size``) compactly.

    ``locations`` / ``skus``: the forecast covers only these (a partition's); see :func:`record_forecast`.
    """
    series = getattr(forecast, "series", None)
    mean = getattr(forecast, "mean", None)
    if series is None or mean is None or not len(series):
        return 0
    s = series.reset_index(drop=True).loc[:, [c for c in ("sku", "location_id", "demand_class") if c in series]]
    size = getattr(forecast, "size", None)
    if size is not None:
        s = s.assign(size=np.asarray(size, dtype=float))
    return record_forecast(conn, as_of=as_of, series=s, mean=np.asarray(mean), locations=locations, skus=skus)


def load_alert_history(conn: sa.Connection) -> pd.DataFrame:
    """Stored alerts with their newest feedback verdict: ``sku, location_id, first_day, last_day, level, verdict``."""
    from stockwarden.store.alerts import AlertFeedbackRow, AlertRow

    a = AlertRow.__table__
    fb = AlertFeedbackRow.__table__
    alerts = pd.DataFrame(
        conn.execute(sa.select(a.c.id, a.c.sku, a.c.location_id, a.c.first_as_of, a.c.last_as_of, a.c.level, a.c.kind))
        .mappings()
        .all(),
        columns=["id", "sku", "location_id", "first_as_of", "last_as_of", "level", "kind"],
    )
    feedback = pd.DataFrame(
        conn.execute(sa.select(fb.c.alert_id, fb.c.at, fb.c.verdict).order_by(fb.c.at, fb.c.id)).mappings().all(),
        columns=["alert_id", "at", "verdict"],
    )
    last = feedback.drop_duplicates("alert_id", keep="last").set_index("alert_id")["verdict"]
    alerts = alerts.loc[alerts["level"].isin(["warning", "critical"])]
    return pd.DataFrame(
        {
            "sku": alerts["sku"].astype(str),
            "location_id": alerts["location_id"].astype(str),
            "first_day": pd.to_datetime(alerts["first_as_of"]),
            "last_day": pd.to_datetime(alerts["last_as_of"]),
            "level": alerts["level"],
            "verdict": alerts["id"].map(last),
        }
    ).reset_index(drop=True)
