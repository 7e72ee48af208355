"""Demand classification per series: Syntetos-Boylan (ADI / CV^2) and ABC by value.

Syntetos, Boylan & Croston (2005), "On the categorization of demand patterns", JORS 56:
``ADI`` = average inter-demand interval (days per day with demand), ``CV^2`` = squared coefficient
of variation of the non-zero demand sizes. Cut-offs ADI = 1.32 and CV^2 = 0.49:

=============  ============  ==============
               CV^2 < 0.49    CV^2 >= 0.49
=============  ============  ==============
ADI < 1.32     smooth         erratic
ADI >= 1.32    intermittent   lumpy
=============  ============  ==============

ABC ranks series by sales value over the classification window: ``A`` covers the first 80% of the
value, ``B`` the next 15%, ``C`` the rest (and series with no value).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CLASSIFY_WINDOW_DAYS = 365
ABC_SHARES = (0.80, 0.95)


def classify_demand(adi: np.ndarray, cv2: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan class per series; ``no_demand`` where ADI is undefined (no demand at all).

    >>> classify_demand(np.array([1.0, 1.0, 2.0, 2.0]), np.array([0.1, 0.9, 0.1, 0.9])).tolist()
    ['smooth', 'erratic', 'intermittent', 'lumpy']
    """
    adi = np.asarray(adi, dtype=float)
    cv2 = np.asarray(cv2, dtype=float)
    frequent = adi < ADI_CUTOFF
    steady = cv2 < CV2_CUTOFF
    out = np.where(frequent, np.where(steady, "smooth", "erratic"), np.where(steady, "intermittent", "lumpy"))
    return np.where(np.isfinite(adi), out, "no_demand").astype(object)


def compute_series_profile(history: pd.DataFrame, *, window_days: int = CLASSIFY_WINDOW_DAYS) -> pd.DataFrame:
    """ADI, CV^2, demand class, value and ABC class for every series of a demand history.

    Censored days are left out (their demand is unknown). The window is the last ``window_days``
    days of each series.

    Args:
        history: frame from :func:`stockwarden.forecast.history.build_demand_history`.
        window_days: days of recent history used.

    Returns:
        One row per series (sorted by sku, location_id): ``sku, location_id, adi, cv2, demand_class,
        value, abc, mean_daily_demand, history_days, censored_days``.
    """
    keys = ["sku", "location_id"]
    last = history.groupby(keys, sort=True)["date"].transform("max")
    recent = history.loc[(history["date"] > last - pd.Timedelta(days=window_days)) & ~history["is_censored"]]
    price = recent["price"].fillna(1.0)
    nz = recent["qty"] > 0
    work = pd.DataFrame({
        "sku": recent["sku"], "location_id": recent["location_id"], "n": 1.0, "nz": nz.astype(float),
        "size": recent["qty"].where(nz), "value": recent["qty"] * price, "qty": recent["qty"],
    })
    g = work.groupby(keys, sort=True).agg(
        n=("n", "sum"), nz=("nz", "sum"), size_mean=("size", "mean"), size_std=("size", "std"),
        value=("value", "sum"), qty=("qty", "sum"))
    full = history.groupby(keys, sort=True).agg(history_days=("date", "size"), censored_days=("is_censored", "sum"))
    g = full.join(g, how="left")
    g["n"] = g["n"].fillna(0.0)
    g["nz"] = g["nz"].fillna(0.0)
    adi = np.where(g["nz"] > 0, g["n"] / g["nz"].where(g["nz"] > 0), np.inf)
    std = g["size_std"].fillna(0.0).to_numpy()
    mean_size = g["size_mean"].to_numpy()
    cv2 = np.where(g["nz"] > 0, (std / np.where(mean_size > 0, mean_size, 1.0)) ** 2, np.nan)
    out = pd.DataFrame({
        "adi": adi,
        "cv2": cv2,
        "demand_class": classify_demand(adi, np.nan_to_num(cv2)),
        "value": g["value"].fillna(0.0).to_numpy(),
        "mean_daily_demand": np.where(g["n"] > 0, g["qty"].fillna(0.0) / g["n"].where(g["n"] > 0), 0.0),
        "history_days": g["history_days"].to_numpy(),
        "censored_days": g["censored_days"].to_numpy(),
    }, index=g.index)
    out["abc"] = compute_abc(out["value"].to_numpy())
    return out.reset_index()


def compute_abc(value: np.ndarray, *, shares: tuple[float, float] = ABC_SHARES) -> np.ndarray:
    """ABC class by value: A up to ``shares[0]`` of the total, B up to ``shares[1]``, C the rest.

    >>> compute_abc(np.array([80.0, 15.0, 5.0, 0.0])).tolist()
    ['A', 'B', 'C', 'C']
    """
    value = np.asarray(value, dtype=float)
    out = np.full(len(value), "C", dtype=object)
    total = value.sum()
    if total <= 0:
        return out
    order = np.argsort(-value, kind="stable")
    before = (np.cumsum(value[order]) - value[order]) / total  # share of value ranked above this series
    cls = np.where(before < shares[0] - 1e-12, "A", np.where(before < shares[1] - 1e-12, "B", "C"))
    cls = np.where(value[order] > 0, cls, "C")
    out[order] = cls
    return out
