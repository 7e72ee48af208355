"""Policies' levels: the ERP's own rule, the consultant's rule, the negative-binomial quantile."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from stockwarden.ingest.dataset import Dataset
from stockwarden.risk.erp_rules import attach_erp_rules
from stockwarden.simulate.policies import negative_binomial_quantile, reorder_levels
from stockwarden.simulate.world import World


def tiny_world() -> World:
    """Two SKU-locations with a known past: 4 a day every day, and 0/10 alternating."""
    keys = pd.DataFrame({"sku": ["A", "B"], "location_id": ["W", "W"]})
    past = np.vstack([np.full(10, 4.0), np.tile([0.0, 10.0], 5)])
    return World(
        keys=keys,
        dates=pd.date_range("2024-01-01", periods=3),
        demand=np.zeros((2, 3)),
        on_hand_start=np.zeros(2),
        open_lines=(),
        past_sales=past,
        unit_cost=np.ones(2),
        price=np.ones(2),
        pack_size=np.ones(2),
        moq=np.zeros(2),
        stated_lead_time_days=np.array([3.0, 3.0]),
        review_period_days=np.array([7, 7]),
        category=np.array(["c", "c"]),
        supplier_id=np.array(["S", "S"], dtype=object),
        deliveries=None,  # type: ignore[arg-type]
        shrink_draws=np.ones((2, 3)),
        known=Dataset(),
        real_purchase_orders=pd.DataFrame(),
    )


def test_consultant_rule_is_lead_time_demand_plus_safety() -> None:
    w = tiny_world()
    lo, hi = reorder_levels(w, safety_factor=2.0)
    s = np.std(w.past_sales[1], ddof=1)
    assert lo[0] == pytest.approx(4.0 * 10)  # no variability: no safety stock
    assert lo[1] == pytest.approx(5.0 * 10 + 2.0 * s * np.sqrt(10))
    assert hi == pytest.approx(lo + np.array([4.0, 5.0]) * 7)


def test_company_rules_replace_the_consultant_and_the_knob_scales_them() -> None:
    w = tiny_world()
    company = pd.DataFrame({"sku": ["A"], "location_id": ["W"], "min_qty": [12.0], "max_qty": [30.0]})
    lo, hi = reorder_levels(w, safety_factor=1.5, company=company)
    assert (lo[0], hi[0]) == (18.0, 45.0)
    consultant_lo, _ = reorder_levels(w, safety_factor=1.65)
    assert lo[1] == pytest.approx(consultant_lo[1] * 1.5)  # no rule for B: the consultant's, scaled alike


def test_negative_binomial_quantile_matches_scipy_and_falls_back_to_poisson() -> None:
    q = negative_binomial_quantile(np.array([10.0, 10.0, 0.0]), np.array([30.0, 5.0, 0.0]), 0.9)
    assert q[0] == stats.nbinom.ppf(0.9, 100 / 20, 10 / 30)
    assert q[1] == stats.poisson.ppf(0.9, 10.0)
    assert q[2] == 0.0


def test_the_assessment_shows_the_erp_rule_beside_ours() -> None:
    ds = replace(
        Dataset(),
        reorder_rules=pd.DataFrame(
            {"sku": ["A"], "location_id": ["W"], "min_qty": [10.0], "max_qty": [40.0], "safety_stock": [3.0]}
        ),
    )
    a = pd.DataFrame({"sku": ["A", "B"], "location_id": ["W", "W"], "inventory_position": [8.0, 1.0]})
    out = attach_erp_rules(a, ds)
    assert out["erp_min_qty"].iloc[0] == 10.0 and np.isnan(out["erp_min_qty"].iloc[1])
    assert out["erp_would_order"].tolist() == [True, False]
