"""True daily demand of the sample company, and its planned promotions.

Demand of series ``s`` (item ``i`` at location ``j``) on day ``t`` has mean::

    mu[s, t] = base_i * size_j * trend_i(t) * season_c(t) * week_{c,j}(dow t) * holidays_c(t) * promo_s(t)

Regular items draw Poisson(mu * Gamma(k, 1/k)) (negative binomial, overdispersion 1/k); slow movers are
lumpy: an order occurs with probability mu / m and then takes 1 + NB units (mean m). Promotions lift
demand by (1 - discount) ** -elasticity, followed by a one-week dip (customers stocked up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwarden.ingest.sample.calendar import holiday_intensity
from stockwarden.ingest.sample.catalog import CATEGORIES

_DISCOUNTS = np.array([0.1, 0.15, 0.2, 0.25, 0.3])
_POST_PROMO_DIP = 0.85
_POST_PROMO_DAYS = 7


@dataclass(frozen=True, slots=True)
class Demand:
    """The simulated truth over the history window (series are item-major: s = i * n_locations + j).

    Attributes:
        qty: true demand units, shape (n_series, n_days).
        discount: promotion discount in force (0 = none), shape (n_series, n_days).
        launch_day: per item, the first day it is sold (0 = from the start).
    """

    qty: np.ndarray
    discount: np.ndarray
    launch_day: np.ndarray


def build_promotions(
    items: pd.DataFrame,
    locations: pd.DataFrame,
    first: pd.Timestamp,
    last_planned: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Planned promotions from ``first`` to ``last_planned`` (the future ones are known ahead).

    Regular items get a few discount promotions a year, at one location or everywhere; about half the items
    of categories that ride 618 and Double 11 join those festivals with a discount everywhere.
    """
    span = (last_planned - first).days
    loc_ids = locations["location_id"].to_numpy()
    rows: list[tuple[str, pd.Timestamp, pd.Timestamp, str, str, float]] = []
    for sku, cat_idx, intermittent in items[["sku", "cat_idx", "is_intermittent"]].itertuples(index=False):
        if intermittent:
            continue
        n = int(rng.poisson(3.5 * span / 365.0))
        starts = rng.integers(0, max(span - 10, 1), size=n)
        lengths = rng.integers(3, 11, size=n)
        for st, ln in zip(starts, lengths, strict=True):
            loc = "" if rng.random() < 0.5 else str(loc_ids[int(rng.integers(len(loc_ids)))])
            start = first + pd.Timedelta(days=int(st))
            rows.append(
                (sku, start, start + pd.Timedelta(days=int(ln) - 1), loc, "discount", float(rng.choice(_DISCOUNTS)))
            )
        effects = CATEGORIES[int(cat_idx)].effects
        for key, (month, first_day, last_day) in (("618", (6, 1, 18)), ("double_11", (11, 1, 11))):
            if key not in effects or rng.random() >= 0.5:
                continue
            for year in range(first.year, last_planned.year + 1):
                start = pd.Timestamp(year, month, first_day)
                if first <= start <= last_planned:
                    rows.append(
                        (
                            sku,
                            start,
                            pd.Timestamp(year, month, last_day),
                            "",
                            "festival",
                            float(rng.choice(_DISCOUNTS[2:])),
                        )
                    )
    promos = pd.DataFrame(rows, columns=["sku", "start_date", "end_date", "location_id", "kind", "discount"])
    promos = promos.astype(
        {
            "sku": object,
            "start_date": "datetime64[ns]",
            "end_date": "datetime64[ns]",
            "location_id": object,
            "kind": object,
            "discount": "float64",
        }
    )
    promos = promos.drop_duplicates(["sku", "start_date", "location_id", "kind"])
    return promos.sort_values(["start_date", "sku", "location_id"]).reset_index(drop=True)


def promotion_discount(
    promos: pd.DataFrame, items: pd.DataFrame, locations: pd.DataFrame, dates: pd.DatetimeIndex
) -> np.ndarray:
    """The discount in force per series and day (the largest when promotions overlap)."""
    n_loc = len(locations)
    sku_pos = {s: i for i, s in enumerate(items["sku"])}
    loc_pos = {loc: j for j, loc in enumerate(locations["location_id"])}
    out = np.zeros((len(items) * n_loc, len(dates)))
    origin = dates[0]
    t0 = ((promos["start_date"] - origin).dt.days).to_numpy()
    t1 = ((promos["end_date"] - origin).dt.days).to_numpy() + 1
    for k, (sku, loc, disc) in enumerate(promos[["sku", "location_id", "discount"]].itertuples(index=False)):
        a, b = max(int(t0[k]), 0), min(int(t1[k]), len(dates))
        if a >= b:
            continue
        i = sku_pos[sku]
        rows = slice(i * n_loc, (i + 1) * n_loc) if loc == "" else i * n_loc + loc_pos[loc]
        out[rows, a:b] = np.maximum(out[rows, a:b], disc)
    return out


