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

from stockwarden.forecast.history import series_codes

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
    days of each series. Rows must be as :func:`build_demand_history` returns them (sorted by series).

    Args:
        history: frame from :func:`stockwarden.forecast.history.build_demand_history`.
        window_days: days of recent history used.

    Returns:
        One row per series (sorted by sku, location_id): ``sku, location_id, adi, cv2, demand_class,
        value, abc, mean_daily_demand, history_days, censored_days``.
    """
    codes = series_codes(history)
    n = int(codes[-1]) + 1 if len(codes) else 0
    first_row = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    dates = history["date"].to_numpy()
    last = np.maximum.reduceat(dates.astype(np.int64), first_row).astype("datetime64[ns]") if n else dates
    cens = history["is_censored"].to_numpy(dtype=bool)
    recent = (dates > last[codes] - np.timedelta64(window_days, "D")) & ~cens
    qty = history["qty"].to_numpy(dtype=float)
    price = np.nan_to_num(history["price"].to_numpy(dtype=float), nan=1.0)
    c, y = codes[recent], qty[recent]
    nz = y > 0
    days = np.bincount(c, minlength=n).astype(float)
    n_nz = np.bincount(c, weights=nz.astype(float), minlength=n)
    s1 = np.bincount(c, weights=np.where(nz, y, 0.0), minlength=n)
    s2 = np.bincount(c, weights=np.where(nz, y * y, 0.0), minlength=n)
    value = np.bincount(c, weights=y * price[recent], minlength=n)
    total = np.bincount(c, weights=y, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_nz > 0, days / n_nz, np.inf)
        size_mean = s1 / n_nz
        size_var = np.where(n_nz > 1, (s2 - n_nz * size_mean**2) / (n_nz - 1), 0.0)
        cv2 = np.where(n_nz > 0, np.maximum(size_var, 0.0) / np.where(size_mean > 0, size_mean, 1.0) ** 2, np.nan)
        mean_daily = np.where(days > 0, total / days, 0.0)
    out = pd.DataFrame(
        {
            "sku": history["sku"].to_numpy()[first_row] if n else [],
            "location_id": history["location_id"].to_numpy()[first_row] if n else [],
            "adi": adi,
            "cv2": cv2,
            "demand_class": classify_demand(adi, np.nan_to_num(cv2)),
            "value": value,
            "mean_daily_demand": mean_daily,
            "history_days": np.bincount(codes, minlength=n),
            "censored_days": np.bincount(codes, weights=cens.astype(float), minlength=n).astype(np.int64),
        }
    )
    out["abc"] = compute_abc(out["value"].to_numpy())
    return out


def compute_abc(value: np.ndarray, *, shares: tuple[float, float] = ABC_SHARES) -> np.ndarray:
    """ABC class by value: A up to ``shares[0]`` of the total, B up to ``shares[1]``, C the rest.

    >>> compute_abc(np.array([80.0, 15.0, 5.0, 0.0])).tolist()
    ['A', 'B', 'C', 'C']
    >>> compute_abc(np.array([25.0, 25.0, 25.0, 25.0])).tolist()
    ['A', 'A', 'A', 'A']
    """
    value = np.asarray(value, dtype=float)
    out = np.full(len(value), "C", dtype=object)
    total = value.sum()
    if total <= 0:
        return out
    order = np.argsort(-value, kind="stable")
    ranked = value[order]
    before = (np.cumsum(ranked) - ranked) / total  # share of value ranked above this series
    # series of equal value share one class (that of the first of them): twins are never split
    first = np.r_[True, ranked[1:] != ranked[:-1]] if len(ranked) else np.zeros(0, dtype=bool)
    before = before[first][np.cumsum(first) - 1]
    cls = np.where(before < shares[0] - 1e-12, "A", np.where(before < shares[1] - 1e-12, "B", "C"))
    cls = np.where(value[order] > 0, cls, "C")
    out[order] = cls
    return out
