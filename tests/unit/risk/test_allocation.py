"""Service levels per SKU-location by marginal analysis: each category's target spent where it buys most."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stockwarden.config import RiskRules
from stockwarden.risk.allocation import (
    AllocationInputs,
    allocate_service_levels,
    make_allocator,
    nb_loss,
    nb_quantile,
)

INF = np.inf


def _inputs(cost, weight, group=None, fixed=None) -> AllocationInputs:  # type: ignore[no-untyped-def]
    n = len(cost)
    return AllocationInputs(
        group=np.array(group or ["FOOD"] * n, dtype=object),
        unit_cost=np.asarray(cost, dtype=float),
        weight=np.asarray(weight, dtype=float),
        fixed=np.zeros(n, bool) if fixed is None else np.asarray(fixed, bool),
    )


def _shortage(mean, size, level, weight):  # type: ignore[no-untyped-def]
    return float((np.asarray(weight) * nb_loss(mean, size, nb_quantile(mean, size, level))).sum())


def test_quantile_and_expected_shortage_match_a_direct_sum() -> None:
    mean, size = np.array([12.0, 30.0, 0.0]), np.array([4.0, INF, INF])
    s = nb_quantile(mean, size, np.array([0.9, 0.95, 0.9]))
    assert s[0] == stats.nbinom.ppf(0.9, 4.0, 4.0 / 16.0) and s[1] == stats.poisson.ppf(0.95, 30.0) and s[2] == 0
    x = np.arange(0, 400)
    direct = [
        (np.maximum(x - s[0], 0) * stats.nbinom.pmf(x, 4.0, 0.25)).sum(),
        (np.maximum(x - s[1], 0) * stats.poisson.pmf(x, 30.0)).sum(),
        0.0,
    ]
    np.testing.assert_allclose(nb_loss(mean, size, s), direct, atol=1e-9)


def test_of_two_items_with_equal_demand_the_dearer_gets_the_lower_level() -> None:
    mean, size = np.array([40.0, 40.0]), np.array([5.0, 5.0])
    weight = 10.0 / mean  # stockout days: a unit short lasts 1 / daily demand days (10-day interval)
    levels = allocate_service_levels(
        mean=mean, size=size, flat_level=np.array([0.95, 0.95]), inputs=_inputs([10.0, 1.0], weight),
        floor=0.5, ceiling=0.999,
    )  # fmt: skip
    assert levels[0] < 0.95 < levels[1]


def test_the_allocation_meets_the_category_target_with_less_inventory_value() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(2, 80, 30)
    size = rng.uniform(1, 20, 30)
    cost = rng.uniform(0.5, 12, 30)
    weight = 10.0 / mean
    flat = np.full(30, 0.92)
    levels = allocate_service_levels(
        mean=mean, size=size, flat_level=flat, inputs=_inputs(cost, weight), floor=0.5, ceiling=0.999
    )
    assert _shortage(mean, size, levels, weight) <= _shortage(mean, size, flat, weight) + 1e-9
    value_alloc = (cost * nb_quantile(mean, size, levels)).sum()
    value_flat = (cost * nb_quantile(mean, size, flat)).sum()
    assert value_alloc < value_flat
    assert levels.min() >= 0.5 and levels.max() <= 0.999
    assert len(np.unique(levels.round(6))) > 5  # levels differ by item


def test_stockout_days_favour_slow_movers_and_lost_sales_favour_high_markups() -> None:
    mean = np.array([5.0, 100.0])
    size = np.array([INF, INF])
    days = np.array([10.0, 10.0])
    common = dict(  # noqa: C408
        flat_level=np.array([0.9, 0.9]), group=np.array(["A", "A"], dtype=object), unit_cost=np.array([2.0, 2.0]),
        protection_days=days, fixed=np.zeros(2, bool), floor=0.5, ceiling=0.999,
    )  # fmt: skip
    by_days = make_allocator(measure="stockout_days", price=np.array([3.0, 3.0]), **common)(mean, size)
    assert by_days[0] > 0.9 > by_days[1]
    same_markup = make_allocator(measure="lost_sales", price=np.array([3.0, 3.0]), **common)(mean, size)
    np.testing.assert_allclose(same_markup[0], same_markup[1])
    markup = make_allocator(measure="lost_sales", price=np.array([8.0, 2.5]), **common)(mean, size)
    assert markup[0] > markup[1]


def test_categories_keep_their_own_targets_and_fixed_or_idle_rows_keep_their_level() -> None:
    mean = np.array([20.0, 60.0, 20.0, 60.0, 0.0, 30.0])
    size = np.full(6, 6.0)
    cost = np.array([1.0, 5.0, 1.0, 5.0, 1.0, 9.0])
    group = ["A", "A", "B", "B", "A", "A"]
    fixed = [False, False, False, False, False, True]
    flat = np.array([0.9, 0.9, 0.97, 0.97, 0.9, 0.8])
    lv = allocate_service_levels(
        mean=mean, size=size, flat_level=flat, inputs=_inputs(cost, 10.0 / np.maximum(mean, 1), group, fixed),
        floor=0.5, ceiling=0.999,
    )  # fmt: skip
    assert lv[4] == 0.9 and lv[5] == 0.8  # no demand; the item's own level
    only_b = allocate_service_levels(
        mean=mean[2:4], size=size[2:4], flat_level=flat[2:4], inputs=_inputs(cost[2:4], 10.0 / mean[2:4], ["B", "B"]),
        floor=0.5, ceiling=0.999,
    )  # fmt: skip
    np.testing.assert_allclose(lv[2:4], only_b)
    assert (
        _shortage(mean[:2], size[:2], lv[:2], 10.0 / mean[:2])
        <= _shortage(mean[:2], size[:2], flat[:2], 10.0 / mean[:2]) + 1e-9
    )


def test_an_unreachable_target_keeps_the_flat_levels() -> None:
    mean, size = np.array([50.0, 10.0]), np.array([INF, INF])
    flat = np.array([0.9995, 0.9995])
    lv = allocate_service_levels(
        mean=mean, size=size, flat_level=flat, inputs=_inputs([1.0, 3.0], 10.0 / mean), floor=0.5, ceiling=0.99
    )
    np.testing.assert_array_equal(lv, flat)


def test_rules_refuse_inconsistent_allocation_settings() -> None:
    with pytest.raises(ValueError, match="service_level_floor"):
        RiskRules(service_allocation="stockout_days", service_level_floor=0.99, service_level_ceiling=0.9)
    with pytest.raises(ValueError, match='service_measure = "cycle"'):
        RiskRules(service_allocation="lost_sales", service_measure="fill_rate")
    assert RiskRules().service_allocation == "flat"


def test_the_policy_levels_are_computed_at_the_allocated_levels() -> None:
    from stockwarden.risk.policy import protection_policy

    daily = np.array([[2.0] * 20, [2.0] * 20])
    pmf = np.zeros((2, 8))
    pmf[:, 5] = 1.0
    common = dict(  # noqa: C408
        daily_mean=daily, size=np.array([5.0, 5.0]), level_shape=np.array([INF, INF]), lead_time_pmf=pmf,
        review_period_days=np.array([7, 7]), service_level=np.array([0.95, 0.95]),
    )  # fmt: skip
    flat = protection_policy(**common)
    allocator = make_allocator(
        measure="stockout_days", flat_level=np.array([0.95, 0.95]), group=np.array(["A", "A"], dtype=object),
        unit_cost=np.array([20.0, 1.0]), price=np.full(2, np.nan), protection_days=np.array([12.0, 12.0]),
        fixed=np.zeros(2, bool), floor=0.5, ceiling=0.999,
    )  # fmt: skip
    alloc = protection_policy(**common, allocate=allocator)
    assert flat.service_level is not None and alloc.service_level is not None
    np.testing.assert_allclose(flat.service_level, 0.95)
    assert alloc.service_level[0] < 0.95 < alloc.service_level[1]
    assert alloc.order_up_to[0] < flat.order_up_to[0] and alloc.order_up_to[1] > flat.order_up_to[1]


def test_the_assessment_shows_the_level_each_sku_location_got() -> None:
    from tests.factories_risk import AS_OF, FakeLeadTimes, fake_forecast, make_risk_dataset

    from stockwarden.risk.assess import assess_risk

    ds = make_risk_dataset(on_hand=10.0)
    kw = dict(as_of=AS_OF, forecast=fake_forecast([("SKU-1", "WH1")], [2.0]), lead_times=FakeLeadTimes())  # noqa: C408
    flat = assess_risk(ds, rules=RiskRules(service_level_by_abc={}, service_level=0.95), **kw).iloc[0]
    alloc = assess_risk(
        ds, rules=RiskRules(service_level_by_abc={}, service_level=0.95, service_allocation="stockout_days"), **kw
    ).iloc[0]
    assert flat["service_level"] == 0.95
    # alone in its category, the item keeps the category's target: the same order-up-to level
    assert alloc["order_up_to"] == flat["order_up_to"]
    assert 0.5 <= alloc["service_level"] <= 0.999