def simulate_demand(
    items: pd.DataFrame,
    locations: pd.DataFrame,
    dates: pd.DatetimeIndex,
    discount: np.ndarray,
    rng: np.random.Generator,
) -> Demand:
    """Draw the true daily demand of every series over ``dates`` (vectorised over series and days)."""
    n_items, n_loc, n_days = len(items), len(locations), len(dates)
    t = np.arange(n_days)
    cat = items["cat_idx"].to_numpy()
    doy = dates.dayofyear.to_numpy()
    dow = dates.dayofweek.to_numpy()
    weekend = (dow >= 5).astype(float) + 0.4 * (dow == 4)

    # Category curves: yearly season x holidays, shape (n_cat, n_days).
    intensity = holiday_intensity(dates)
    cat_curve = np.empty((len(CATEGORIES), n_days))
    lift = np.empty(len(CATEGORIES))
    for c, prof in enumerate(CATEGORIES):
        curve = 1 + prof.season_amplitude * np.cos(2 * np.pi * (doy - prof.season_peak_doy) / 365.25)
        for key, (pre_mult, on_mult) in prof.effects.items():
            pre, on = intensity[key]
            curve = curve * (1 + (pre_mult - 1) * pre) * (1 + (on_mult - 1) * on)
        cat_curve[c] = curve
        lift[c] = prof.weekend_lift

    is_store = (locations["kind"] == "store").to_numpy()
    # Stores see the full weekend lift; the online DC a damped one plus a Monday catch-up.
    loc_lift = np.where(is_store, 1.0, 0.3)
    week = 1 + (lift[cat][:, None, None] - 1) * loc_lift[None, :, None] * weekend[None, None, :]
    week = week + (~is_store)[None, :, None] * 0.08 * (dow == 0)[None, None, :]

    trend = np.exp(items["trend_per_year"].to_numpy()[:, None] * t[None, :] / 365.0)
    mu_item = items["base_rate"].to_numpy()[:, None] * trend * cat_curve[cat]
    size = locations["demand_factor"].to_numpy()
    mu = (mu_item[:, None, :] * size[None, :, None] * week).reshape(n_items * n_loc, n_days)

    elasticity = np.repeat(items["elasticity"].to_numpy(), n_loc)[:, None]
    promo = np.power(1 - discount, -elasticity)
    ended = (discount == 0) & _recently_ended(discount > 0, _POST_PROMO_DAYS)
    promo = np.where(ended, _POST_PROMO_DIP, promo)
    mu = mu * promo

    launch_day = np.zeros(n_items, dtype=int)
    late = rng.random(n_items) < 0.05
    launch_day[late] = rng.integers(int(0.6 * n_days), max(int(0.9 * n_days), int(0.6 * n_days) + 1), size=late.sum())
    mu = mu * (t[None, :] >= np.repeat(launch_day, n_loc)[:, None])

    k = np.repeat(items["dispersion"].to_numpy(), n_loc)[:, None]
    noise = rng.gamma(np.broadcast_to(k, mu.shape), 1.0 / k)
    intermittent = np.repeat(items["is_intermittent"].to_numpy(), n_loc)
    qty = rng.poisson(mu * noise).astype(float)
    if intermittent.any():
        m = rng.uniform(1.5, 6.0, size=intermittent.sum())[:, None]  # mean units per order
        mu_i = mu[intermittent]
        occurs = rng.random(mu_i.shape) < np.minimum(mu_i / m, 0.9)
        extra = rng.poisson(noise[intermittent] * (m - 1))
        qty[intermittent] = occurs * (1 + extra)
    return Demand(qty=qty, discount=discount, launch_day=launch_day)


def _recently_ended(active: np.ndarray, days: int) -> np.ndarray:
    """True where a promotion was active within the previous ``days`` days (per row)."""
    out = np.zeros_like(active)
    for lag in range(1, days + 1):
        out[:, lag:] |= active[:, :-lag]
    return out
