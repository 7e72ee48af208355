"""Assess stockout risk of every SKU-location as of a date: the issue-4 assessment frame.

``assess_risk`` wires the pure pieces: inventory position (:mod:`.position`), Monte Carlo stock
projection with the forecast's demand paths and the open POs' arrival distributions
(:mod:`.coverage`), simulated safety stock / reorder point / order-up-to (:mod:`.policy`), levels
(:mod:`.levels`) and reason codes (:mod:`.reasons`). It takes the forecast and the lead-time model as
values, so it never refits anything itself.

``stockout_probability`` = P(stockout within H days if nothing new is ordered), with
H = the stated lead time (``items.lead_time_days``, else the supplier's, else the learned median)
+ the review period (per category), or one ``horizon_days`` for all when given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RulesConfig
from stockwarden.domain.risk import ASSESSMENT_COLUMNS, EXTRA_COLUMNS
from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.allocation import make_allocator
from stockwarden.risk.coverage import (
    OpenSupply,
    concat_coverage,
    days_of_cover,
    first_stockout_before,
    project_chunk,
    window_probability,
)
from stockwarden.risk.inputs import (
    DemandSource,
    LeadTimeModelLike,
    build_frame,
    demand_paths_for,
    protection_demand,
    recent_daily_sales,
)
from stockwarden.risk.levels import assign_levels, thresholds_for
from stockwarden.risk.policy import protection_policy, round_order_qty, window_moments
from stockwarden.risk.position import open_purchase_orders
from stockwarden.risk.reasons import build_reasons

KEYS = ["sku", "location_id"]


class RiskAdjuster(Protocol):
    """Something that refines the projection's probability (the learned model of :mod:`.learned`)."""

    def adjust(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the refined stockout probability per row of the assessment frame."""
        ...


def assess_risk(
    ds: Dataset,
    *,
    as_of: pd.Timestamp | str,
    forecast: DemandSource,
    lead_times: LeadTimeModelLike,
    anomalies: pd.DataFrame | None = None,
    rules: RulesConfig | RiskRules | None = None,
    horizon_days: int | None = None,
    adjuster: RiskAdjuster | None = None,
) -> pd.DataFrame:
    """The risk assessment of every forecast SKU-location at the end of ``as_of``.

    Args:
        ds: the dataset (rows after ``as_of`` are ignored).
        as_of: the assessment date.
        forecast: the demand forecast made as of ``as_of`` (``.series``, ``.dates``, ``.sample_paths``).
        lead_times: the lead-time model estimated as of ``as_of``.
        anomalies: anomaly records (issue 5), turned into reason codes.
        rules: the rules config or its ``risk`` section (defaults when None).
        horizon_days: one H for every SKU-location instead of lead time + review period.
        adjuster: optional learned model that refines ``stockout_probability``.

    Returns:
        One row per SKU-location: :data:`ASSESSMENT_COLUMNS` then :data:`EXTRA_COLUMNS`, sorted by
        urgency (level, then probability).

    Example:
        >>> fc = forecast_demand(ds, as_of="2016-03-01", horizon_days=28)  # doctest: +SKIP
        >>> lt = estimate_lead_times(ds, as_of="2016-03-01")  # doctest: +SKIP
        >>> assess_risk(ds, as_of="2016-03-01", forecast=fc, lead_times=lt).head()  # doctest: +SKIP
    """
    r = rules.risk if isinstance(rules, RulesConfig) else (rules or RiskRules())
    d = pd.Timestamp(as_of).normalize()
    known = ds.as_of(d)
    f, lt_pmf = build_frame(
        known, as_of=d, forecast=forecast, lead_times=lead_times, rules=r, horizon_days=horizon_days
    )
    n = len(f)
    review = f["review_period_days"].to_numpy(np.int64)
    h = np.maximum(f["horizon_days"].to_numpy(np.int64), 1)
    lead = np.maximum(np.ceil(f["lead_time_days"].to_numpy(float)).astype(np.int64), 1)
    protection = np.maximum(lead + review, 1)  # the SKU's protection interval, whatever --horizon says
    h_learned = np.maximum(f["learned_lead_time_days"].to_numpy(float).round().astype(np.int64) + review, 1)
    expedite = max(int(np.ceil(r.expedite_lead_time_days)), 1)
    # each row simulates the days it reads, no more: nothing a row gets depends on the forecast's length
    window = np.maximum.reduce([h, protection, h_learned, np.full(n, expedite, dtype=np.int64)]) if n else h
    days = int(window.max()) if n else 1
    lead = np.minimum(lead, h)

    open_po, supply = _open_supply(known, f, lead_times, as_of=d, days=days)
    # long out-of-stock series without observed demand borrow their SKU's demand elsewhere
    # (censored_demand_rows); paths depend only on the row's own forecast (common random numbers)
    demand_row = f["demand_row"].to_numpy()
    paths_of = demand_paths_for(forecast, demand_row, n_paths=r.n_paths, seed=r.seed, days=days, window_days=window)
    usable = (f["on_hand"] - f["backorders"]).to_numpy(float)
    service = f["service_level"].to_numpy(float)
    cov_parts = []
    for start in range(0, n, r.chunk_series):
        rows = np.arange(start, min(start + r.chunk_series, n))
        cov_parts.append(
            project_chunk(
                on_hand=usable[rows],
                demand_paths=paths_of(rows),
                supply=supply.rows(start, start + len(rows)),
                horizon_days=h[rows],
                seed=r.seed,
                window_days=window[rows],
            )
        )
    cov = concat_coverage(cov_parts)
    demand = protection_demand(forecast, demand_row, days=days)
    pol = protection_policy(
        daily_mean=demand.mean,
        size=demand.size,
        level_shape=demand.level_shape,
        lead_time_pmf=lt_pmf,
        review_period_days=review,
        service_level=service,
        service_measure=r.service_measure,
        allocate=None if r.service_allocation == "flat" else _allocator(known, f, lt_pmf, r, as_of=d),
        independent_lead_times=r.independent_lead_times,
    )
    if pol.service_level is not None:
        f["service_level"] = pol.service_level  # the level each row's policy was computed at
    mean_h, sd_h = window_moments(demand.mean, demand.size, demand.level_shape, days=h)

    f["expedite_days"] = expedite
    f["p_before_expedite"] = cov.stockout_curve[:, expedite - 1] if n else np.zeros(0)
    f["p_stockout_learned_interval"] = cov.stockout_curve[np.arange(n), h_learned - 1] if n else np.zeros(0)
    f["p_before_lead_time"] = first_stockout_before(cov.stockout_curve, lead)
    f["expected_short"] = cov.expected_short
    f["mean_daily_forecast"] = mean_h / h
    f["protection_cv"] = np.where(mean_h > 0, sd_h / np.maximum(mean_h, 1e-9), 0.0)
    f["reorder_point"] = pol.reorder_point
    f["safety_stock"] = pol.safety_stock
    f["order_up_to"] = pol.order_up_to
    f["days_of_cover"] = days_of_cover(usable, f["mean_daily_forecast"].to_numpy())
    f["recent_daily_sales"] = recent_daily_sales(known, f[KEYS], as_of=d)
    overdue = open_po.groupby(KEYS)["days_overdue"].max().rename("max_days_overdue").reset_index()
    f["max_days_overdue"] = f[KEYS].merge(overdue, on=KEYS, how="left")["max_days_overdue"].fillna(0.0).to_numpy()
    prob = _below_resolution(cov.p_stockout, cov.expected_receipts, usable, mean_h, sd_h, n_paths=r.n_paths)
    f["projection_probability"] = prob
    if adjuster is not None and n:
        f["stockout_probability"] = prob
        prob = np.clip(adjuster.adjust(f), 0.0, 1.0)
    f["stockout_probability"] = prob
    f["p_order_window"] = window_probability(
        stockout_probability=prob,
        projection_within=cov.p_stockout,
        projection_before=f["p_before_lead_time"].to_numpy(),
        window_days=h - lead + 1,
        horizon_days=h,
        resolution=1.0 / r.n_paths,
    )

    def day_to_date(x: np.ndarray) -> pd.Series:
        return pd.Series(pd.NaT, index=f.index).where(np.isnan(x), d + pd.to_timedelta(np.nan_to_num(x), unit="D"))

    expected = np.where(cov.p_stockout >= 0.5, cov.stockout_day_p50, np.nan)
    f["expected_stockout_date"] = day_to_date(expected)
    f["stockout_date_p10"] = day_to_date(np.where(np.isnan(expected), np.nan, cov.stockout_day_p10))
    f["stockout_date_p90"] = day_to_date(np.where(np.isnan(expected), np.nan, cov.stockout_day_p90))

    th = thresholds_for(f["category"], r)
    f["critical_probability"] = th["critical_probability"].to_numpy()
    oos = (usable <= 0) & (f["mean_daily_forecast"].to_numpy() > 0)
    f["level"] = assign_levels(
        stockout_probability=f["stockout_probability"].to_numpy(),
        p_before_expedite=f["p_before_expedite"].to_numpy(),
        is_out_of_stock=oos,
        thresholds=th,
        p_order_window=f["p_order_window"].to_numpy(),
    )
    if horizon_days is None:
        order_level = f["level"]
    else:
        # the order decision reads the protection interval, not the --horizon window
        rows_ = np.arange(n)
        p_prot = cov.stockout_curve[rows_, np.minimum(protection, days) - 1] if n else np.zeros(0)
        mean_p, sd_p = window_moments(demand.mean, demand.size, demand.level_shape, days=protection)
        # receipts by H only refine probabilities below 1 / n_paths
        p_prot = _below_resolution(p_prot, cov.expected_receipts, usable, mean_p, sd_p, n_paths=r.n_paths)
        lead_p = np.minimum(np.maximum(np.ceil(f["lead_time_days"].to_numpy(float)).astype(np.int64), 1), protection)
        before_p = first_stockout_before(cov.stockout_curve, lead_p)
        order_level = pd.Series(
            assign_levels(
                stockout_probability=p_prot,
                p_before_expedite=f["p_before_expedite"].to_numpy(),
                is_out_of_stock=(usable <= 0) & (mean_p > 0),
                thresholds=th,
                p_order_window=window_probability(
                    stockout_probability=p_prot,
                    projection_within=p_prot,
                    projection_before=before_p,
                    window_days=protection - lead_p + 1,
                    horizon_days=protection,
                    resolution=1.0 / r.n_paths,
                ),
            ),
            index=f.index,
        )
    want = f["order_up_to"] - f["inventory_position"]
    needs = (f["inventory_position"] <= f["reorder_point"]) | order_level.isin(["critical", "warning"])
    f["suggested_order_qty"] = round_order_qty(
        np.where(needs, want, 0.0), pack_size=f["pack_size"].to_numpy(float), moq=f["moq"].to_numpy(float)
    )

    promos = _promotions_within(known, d, int(h.max()) if n else 0)
    events = _events_within(known, d, int(h.max()) if n else 0)
    reasons, details = build_reasons(
        f, open_pos=open_po, promotions=promos, events=events, anomalies=anomalies, rules=r
    )
    f["reasons"] = reasons
    f["reason_details"] = details
    f["as_of"] = pd.Series(d, index=f.index, dtype="datetime64[ns]")
    for c in (
        "on_hand",
        "on_order",
        "reorder_point",
        "safety_stock",
        "order_up_to",
        "days_of_cover",
        "expected_short",
        "mean_daily_forecast",
        "inventory_position",
    ):
        f[c] = f[c].astype(float).round(2)
    out = f.loc[:, [*ASSESSMENT_COLUMNS, *EXTRA_COLUMNS]]
    return sort_by_urgency(out)


PRICE_DAYS = 365
"""Days of sales behind the mean selling price of the ``lost_sales`` allocation."""


def _allocator(
    known: Dataset, f: pd.DataFrame, lt_pmf: np.ndarray, r: RiskRules, *, as_of: pd.Timestamp
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The service-level allocation hook of ``r.service_allocation`` (:mod:`stockwarden.risk.allocation`)."""
    items = known.items.drop_duplicates("sku").set_index("sku")
    cost = f["sku"].map(items["unit_cost"]) if "unit_cost" in items else pd.Series(np.nan, index=f.index)
    s = known.sales
    s = s.loc[(s["date"] > as_of - pd.Timedelta(days=PRICE_DAYS)) & (s["qty"] > 0)]
    if "price" in s.columns:
        s = s.dropna(subset=["price"])
        value = (s["price"] * s["qty"]).groupby([s["sku"], s["location_id"]]).sum()
        units = s.groupby([s["sku"], s["location_id"]])["qty"].sum()
        price = (value / units).reindex(pd.MultiIndex.from_frame(f[KEYS])).to_numpy(float)
    else:
        price = np.full(len(f), np.nan)
    pmf = lt_pmf / np.maximum(lt_pmf.sum(axis=1, keepdims=True), 1e-12) if lt_pmf.size else lt_pmf
    mean_lead = (pmf * np.arange(pmf.shape[1])).sum(axis=1) if pmf.size else np.zeros(len(f))
    own = f["item_service_level"] if "item_service_level" in f else pd.Series(np.nan, index=f.index)
    return make_allocator(
        measure=r.service_allocation,
        flat_level=f["service_level"].to_numpy(float),
        group=f["category"].fillna("").astype(str).to_numpy(),
        unit_cost=pd.to_numeric(cost, errors="coerce").to_numpy(float),
        price=price,
        protection_days=mean_lead + f["review_period_days"].to_numpy(float),
        fixed=own.between(0, 1, inclusive="neither").to_numpy(bool),
        floor=r.service_level_floor,
        ceiling=r.service_level_ceiling,
    )


def _below_resolution(
    p_stockout: np.ndarray,
    expected_receipts: np.ndarray,
    usable: np.ndarray,
    mean_demand: np.ndarray,
    sd_demand: np.ndarray,
    *,
    n_paths: int,
) -> np.ndarray:
    """The Monte Carlo probability, with zeros refined below its resolution (1 / n_paths).

    Where no path ran out, the normal tail P(demand > stock + receipts) over the horizon (capped at
    half a path) still orders the SKU-locations by their margin instead of leaving them tied at 0.
    """
    from scipy.special import ndtr

    margin = usable + expected_receipts - mean_demand
    tail = ndtr(-margin / np.maximum(sd_demand, 0.5))
    return np.where(p_stockout > 0, p_stockout, np.minimum(tail, 0.5 / n_paths))


def sort_by_urgency(frame: pd.DataFrame) -> pd.DataFrame:
    """Most urgent first: level (critical..ok), then probability, then the earliest date."""
    from stockwarden.domain.risk import LEVEL_RANK

    rank = frame["level"].map(LEVEL_RANK).fillna(9)
    return (
        frame.assign(_r=rank, _p=-frame["stockout_probability"])
        .sort_values(["_r", "_p", "expected_stockout_date", "sku", "location_id"], kind="stable")
        .drop(columns=["_r", "_p"])
        .reset_index(drop=True)
    )


def _open_supply(
    ds: Dataset, f: pd.DataFrame, lead_times: LeadTimeModelLike, *, as_of: pd.Timestamp, days: int
) -> tuple[pd.DataFrame, OpenSupply]:
    """Open PO lines of the assessed rows, with arrival pmfs (days 1..) and short-delivery risk."""
    open_po = open_purchase_orders(ds, as_of=as_of)
    row_of = pd.Series(np.arange(len(f)), index=pd.MultiIndex.from_frame(f[KEYS]))
    po_rows = row_of.reindex(pd.MultiIndex.from_frame(open_po[KEYS])).to_numpy(float)
    keep = ~np.isnan(po_rows)
    # a fixed line order (not the file's): the j-th line of each SKU-location draws the j-th random stream
    order = ["sku", "location_id", "promised_date", "order_date", "qty", "po_id", "line_no"]
    open_po = open_po.loc[keep].sort_values(order, kind="stable").reset_index(drop=True)
    po_rows = row_of.reindex(pd.MultiIndex.from_frame(open_po[KEYS])).to_numpy(float)
    if open_po.empty:
        return open_po.assign(p_short=pd.Series(dtype=float)), OpenSupply.empty(days)
    arrival = lead_times.arrival_pmfs(open_po, as_of)[:, 1:]
    short = lead_times.short_delivery_frame(open_po.loc[:, ["supplier_id", "sku"]])
    open_po = open_po.assign(p_short=short["p_short"].to_numpy(float))
    supply = OpenSupply(
        series_index=po_rows.astype(np.int64),
        qty=open_po["qty"].to_numpy(float),
        arrival_pmf=arrival,
        short_probability=short["p_short"].to_numpy(float),
        short_fill_ratio=short["fill_ratio_when_short"].to_numpy(float),
    )
    return open_po, supply


def _promotions_within(ds: Dataset, as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    p = ds.promotions
    end = as_of + pd.Timedelta(days=days)
    return p.loc[(p["start_date"] <= end) & (p["end_date"] > as_of)].reset_index(drop=True)


def _events_within(ds: Dataset, as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    e = ds.events
    return e.loc[(e["date"] > as_of) & (e["date"] <= as_of + pd.Timedelta(days=days))].reset_index(drop=True)
