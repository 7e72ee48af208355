"""Review days of a periodic-review (R, s, S) policy: which days a SKU-location's orders are reviewed.

A review period of R days (``risk.review_period_days``, per category with
``risk.review_period_days_by_category``) falls on the days ``anchor + k R`` (k any whole number), the
anchor being ``orders.review_anchor_date`` (default Monday 2024-01-01: weekly reviews on Mondays,
fortnightly ones every other Monday). A period of 0 or 1 day reviews every day. The daily proposals and
``stockwarden simulate`` both decide review days with these functions.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DEFAULT_REVIEW_ANCHOR = dt.date(2024, 1, 1)
"""A Monday: with the default 7-day period, reviews fall on Mondays."""


def _days_from_anchor(day: dt.date | pd.Timestamp | str, anchor: dt.date | pd.Timestamp | str) -> int:
    return int((pd.Timestamp(day).normalize() - pd.Timestamp(anchor).normalize()).days)


def is_review_day(
    day: dt.date | pd.Timestamp | str,
    period_days: np.ndarray | pd.Series | int,
    anchor: dt.date | pd.Timestamp | str = DEFAULT_REVIEW_ANCHOR,
) -> np.ndarray:
    """Whether ``day`` is a review day for each review period.

    Example:
        >>> is_review_day("2024-01-15", np.array([7, 14, 1, 0])).tolist()  # a Monday, two weeks on
        [True, True, True, True]
        >>> is_review_day("2024-01-08", np.array([7, 14])).tolist()
        [True, False]
    """
    period = np.maximum(np.asarray(period_days, dtype=np.int64), 1)
    out: np.ndarray = np.mod(_days_from_anchor(day, anchor), period) == 0
    return out


def first_review_offset(
    start: dt.date | pd.Timestamp | str,
    period_days: np.ndarray | int,
    anchor: dt.date | pd.Timestamp | str = DEFAULT_REVIEW_ANCHOR,
) -> np.ndarray:
    """Days from ``start`` to the first review day on or after it (0 when ``start`` is one), per period.

    Example:
        >>> first_review_offset("2015-04-01", np.array([7, 1])).tolist()  # a Wednesday; Monday is 5 days on
        [5, 0]
    """
    period = np.maximum(np.asarray(period_days, dtype=np.int64), 1)
    out: np.ndarray = np.mod(-_days_from_anchor(start, anchor), period)
    return out
