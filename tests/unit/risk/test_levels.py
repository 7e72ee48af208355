"""Levels from probability and timing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RiskThresholds
from stockwarden.domain.risk import LEVEL_RANK
from stockwarden.risk.levels import assign_levels, thresholds_for


def test_levels_follow_the_thresholds_and_timing() -> None:
    th = thresholds_for(pd.Series(["a"] * 6), RiskRules())
    got = assign_levels(
        stockout_probability=np.array([0.0, 0.25, 0.6, 0.6, 0.1, 0.7]),
        p_before_expedite=np.array([0.0, 0.0, 0.1, 0.7, 0.0, 0.0]),
        is_out_of_stock=np.array([False, False, False, False, True, True]),
        thresholds=th,
    )
    assert got.tolist() == ["ok", "watch", "warning", "critical", "ok", "critical"]


def test_out_of_stock_is_critical_only_when_unmet_demand_is_likely_before_stock_is_back() -> None:
    th = thresholds_for(pd.Series(["a"] * 2), RiskRules())
    got = assign_levels(
        stockout_probability=np.array([0.3, 0.5]),
        p_before_expedite=np.zeros(2),
        is_out_of_stock=np.array([True, True]),
        thresholds=th,
    )
    assert got.tolist() == ["watch", "critical"]


def test_a_likely_stockout_in_the_order_now_window_is_a_warning_below_the_warning_probability() -> None:
    th = thresholds_for(pd.Series(["a"] * 3), RiskRules())
    got = assign_levels(
        stockout_probability=np.array([0.45, 0.45, 0.45]),
        p_before_expedite=np.zeros(3),
        is_out_of_stock=np.zeros(3, bool),
        thresholds=th,
        p_order_window=np.array([0.40, 1 / 3, 0.05]),
    )
    assert got.tolist() == ["warning", "warning", "watch"]


def test_the_level_never_falls_when_a_probability_rises() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    p = rng.random(n)
    pw = p * rng.random(n)
    pe = p * rng.random(n)
    oos = rng.random(n) < 0.2
    th = thresholds_for(pd.Series(["a"] * n), RiskRules())

    def rank(p_: np.ndarray, pe_: np.ndarray, pw_: np.ndarray) -> np.ndarray:
        lv = assign_levels(
            stockout_probability=p_, p_before_expedite=pe_, is_out_of_stock=oos, thresholds=th, p_order_window=pw_
        )
        return pd.Series(lv).map(LEVEL_RANK).to_numpy()

    base = rank(p, pe, pw)
    bump = rng.random(n) * 0.3
    assert (rank(np.minimum(p + bump, 1), pe, pw) <= base).all()
    assert (rank(p, np.minimum(pe + bump, 1), pw) <= base).all()
    assert (rank(p, pe, np.minimum(pw + bump, 1)) <= base).all()


def test_category_thresholds_apply_only_to_their_category() -> None:
    rules = RiskRules(
        thresholds_by_category={"fresh": RiskThresholds(warning_probability=0.2, order_now_probability=0.1)}
    )
    th = thresholds_for(pd.Series(["fresh", "dry"]), rules)
    assert th["order_now_probability"].tolist() == [0.1, RiskThresholds().order_now_probability]
    got = assign_levels(
        stockout_probability=np.array([0.3, 0.3]),
        p_before_expedite=np.zeros(2),
        is_out_of_stock=np.zeros(2, bool),
        thresholds=th,
        p_order_window=np.array([0.15, 0.15]),
    )
    assert got.tolist() == ["warning", "watch"]
