"""Assemble the per-SKU-location inputs of the assessment: position, item facts, lead times, horizon.

The forecast and the lead-time model are consumed through small protocols (what the assessment
reads from them), so tests can pass hand-made doubles and the real objects come from
``stockwarden.forecast`` (issue 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules
from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.position import compute_positions

KEYS = ["sku", "location_id"]
RECENT_SALES_DAYS = 28


class DemandSource(Protocol):
    """What the assessment reads from a demand forecast (``stockwarden.domain.demand.DemandForecast``)."""

    @property
    def series(self) -> pd.DataFrame:
        """One row per series: ``sku, location_id`` (+ ``abc``, ``demand_class``...)."""
        ...

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Forecast dates, the day after ``as_of`` onwards."""
        ...

    def sample_paths(self, n_paths: int, *, seed: int) -> np.ndarray:
        """(n_series, n_paths, horizon_days) demand sample paths."""
        ...


class LeadTimeModelLike(Protocol):
    """What the assessment reads from ``stockwarden.forecast.leadtime.LeadTimeModel``."""

    table: pd.DataFrame

    def lead_time_pmfs(self, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(pmfs over 0..max days, sources) of a new order for ``supplier_id, sku`` rows."""
        ...

    def arrival_pmfs(self, open_pos: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> np.ndarray:
        """Arrival pmfs of open POs over days 0..max after ``as_of`` (column 0 is zero)."""
        ...

    def short_delivery_frame(self, keys: pd.DataFrame) -> pd.DataFrame:
        """``p_short, fill_ratio_when_short, ...`` per ``supplier_id, sku`` row."""
        ...


LeadTimeSource = LeadTimeModelLike


def demand_paths_for(
    forecast: DemandSource,
    forecast_rows: np.ndarray,
    *,
    n_paths: int,
    seed: int,
    days: int | None = None,
    window_days: np.ndarray | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``rows -> (len(rows), n_paths, days)`` giving demand paths for assessment rows.

    Rows with ``forecast_row == -1`` (no forecast) get zero demand. When the forecast is the
    negative-binomial ``DemandForecast`` (it has ``mean``, ``size`` and ``level_shape`` arrays), each
    row's paths are drawn by :func:`common_random_paths`: with the same random numbers for every row, so
    two SKU-locations with the same forecast get the same paths wherever they stand in the frame, and
    day by day, so the first days do not depend on how many days are drawn. The means are extended past
    the forecast by repeating its last week (``days`` may exceed the forecast). Other sources (test
    doubles) are drawn once and sliced.

    ``window_days`` (per row, optional): the days each row's projection reads. A row's paths are drawn
    for its own window only and are zero after it; since the draws go day by day, the days drawn are
    exactly those a full draw would give (the assessment never reads past a row's window).
    """
    from stockwarden.risk.policy import extend_daily_mean

    have = len(forecast.dates)
    width = have if days is None else int(days)
    exact = all(hasattr(forecast, a) for a in ("mean", "size", "level_shape"))
    cache: dict[str, np.ndarray] = {}

    def paths(rows: np.ndarray) -> np.ndarray:
        fr = forecast_rows[rows]
        out = np.zeros((len(rows), n_paths, width))
        has = fr >= 0
        if not has.any():
            return out
        if exact:
            mean = extend_daily_mean(forecast.mean[fr[has]], width)  # type: ignore[attr-defined]
            out[has] = common_random_paths(
                mean,
                forecast.size[fr[has]],  # type: ignore[attr-defined]
                forecast.level_shape[fr[has]],  # type: ignore[attr-defined]
                n_paths=n_paths,
                seed=seed,
                days_drawn=None if window_days is None else np.asarray(window_days)[rows][has],
            )
        else:
            if "all" not in cache:
                cache["all"] = np.asarray(forecast.sample_paths(n_paths, seed=seed), dtype=np.float64)
            got = cache["all"][fr[has]][:, :, :width]
            out[has, :, : got.shape[2]] = got
        return out

    return paths


@dataclass(frozen=True, slots=True)
class ProtectionDemand:
    """The demand model of each assessment row over its first ``days`` days (forecast rows, zeros without).

    Attributes:
        mean: (n, days) expected daily demand (the forecast extended by its last week where shorter).
        size: (n,) negative-binomial size of the day noise (``inf`` = Poisson).
        level_shape: (n,) gamma shape of the path level factor (``inf`` = none).
    """

    mean: np.ndarray
    size: np.ndarray
    level_shape: np.ndarray


MOMENT_PATHS = 2000
"""Sample paths used to estimate the daily moments of a forecast that only offers paths."""


def protection_demand(forecast: DemandSource, forecast_rows: np.ndarray, *, days: int) -> ProtectionDemand:
    """The rows' daily demand model: the forecast's own parameters, or moments of its sample paths.

    A ``DemandForecast`` gives its means, sizes and level shapes exactly. Any other source (a test
    double) is summarised from :data:`MOMENT_PATHS` of its paths: daily means, and a per-row size from
    the variance beyond Poisson (no level factor).
    """
    from stockwarden.risk.policy import extend_daily_mean

    rows = np.asarray(forecast_rows, dtype=np.int64)
    n = len(rows)
    has = rows >= 0
    mean = np.zeros((n, days))
    size = np.full(n, np.inf)
    shape = np.full(n, np.inf)
    if not has.any():
        return ProtectionDemand(mean, size, shape)
    if all(hasattr(forecast, a) for a in ("mean", "size", "level_shape")):
        mean[has] = extend_daily_mean(forecast.mean[rows[has]], days)  # type: ignore[attr-defined]
        size[has] = forecast.size[rows[has]]  # type: ignore[attr-defined]
        shape[has] = forecast.level_shape[rows[has]]  # type: ignore[attr-defined]
        return ProtectionDemand(mean, size, shape)
    paths = np.asarray(forecast.sample_paths(MOMENT_PATHS, seed=0), dtype=np.float64)[rows[has]]
    mu = paths.mean(axis=1)
    mean[has] = extend_daily_mean(mu, days)
    extra = (paths.var(axis=1) - mu).sum(axis=1)
    sq = (mu**2).sum(axis=1)
    size[has] = np.where(extra > 0.05 * np.maximum(mu.sum(axis=1), 1e-9), sq / np.maximum(extra, 1e-12), np.inf)
    return ProtectionDemand(mean, size, shape)


def common_random_paths(
    mean: np.ndarray,
    size: np.ndarray,
    level_shape: np.ndarray,
    *,
    n_paths: int,
    seed: int,
    days_drawn: np.ndarray | None = None,
) -> np.ndarray:
    """Demand paths ``(n, n_paths, days)`` of the forecast model with common random numbers.

    The model of ``stockwarden.domain.demand``: ``Y[p, t] ~ Poisson(mu[t] * L[p] * G[p, t])`` with the
    path level ``L ~ Gamma(k, 1/k)`` and the day noise ``G ~ Gamma(r, 1/r)`` (a negative binomial given
    ``L``). Every row draws from the same three streams (level, day noise, counts), seeded by ``seed``
    alone, day after day: identical rows get identical paths (common random numbers), and the paths of
    the first ``d`` days are the same whether 14 or 56 days are drawn. ``days_drawn`` (per row, default
    all): draw only a row's first days, zeros after them (the same values a full draw gives there).
    """
    n, days = mean.shape
    out = np.zeros((n, n_paths, days))
    bits = [np.random.PCG64([seed, stream]) for stream in range(3)]
    starts = [b.state for b in bits]
    level_rng, noise_rng, count_rng = (np.random.Generator(b) for b in bits)
    levels: dict[float, np.ndarray] = {}
    drawn = np.full(n, days, dtype=np.int64) if days_drawn is None else np.clip(days_drawn, 0, days)
    for i in range(n):
        mu = np.maximum(mean[i, : drawn[i]], 0.0)
        if not mu.any():
            continue
        for b, st in zip(bits, starts, strict=True):
            b.state = st  # every row starts from the same random numbers
        k, r = float(level_shape[i]), float(size[i])
        if k not in levels:
            levels[k] = level_rng.gamma(k, 1.0 / k, n_paths) if np.isfinite(k) and k > 0 else np.ones(n_paths)
        lam = mu[:, None] * levels[k][None, :]  # (days, paths): day-major, so a prefix of days is stable
        if np.isfinite(r) and r > 0:
            lam = lam * noise_rng.gamma(r, 1.0 / r, (len(mu), n_paths))
        out[i, :, : len(mu)] = count_rng.poisson(lam).T
    return out


def learned_median_days(pmf: np.ndarray) -> np.ndarray:
    """Median of each row's lead-time pmf over 0..K-1 days."""
    if pmf.size == 0:
        return np.zeros(len(pmf))
    cdf = np.cumsum(pmf, axis=1) / np.maximum(pmf.sum(axis=1, keepdims=True), 1e-12)
    return (cdf < 0.5).sum(axis=1).astype(float)


def service_levels(frame: pd.DataFrame, rules: RiskRules) -> np.ndarray:
    """Target service level per row: item's own > category > ABC class > default."""
    level = pd.Series(rules.service_level, index=frame.index, dtype=float)
    if "abc" in frame.columns:
        level = frame["abc"].map(rules.service_level_by_abc).fillna(level)
    level = frame["category"].map(rules.service_level_by_category).fillna(level)
    if "item_service_level" in frame.columns:
        level = frame["item_service_level"].where(frame["item_service_level"].between(0, 1, inclusive="neither"), level)
    return level.to_numpy(float)


def recent_daily_sales(
    ds: Dataset, keys: pd.DataFrame, *, as_of: pd.Timestamp, days: int = RECENT_SALES_DAYS
) -> np.ndarray:
    """Mean daily units sold over the ``days`` days up to ``as_of`` (returns excluded)."""
    s = ds.sales
    s = s.loc[(s["date"] > as_of - pd.Timedelta(days=days)) & (s["date"] <= as_of) & (s["qty"] > 0)]
    tot = s.groupby(KEYS)["qty"].sum() / days
    return keys.merge(tot.rename("r").reset_index(), on=KEYS, how="left")["r"].fillna(0.0).to_numpy()


def build_frame(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    forecast: DemandSource,
    lead_times: LeadTimeModelLike,
    rules: RiskRules,
    horizon_days: int | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per SKU-location facts the assessment needs, and the lead-time pmf of a new order.

    Args:
        ds: the dataset as of ``as_of``.
        as_of: the assessment date.
        forecast: the demand forecast; its series come first, then every other SKU-location seen in
            sales, counts or POs by ``as_of`` (zero demand: no forecast was made for it).
        lead_times: the lead-time model.
        rules: the ``risk`` rules section.
        horizon_days: one horizon for all rows (None: stated lead time + review period).

    Returns:
        ``(frame, lead_time_pmf)``: the frame has position columns, ``forecast_row``, ``demand_row``
            (:func:`censored_demand_rows`), ``category,
        supplier_id, pack_size, moq, lead_time_days, lead_time_source, learned_lead_time_days,
        review_period_days, horizon_days, service_level, abc, demand_class, supplier_on_time_rate,
        supplier_mean_delay_days``; the pmf array is ``(n, K)`` over 0..K-1 days.
    """
    fs = forecast.series.reset_index(drop=True)
    fkeys = fs.loc[:, KEYS].assign(forecast_row=np.arange(len(fs)))
    pos_all = compute_positions(ds, as_of=as_of)
    extra = pos_all.loc[:, KEYS]  # every SKU-location known by then gets a row, forecast or not
    keys = pd.concat(
        [
            fkeys,
            extra.merge(fkeys[KEYS], on=KEYS, how="left", indicator=True)
            .query("_merge == 'left_only'")
            .drop(columns="_merge")
            .assign(forecast_row=-1),
        ],
        ignore_index=True,
    )
    f = keys.merge(pos_all, on=KEYS, how="left")
    for c in (
        "on_hand",
        "on_hand_recorded",
        "sales_since_count",
        "receipts_since_count",
        "backorders",
        "on_order",
        "inventory_position",
    ):
        f[c] = f[c].fillna(0.0)
    f["open_po_count"] = f["open_po_count"].fillna(0).astype(int)
    f["has_count"] = f["has_count"].fillna(False).astype(bool)
    for c in ("abc", "demand_class"):
        f[c] = fs[c].reindex(f["forecast_row"].where(f["forecast_row"] >= 0)).to_numpy() if c in fs else None
    if {"censored_days", "history_days"} <= set(fs.columns):
        share = fs["censored_days"] / fs["history_days"].where(fs["history_days"] > 0)
        f["censored_share"] = share.reindex(f["forecast_row"].where(f["forecast_row"] >= 0)).to_numpy(float)
    else:
        f["censored_share"] = np.nan
    f["demand_row"] = censored_demand_rows(f, fs)
    last_sale = ds.sales.loc[ds.sales["qty"] > 0].groupby(KEYS)["date"].max().rename("_last_sale").reset_index()
    f = f.merge(last_sale, on=KEYS, how="left")
    f["days_since_last_sale"] = (as_of - f["_last_sale"]).dt.days.astype(float)
    f = f.drop(columns="_last_sale")

    items = ds.items.loc[:, ["sku", "category", "supplier_id", "lead_time_days", "pack_size", "moq", "service_level"]]
    items = items.rename(columns={"lead_time_days": "item_lead_time_days", "service_level": "item_service_level"})
    f = f.merge(items.drop_duplicates("sku"), on="sku", how="left")
    po = ds.purchase_orders.sort_values("order_date", kind="stable")
    last_sup = po.dropna(subset=["supplier_id"]).groupby(KEYS)["supplier_id"].last().rename("_po_sup")
    f = f.merge(last_sup.reset_index(), on=KEYS, how="left")
    f["supplier_id"] = f["supplier_id"].fillna(f["_po_sup"])
    sup_lt = ds.suppliers.drop_duplicates("supplier_id").set_index("supplier_id")["lead_time_days"]
    f["supplier_lead_time_days"] = f["supplier_id"].map(sup_lt)

    pmf, sources = lead_times.lead_time_pmfs(f.loc[:, ["supplier_id", "sku"]])
    f["learned_lead_time_days"] = learned_median_days(pmf)
    stated = f["item_lead_time_days"].fillna(f["supplier_lead_time_days"])
    f["lead_time_source"] = np.where(
        f["item_lead_time_days"].notna(),
        "item",
        np.where(f["supplier_lead_time_days"].notna(), "supplier", sources.astype(str)),
    )
    f["lead_time_days"] = stated.fillna(f["learned_lead_time_days"]).astype(float)
    review = f["category"].map(rules.review_period_days_by_category).fillna(rules.review_period_days)
    f["review_period_days"] = review.astype(np.int64)
    if horizon_days is not None:
        f["horizon_days"] = int(horizon_days)
    else:
        f["horizon_days"] = (np.ceil(f["lead_time_days"]) + f["review_period_days"]).astype(np.int64)
    f["service_level"] = service_levels(f, rules)
    f["pack_size"] = f["pack_size"].fillna(1.0)
    f["moq"] = f["moq"].fillna(0.0)

    tab = lead_times.table
    sup_tab = tab.loc[tab["level"] == "supplier"].drop_duplicates("supplier_id").set_index("supplier_id")
    f["supplier_on_time_rate"] = f["supplier_id"].map(sup_tab.get("on_time_rate", pd.Series(dtype=float)))
    f["supplier_mean_delay_days"] = f["supplier_id"].map(sup_tab.get("mean_delay_days", pd.Series(dtype=float)))
    f = f.drop(columns=["_po_sup"])
    return f, pmf


CENSORED_SHARE_FOR_FALLBACK = 0.5
"""A series censored (out of stock) on at least this share of its history that shows no demand has
not shown that it has none: its demand paths are borrowed from the same SKU elsewhere."""


def censored_demand_rows(f: pd.DataFrame, series: pd.DataFrame) -> np.ndarray:
    """Forecast row whose demand paths each frame row is projected with.

    A row's own ``forecast_row``, except for a series whose forecast sees no demand
    (``mean_daily_demand <= 0``: every recent day was out of stock, so demand was never observed)
    and that was out of stock for at least :data:`CENSORED_SHARE_FOR_FALLBACK` of its history:
    there zero observed sales are censoring, not absence of demand, and the same SKU's forecast at
    another location stands in (the one with the median ``mean_daily_demand`` among those with
    positive demand). Rows without such a donor keep their own row.
    """
    rows = f["forecast_row"].to_numpy(np.int64).copy()
    if not len(rows) or "mean_daily_demand" not in series.columns or "censored_share" not in f.columns:
        return rows
    mean = series["mean_daily_demand"].to_numpy(float)
    own_mean = np.where(rows >= 0, mean[np.maximum(rows, 0)], 0.0)
    need = (rows >= 0) & (own_mean <= 0) & (f["censored_share"].to_numpy(float) >= CENSORED_SHARE_FOR_FALLBACK)
    if not need.any():
        return rows
    donors = series.assign(_row=np.arange(len(series))).loc[mean > 0, ["sku", "mean_daily_demand", "_row"]]
    donors = donors.sort_values(["sku", "mean_daily_demand", "_row"], kind="stable")
    # lower median per SKU: position (n - 1) // 2 in the sorted group
    rank = donors.groupby("sku").cumcount().to_numpy()
    size = donors.groupby("sku")["_row"].transform("size").to_numpy()
    median_row = donors.loc[rank == (size - 1) // 2].set_index("sku")["_row"]
    donor = f["sku"].map(median_row).to_numpy(float)
    use = need & ~np.isnan(donor)
    rows[use] = donor[use].astype(np.int64)
    return rows


def required_horizon_days(
    ds: Dataset, rules: RiskRules, *, horizon_days: int | None = None, extra_days: int = 0
) -> int:
    """Forecast days the assessment needs: the longest stated lead time + review period (+ slack)."""
    if horizon_days is not None:
        return int(horizon_days) + extra_days
    lts = pd.concat([ds.items["lead_time_days"], ds.suppliers["lead_time_days"]]).dropna()
    longest_lt = float(lts.max()) if len(lts) else 28.0
    reviews = [rules.review_period_days, *rules.review_period_days_by_category.values()]
    return int(np.ceil(longest_lt)) + max(reviews) + extra_days
