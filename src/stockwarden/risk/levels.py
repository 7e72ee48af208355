"""Alert levels from the stockout probability and its timing.

==========  ==================================================================================
critical    already out of stock with demand expected, or P(stockout before an expedited order
            could arrive) >= ``critical_probability``
warning     P(stockout within the protection interval) >= ``warning_probability``
watch       P(stockout within the protection interval) >= ``watch_probability``
ok          otherwise
==========  ==================================================================================

Thresholds come from ``[risk.thresholds]`` in ``rules.toml``, overridden per item category by
``[risk.thresholds_by_category.<category>]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules
from stockwarden.domain.risk import RiskLevel


def thresholds_for(categories: pd.Series | np.ndarray, rules: RiskRules) -> pd.DataFrame:
    """Per-row ``critical_probability, warning_probability, watch_probability`` (category overrides)."""
    cats = pd.Series(np.asarray(categories, dtype=object))
    base = rules.thresholds
    out = pd.DataFrame(
        {
            "critical_probability": base.critical_probability,
            "warning_probability": base.warning_probability,
            "watch_probability": base.watch_probability,
        },
        index=cats.index,
    )
    for cat, th in rules.thresholds_by_category.items():
        hit = (cats == cat).to_numpy()
        out.loc[hit, "critical_probability"] = th.critical_probability
        out.loc[hit, "warning_probability"] = th.warning_probability
        out.loc[hit, "watch_probability"] = th.watch_probability
    return out


def assign_levels(
    *,
    stockout_probability: np.ndarray,
    p_before_expedite: np.ndarray,
    is_out_of_stock: np.ndarray,
    thresholds: pd.DataFrame,
) -> np.ndarray:
    """The level of every row (object array of :class:`RiskLevel` values).

    Args:
        stockout_probability: P(stockout within the protection interval).
        p_before_expedite: P(stockout before an expedited order could arrive).
        is_out_of_stock: no usable stock now while demand is expected.
        thresholds: from :func:`thresholds_for`, aligned with the rows.
    """
    p = np.asarray(stockout_probability, dtype=np.float64)
    pe = np.asarray(p_before_expedite, dtype=np.float64)
    crit = np.asarray(is_out_of_stock, dtype=bool) | (pe >= thresholds["critical_probability"].to_numpy())
    warn = p >= thresholds["warning_probability"].to_numpy()
    watch = p >= thresholds["watch_probability"].to_numpy()
    return np.select(
        [crit, warn, watch],
        [RiskLevel.CRITICAL.value, RiskLevel.WARNING.value, RiskLevel.WATCH.value],
        default=RiskLevel.OK.value,
    ).astype(object)
