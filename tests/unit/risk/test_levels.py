"""Levels from probability and timing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RiskThresholds
from stockwarden.risk.levels import assign_levels, thresholds_for


def test_levels_follow_the_thresholds_and_timing() -> None:
    th = thresholds_for(pd.Series(["a"] * 5), RiskRules())
    got = assign_levels(
        stockout_probability=np.array([0.0, 0.25, 0.6, 0.6, 0.1]),
        p_before_expedite=np.array([0.0, 0.0, 0.1, 0.7, 0.0]),
        is_out_of_stock=np.array([False, False, False, False, True]),
        thresholds=th,
    )
    assert got.tolist() == ["ok", "watch", "warning", "critical", "critical"]


def test_category_thresholds_apply_only_to_their_category() -> None:
    rules = RiskRules(thresholds_by_category={"fresh": RiskThresholds(warning_probability=0.2)})
    th = thresholds_for(pd.Series(["fresh", "dry"]), rules)
    got = assign_levels(
        stockout_probability=np.array([0.3, 0.3]),
        p_before_expedite=np.zeros(2),
        is_out_of_stock=np.zeros(2, bool),
        thresholds=th,
    )
    assert got.tolist() == ["warning", "watch"]
