"""Alert levels from the stockout probability and its timing: what a planner has to do now.

==========  ==================================================================================
critical    already out of stock and P(stockout within the protection interval) >=
            ``warning_probability`` (unmet demand is likely before stock is back), or P(stockout
            before an expedited order could arrive) >= ``critical_probability``: only a rush
            order or a transfer can still help
warning     P(stockout within the protection interval) >= ``warning_probability`` (a stockout is
            likely), or P(the first stockout falls in the *order-now window*) >=
            ``order_now_probability``: order now or it is too late
watch       P(stockout within the protection interval) >= ``watch_probability``
ok          otherwise
==========  ==================================================================================

The order-now window is ``[L, L + R]`` days after ``as_of`` (L the lead time, R the review period):
an order placed today arrives around day L, so it can still prevent a stockout from day L on, and
at the next review (day R) it would be too late for one before day L + R. A stockout before L is
beyond a regular order; one after L + R can wait for the next review. ``order_now_probability`` is a
break-even probability from a stated cost logic: a warning costs about one review (c_review), a
missed preventable stockout costs c_stockout, so warning pays when P(window) * c_stockout >= c_review,
i.e. P(window) >= c_review / c_stockout (default 1/3, a preventable stockout costing about three
needless reviews).

Every level is monotone: raising any of the probabilities never lowers the level. Thresholds come
from ``[risk.thresholds]`` in ``rules.toml``, overridden per item category by
``[risk.thresholds_by_category.<category>]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules
from stockwarden.domain.risk import RiskLevel

THRESHOLD_COLUMNS = ("critical_probability", "warning_probability", "order_now_probability", "watch_probability")


def thresholds_for(categories: pd.Series | np.ndarray, rules: RiskRules) -> pd.DataFrame:
    """Per-row thresholds (:data:`THRESHOLD_COLUMNS`), with the category overrides applied."""
    cats = pd.Series(np.asarray(categories, dtype=object))
    base = rules.thresholds
    out = pd.DataFrame({c: getattr(base, c) for c in THRESHOLD_COLUMNS}, index=cats.index, dtype=float)
    for cat, th in rules.thresholds_by_category.items():
        hit = (cats == cat).to_numpy()
        for c in THRESHOLD_COLUMNS:
            out.loc[hit, c] = getattr(th, c)
    return out


def assign_levels(
    *,
    stockout_probability: np.ndarray,
    p_before_expedite: np.ndarray,
    is_out_of_stock: np.ndarray,
    thresholds: pd.DataFrame,
    p_order_window: np.ndarray | None = None,
) -> np.ndarray:
    """The level of every row (object array of :class:`RiskLevel` values); see the module docstring.

    Args:
        stockout_probability: P(stockout within the protection interval).
        p_before_expedite: P(stockout before an expedited order could arrive).
        is_out_of_stock: no usable stock now while demand is expected.
        thresholds: from :func:`thresholds_for`, aligned with the rows.
        p_order_window: P(first stockout in the order-now window ``[L, L + R]``); None: not used.
    """
    p = np.asarray(stockout_probability, dtype=np.float64)
    pe = np.asarray(p_before_expedite, dtype=np.float64)
    likely = p >= thresholds["warning_probability"].to_numpy()
    crit = (np.asarray(is_out_of_stock, dtype=bool) & likely) | (pe >= thresholds["critical_probability"].to_numpy())
    warn = likely
    if p_order_window is not None:
        pw = np.asarray(p_order_window, dtype=np.float64)
        warn = warn | (pw >= thresholds["order_now_probability"].to_numpy())
    watch = p >= thresholds["watch_probability"].to_numpy()
    return np.select(
        [crit, warn, watch],
        [RiskLevel.CRITICAL.value, RiskLevel.WARNING.value, RiskLevel.WATCH.value],
        default=RiskLevel.OK.value,
    ).astype(object)
