"""Safety stock, reorder point and order-up-to: golden textbook figures and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockwarden.risk.policy import (
    fill_rate_factor,
    normal_loss,
    normal_safety_stock,
    protection_policy,
    round_order_qty,
    service_factor,
    simulated_policy,
)


def test_golden_safety_stock_with_lead_time_variability() -> None:
    # Chopra & Meindl, "Supply Chain Management", safety inventory with uncertain lead time:
    # weekly demand 2,500 (sd 500), lead time 7 weeks (sd 7 weeks), CSL 90% -> sigma_L = 17,550, SS = 22,491.
    ss = normal_safety_stock(
        service_level=0.90, mean_daily_demand=2500, sd_daily_demand=500, lead_time_days=7, sd_lead_time_days=7
    )
    assert float(ss) == pytest.approx(22_491, abs=1)


def test_golden_safety_stock_with_fixed_lead_time() -> None:
    # Chopra & Meindl: weekly demand 2,500 (sd 500), lead time 2 weeks, CSL 90% -> SS = 1.2816 * 707 = 906.
    ss = normal_safety_stock(service_level=0.90, mean_daily_demand=2500, sd_daily_demand=500, lead_time_days=2)
    assert float(ss) == pytest.approx(906, abs=1)


def test_golden_fill_rate_safety_stock() -> None:
    # Chopra & Meindl: sigma_L = 707 (500 * sqrt(2)), Q = 10,000, fill rate 97.5% -> ESC = 250, SS = 67.
    sigma = 500 * np.sqrt(2)
    k = fill_rate_factor(0.975, order_qty=10_000, sigma=sigma)
    assert float(k * sigma) == pytest.approx(67, abs=1)
    assert float(sigma * normal_loss(k)) == pytest.approx(250, rel=1e-6)


def test_golden_newsvendor_base_stock_level() -> None:
    # Snyder & Shen, "Fundamentals of Supply Chain Theory", Example 4.3 (stockpyl newsvendor_normal):
    # h = 0.18, p = 0.70, demand N(50, 8) -> S* = 56.60.
    s = 50 + 8 * service_factor(0.70 / (0.70 + 0.18))
    assert float(s) == pytest.approx(56.60, abs=0.01)


def test_the_loss_function_matches_its_definition() -> None:
    z = np.random.default_rng(0).standard_normal(400_000)
    for k in (-1.0, 0.0, 0.5, 1.5):
        assert float(normal_loss(k)) == pytest.approx(np.maximum(z - k, 0).mean(), abs=5e-3)


def test_simulated_policy_agrees_with_the_normal_formula_for_normal_demand() -> None:
    rng = np.random.default_rng(0)
    paths = rng.normal(100.0, 20.0, (1, 20_000, 14))
    pmf = np.zeros((1, 15))
    pmf[0, 7] = 1.0
    pol = simulated_policy(
        demand_paths=paths, lead_time_pmf=pmf, review_period_days=np.array([7]), service_level=np.array([0.95])
    )
    expect_ss = normal_safety_stock(service_level=0.95, mean_daily_demand=100, sd_daily_demand=20, lead_time_days=14)
    assert pol.safety_stock[0] == pytest.approx(float(expect_ss), rel=0.08)
    assert pol.reorder_point[0] == pytest.approx(700 + float(service_factor(0.95)) * 20 * np.sqrt(7), rel=0.02)
    assert pol.mean_protection_demand[0] == pytest.approx(1400, rel=0.01)


def test_random_lead_times_need_more_safety_stock() -> None:
    paths = np.random.default_rng(1).poisson(5.0, (1, 4000, 30)).astype(float)
    fixed = np.zeros((1, 15))
    fixed[0, 7] = 1.0
    spread = np.zeros((1, 15))
    spread[0, [4, 7, 10]] = 1 / 3
    a = simulated_policy(
        demand_paths=paths, lead_time_pmf=fixed, review_period_days=np.array([7]), service_level=np.array([0.95])
    )
    b = simulated_policy(
        demand_paths=paths, lead_time_pmf=spread, review_period_days=np.array([7]), service_level=np.array([0.95])
    )
    assert b.safety_stock[0] > a.safety_stock[0]


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 0.99), st.floats(0.5, 0.99), st.sampled_from(["cycle", "fill_rate"]))
def test_safety_stock_is_non_decreasing_in_the_service_level(a: float, b: float, measure: str) -> None:
    lo, hi = sorted((a, b))
    paths = np.random.default_rng(2).poisson(3.0, (1, 300, 21)).astype(float)
    paths = np.concatenate([paths, paths])
    pmf = np.zeros((2, 10))
    pmf[:, 5] = 1.0
    pol = simulated_policy(
        demand_paths=paths,
        lead_time_pmf=pmf,
        review_period_days=np.array([7, 7]),
        service_level=np.array([lo, hi]),
        service_measure=measure,
    )
    assert pol.safety_stock[1] >= pol.safety_stock[0]
    assert pol.order_up_to[1] >= pol.order_up_to[0]
    ss = normal_safety_stock(
        service_level=np.array([lo, hi]), mean_daily_demand=3, sd_daily_demand=2, lead_time_days=5, sd_lead_time_days=1
    )
    assert ss[1] >= ss[0]


def test_orders_are_rounded_up_to_packs_and_the_moq() -> None:
    got = round_order_qty(
        np.array([0.0, 1.0, 13.0, -4.0]), pack_size=np.array([6.0, 6.0, 6.0, 6.0]), moq=np.array([12.0, 12.0, 0.0, 0.0])
    )
    assert got.tolist() == [0.0, 12.0, 18.0, 0.0]


def _nb_forecast(mean: np.ndarray, size: np.ndarray, level_shape: np.ndarray):  # type: ignore[no-untyped-def]
    import pandas as pd

    from stockwarden.domain.demand import DemandForecast

    n, days = mean.shape
    return DemandForecast(
        daily=pd.DataFrame(),
        series=pd.DataFrame(index=range(n)),
        dates=pd.date_range("2024-01-01", periods=days),
        mean=mean,
        size=size,
        level_shape=level_shape,
        as_of=pd.Timestamp("2023-12-31"),
    )


@pytest.mark.parametrize("measure", ["cycle", "fill_rate"])
def test_computed_levels_agree_with_a_large_simulation_of_the_same_forecast(measure: str) -> None:
    days = 40
    mean = np.vstack([np.full(days, 4.0), np.full(days, 0.3), np.full(days, 50.0), np.full(days, 10.0)])
    size = np.array([2.0, 0.5, 10.0, 3.0])
    shape = np.array([30.0, 30.0, 30.0, 8.0])
    pmf = np.zeros((4, 20))
    pmf[:, [5, 8, 14]] = [0.5, 0.3, 0.2]
    review = np.array([7, 7, 7, 14])
    level = np.array([0.95, 0.90, 0.98, 0.99])
    exact = protection_policy(
        daily_mean=mean,
        size=size,
        level_shape=shape,
        lead_time_pmf=pmf,
        review_period_days=review,
        service_level=level,
        service_measure=measure,
    )
    sim = simulated_policy(
        demand_paths=_nb_forecast(mean, size, shape).sample_paths(40_000, seed=1),
        lead_time_pmf=pmf,
        review_period_days=review,
        service_level=level,
        service_measure=measure,
    )
    np.testing.assert_allclose(exact.reorder_point, sim.reorder_point, rtol=0.05, atol=1)
    np.testing.assert_allclose(exact.order_up_to, sim.order_up_to, rtol=0.05, atol=2)
    np.testing.assert_allclose(exact.mean_protection_demand, sim.mean_protection_demand, rtol=0.02)


def test_computed_levels_read_only_the_protection_interval_and_are_deterministic() -> None:
    mean = np.tile(np.array([3.0, 3.0, 4.0, 5.0, 6.0, 2.0, 1.0]), (2, 8))  # 56 days, a weekly pattern
    pmf = np.zeros((2, 10))
    pmf[:, [4, 6, 9]] = [0.6, 0.3, 0.1]
    kwargs = {
        "size": np.array([2.0, 2.0]),
        "level_shape": np.array([20.0, 20.0]),
        "lead_time_pmf": pmf,
        "review_period_days": np.array([7, 7]),
        "service_level": np.array([0.95, 0.95]),
    }
    base = protection_policy(daily_mean=mean, **kwargs)
    later = mean.copy()
    later[:, 16:] *= 10  # days after the longest lead time (9) + review (7) must not matter
    for other in (protection_policy(daily_mean=later, **kwargs), protection_policy(daily_mean=mean[:, :16], **kwargs)):
        np.testing.assert_array_equal(other.reorder_point, base.reorder_point)
        np.testing.assert_array_equal(other.order_up_to, base.order_up_to)
    assert base.reorder_point[0] == base.reorder_point[1]  # identical rows, identical levels


def test_a_forecast_shorter_than_the_protection_interval_repeats_its_last_week() -> None:
    from stockwarden.risk.policy import extend_daily_mean

    week = np.array([[1.0, 2, 3, 4, 5, 6, 7]])
    got = extend_daily_mean(np.hstack([np.zeros((1, 3)), week]), 17)
    assert got.tolist() == [[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7]]


def test_no_demand_needs_no_stock() -> None:
    pmf = np.zeros((1, 5))
    pmf[0, 3] = 1.0
    pol = protection_policy(
        daily_mean=np.zeros((1, 20)),
        size=np.array([np.inf]),
        level_shape=np.array([np.inf]),
        lead_time_pmf=pmf,
        review_period_days=np.array([7]),
        service_level=np.array([0.99]),
    )
    assert (pol.reorder_point, pol.order_up_to, pol.safety_stock) == (0.0, 0.0, 0.0)


def test_sample_paths_use_common_random_numbers_and_a_stable_prefix_of_days() -> None:
    from stockwarden.risk.inputs import common_random_paths

    mean = np.array([[2.0] * 30, [0.5] * 30, [2.0] * 30])
    size, shape = np.array([1.5, 3.0, 1.5]), np.array([25.0, 25.0, 25.0])
    paths = common_random_paths(mean, size, shape, n_paths=300, seed=4)
    np.testing.assert_array_equal(paths[0], paths[2])  # identical rows, identical paths, wherever they stand
    short = common_random_paths(mean[[2], :12], size[[2]], shape[[2]], n_paths=300, seed=4)
    np.testing.assert_array_equal(short[0], paths[2][:, :12])  # drawing fewer days does not change the first ones
    assert paths[0].mean() == pytest.approx(2.0, rel=0.1)


def test_each_row_draws_only_its_own_window_and_those_days_match_a_full_draw() -> None:
    from stockwarden.risk.inputs import common_random_paths

    mean = np.array([[2.0] * 30, [0.5] * 30, [3.0] * 30])
    size, shape = np.array([1.5, np.inf, 0.8]), np.array([25.0, np.inf, 4.0])
    full = common_random_paths(mean, size, shape, n_paths=200, seed=7)
    windows = np.array([30, 9, 1])
    part = common_random_paths(mean, size, shape, n_paths=200, seed=7, days_drawn=windows)
    for i, w in enumerate(windows):
        np.testing.assert_array_equal(part[i, :, :w], full[i, :, :w])
        assert not part[i, :, w:].any()  # nothing is drawn past a row's window


def _levels(pmf: np.ndarray, *, mean: float, review: int, level: float, independent: bool) -> float:
    n = len(pmf)
    pol = protection_policy(
        daily_mean=np.full((n, pmf.shape[1] + review + 5), mean),
        size=np.full(n, np.inf),
        level_shape=np.full(n, np.inf),
        lead_time_pmf=pmf,
        review_period_days=np.full(n, review),
        service_level=np.full(n, level),
        independent_lead_times=independent,
    )
    return float(pol.order_up_to[0])


@pytest.mark.parametrize(("lead", "review"), [(0, 7), (3, 7), (7, 7), (10, 7), (16, 7), (5, 1), (20, 14)])
def test_with_a_certain_lead_time_independent_lead_times_change_nothing(lead: int, review: int) -> None:
    pmf = np.zeros((1, 25))
    pmf[0, lead] = 1.0
    for level in (0.8, 0.95, 0.995):
        one = _levels(pmf, mean=3.0, review=review, level=level, independent=False)
        assert _levels(pmf, mean=3.0, review=review, level=level, independent=True) == one


def test_independent_lead_times_cover_the_simulated_shortfall_of_an_order_up_to_system_where_orders_cross() -> None:
    # Periodic review every R days up to S with backorders: each review orders what the last period sold,
    # and every order draws its own lead time (an order of lead time L is still out after L days, the
    # L + R convention). The shortfall S - net stock does not depend on S; its worst phase of the review
    # cycle must be covered at the service level.
    rng = np.random.default_rng(7)
    review, d, level = 7, 6.0, 0.95
    leads, probs = np.array([5, 8, 14]), np.array([0.5, 0.3, 0.2])
    pmf = np.zeros((1, 20))
    pmf[0, leads] = probs
    days = 140_000
    demand = rng.poisson(d, days).astype(float)
    cum = np.r_[0.0, np.cumsum(demand)]
    reviews = np.arange(review, days - 40, review)
    qty = cum[reviews + 1] - cum[reviews + 1 - review]  # days reviews-R+1 .. reviews (inclusive)
    lead = rng.choice(leads, size=len(reviews), p=probs)
    out_until = reviews + lead  # still out at the end of days t+1 .. t+L
    shortfall = np.zeros(days)
    for t, q, until in zip(reviews, qty, out_until, strict=True):
        shortfall[t + 1 : until + 1] += q
    tau = np.arange(reviews[4], reviews[-4])
    last_review = reviews[np.searchsorted(reviews, tau, side="right") - 1]
    phase = tau - last_review  # 0 = the review day after ordering; the demand since then is still unordered
    shortfall_tau = shortfall[tau] + cum[tau + 1] - cum[last_review + 1]
    phase = np.where(phase == 0, review, phase)
    shortfall_tau = np.where(tau == last_review, shortfall_tau + qty[np.searchsorted(reviews, tau)], shortfall_tau)
    worst = max(np.quantile(shortfall_tau[phase == u], level, method="higher") for u in range(1, review + 1))

    independent = _levels(pmf, mean=d, review=review, level=level, independent=True)
    one = _levels(pmf, mean=d, review=review, level=level, independent=False)
    assert independent == pytest.approx(worst, rel=0.03)
    assert one >= independent + 5  # one lead time for the whole pipeline over-covers when orders cross


def test_the_assessment_reads_risk_independent_lead_times() -> None:
    from dataclasses import dataclass

    from tests.factories_risk import AS_OF, FakeLeadTimes, fake_forecast, make_risk_dataset

    from stockwarden.config import RiskRules
    from stockwarden.risk.assess import assess_risk

    @dataclass
    class VariableLeadTimes(FakeLeadTimes):
        def lead_time_pmfs(self, keys):  # type: ignore[no-untyped-def]
            pmf, src = super().lead_time_pmfs(keys)
            pmf[:, :] = 0.0
            pmf[:, [5, 14]] = 0.5
            return pmf, src

    ds = make_risk_dataset(on_hand=10.0)
    fc = fake_forecast([("SKU-1", "WH1")], [5.0])

    def up_to(lead_times: FakeLeadTimes, independent: bool) -> float:
        rules = RiskRules(service_level_by_abc={}, service_level=0.95, independent_lead_times=independent)
        return float(
            assess_risk(ds, as_of=AS_OF, forecast=fc, lead_times=lead_times, rules=rules)["order_up_to"].iloc[0]
        )

    assert up_to(FakeLeadTimes(), True) == up_to(FakeLeadTimes(), False)
    assert up_to(VariableLeadTimes(), True) < up_to(VariableLeadTimes(), False)
