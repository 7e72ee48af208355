"""Monte Carlo stock projection."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stockwarden.risk.coverage import OpenSupply, days_of_cover, draw_arrival_days, project_stock


def _paths(rate: float, n: int = 1, paths: int = 400, days: int = 20, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).poisson(rate, (n, paths, days)).astype(float)


def _po(day: int, qty: float, days: int = 20, row: int = 0) -> OpenSupply:
    pmf = np.zeros((1, days))
    pmf[0, day - 1] = 1.0
    return OpenSupply(np.array([row]), np.array([qty]), pmf, np.zeros(1), np.ones(1))


def test_deterministic_demand_runs_out_on_the_expected_day() -> None:
    demand = np.full((1, 10, 20), 2.0)
    res = project_stock(
        on_hand=np.array([5.0]), demand_paths=demand, supply=OpenSupply.empty(20), horizon_days=np.array([10])
    )
    # 5 units at 2/day: day 1 -> 3, day 2 -> 1, day 3 cannot be served
    assert res.p_stockout[0] == 1.0
    assert res.stockout_day_p50[0] == 3.0
    assert res.expected_short[0] == 15.0  # 20 demanded over 10 days, 5 in stock


def test_no_demand_means_no_stockout_even_at_zero_stock() -> None:
    res = project_stock(
        on_hand=np.array([0.0]),
        demand_paths=np.zeros((1, 50, 10)),
        supply=OpenSupply.empty(10),
        horizon_days=np.array([10]),
    )
    assert res.p_stockout[0] == 0.0
    assert np.isnan(res.stockout_day_p50[0])


def test_an_arriving_order_prevents_the_stockout() -> None:
    demand = np.full((1, 10, 20), 2.0)
    res = project_stock(on_hand=np.array([5.0]), demand_paths=demand, supply=_po(2, 100.0), horizon_days=np.array([10]))
    assert res.p_stockout[0] == 0.0
    assert res.expected_receipts[0] == 100.0


def test_short_deliveries_bring_less_stock() -> None:
    pmf = np.zeros((1, 20))
    pmf[0, 0] = 1.0
    always_short = OpenSupply(np.array([0]), np.array([10.0]), pmf, np.ones(1), np.array([0.5]))
    res = project_stock(
        on_hand=np.array([0.0]), demand_paths=np.full((1, 5, 20), 1.0), supply=always_short, horizon_days=np.array([10])
    )
    assert res.expected_receipts[0] == 5.0
    assert res.stockout_day_p50[0] == 6.0


def test_chunks_cover_all_rows_in_order() -> None:
    paths = np.concatenate([_paths(0.0, n=3), _paths(5.0, n=2)])
    res = project_stock(
        on_hand=np.full(5, 10.0),
        demand_paths=paths,
        supply=OpenSupply.empty(20),
        horizon_days=np.full(5, 10),
        chunk_series=2,
    )
    assert res.p_stockout.tolist()[:3] == [0.0, 0.0, 0.0]
    assert (res.p_stockout[3:] > 0.99).all()


def test_the_stockout_curve_is_a_non_decreasing_probability() -> None:
    res = project_stock(
        on_hand=np.array([10.0, 30.0]),
        demand_paths=_paths(2.0, n=2),
        supply=OpenSupply.empty(20),
        horizon_days=np.array([20, 5]),
    )
    assert (np.diff(res.stockout_curve, axis=1) >= 0).all()
    assert ((res.stockout_curve >= 0) & (res.stockout_curve <= 1)).all()
    assert res.p_stockout[1] == res.stockout_curve[1, 4]


def test_arrival_days_follow_the_pmf() -> None:
    pmf = np.array([[0.5, 0.0, 0.3]])  # 0.2 beyond the grid
    days = draw_arrival_days(pmf, np.random.default_rng(0).random((1, 20000)))
    share = np.bincount(days[0], minlength=5)[1:] / 20000
    assert np.allclose(share, [0.5, 0.0, 0.3, 0.2], atol=0.02)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 40), st.floats(0, 40), st.floats(0.1, 6))
def test_probability_is_non_increasing_as_on_hand_grows(a: float, b: float, rate: float) -> None:
    lo, hi = sorted((a, b))
    paths = _paths(rate, n=1, paths=100)
    res = project_stock(
        on_hand=np.array([lo, hi]),
        demand_paths=np.concatenate([paths, paths]),
        supply=OpenSupply.empty(20),
        horizon_days=np.array([14, 14]),
    )
    assert res.p_stockout[1] <= res.p_stockout[0]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 19), st.integers(0, 10), st.floats(0, 20), st.floats(0.1, 5))
def test_probability_is_non_decreasing_as_the_order_comes_later(
    day: int, later: int, on_hand: float, rate: float
) -> None:
    paths = _paths(rate, n=1, paths=100)
    p = []
    for d in (day, min(day + later, 20)):
        res = project_stock(
            on_hand=np.array([on_hand]), demand_paths=paths, supply=_po(d, 30.0), horizon_days=np.array([20]), seed=3
        )
        p.append(res.p_stockout[0])
    assert p[1] >= p[0]


def test_days_of_cover_is_capped_when_nothing_sells() -> None:
    assert days_of_cover(np.array([10.0, 10.0, -3.0]), np.array([2.0, 0.0, 1.0])).tolist() == [5.0, 999.0, 0.0]


def test_first_stockout_before_a_day_reads_the_curve_one_day_earlier() -> None:
    from stockwarden.risk.coverage import first_stockout_before

    curve = np.array([[0.1, 0.3, 0.6, 0.9], [0.0, 0.0, 0.2, 0.2]])
    assert first_stockout_before(curve, np.array([3, 1])).tolist() == [0.3, 0.0]
    assert first_stockout_before(curve, np.array([5, 4])).tolist() == [0.9, 0.2]


def test_window_probability_splits_the_refined_probability_by_the_projections_timing() -> None:
    from stockwarden.risk.coverage import window_probability

    got = window_probability(
        stockout_probability=np.array([0.8, 0.5, 0.2]),
        projection_within=np.array([0.6, 0.0, 0.4]),
        projection_before=np.array([0.3, 0.0, 0.4]),
        window_days=np.array([8, 8, 8]),
        horizon_days=np.array([14, 16, 14]),
        resolution=0.004,
    )
    # half of the projection's stockouts are late; no path ran out: the window's share of days; all early
    np.testing.assert_allclose(got, [0.4, 0.25, 0.0])
