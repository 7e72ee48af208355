"""The closed loop: units conserved, no peeking, deterministic, and a hand-made case with known answers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.factories import make_dataset_folder

from stockwarden.ingest.dataset import load_dataset
from stockwarden.simulate.engine import DayView, simulate
from stockwarden.simulate.metrics import SUMMARY_COLUMNS, per_series_metrics, summary_row
from stockwarden.simulate.policies import make_policy
from stockwarden.simulate.run import run_policies
from stockwarden.simulate.world import World, build_world

START, END = pd.Timestamp("2024-04-01"), pd.Timestamp("2024-05-30")
RULE_POLICIES = ("reorder_level", "days_of_cover", "textbook")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = make_dataset_folder(tmp_path_factory.mktemp("sim") / "ds", n_skus=4, days=200, seed=3)
    ds = load_dataset(folder)
    rng = np.random.default_rng(1)
    keys = ds.series_keys()
    dates = pd.date_range(START, END)
    demand = pd.DataFrame(
        [
            {"date": d, "sku": k.sku, "location_id": k.location_id, "qty": float(rng.poisson(5 + 2 * i))}
            for i, k in enumerate(keys.itertuples())
            for d in dates
        ]
    )
    return build_world(ds, start=START, end=END, demand=demand, seed=7)


@pytest.mark.parametrize("name", [*RULE_POLICIES, "hindsight"])
@pytest.mark.parametrize("backorders", [False, True])
def test_units_are_conserved_every_day(world: World, name: str, backorders: bool) -> None:
    r = simulate(world, make_policy(name), backorders=backorders, shrink_rate=0.05)
    begin = np.concatenate([r.on_hand_start[:, None], r.on_hand_end[:, :-1]], axis=1)
    assert np.allclose(begin + r.receipts - r.sales - r.shrink, r.on_hand_end)
    assert (r.on_hand_end >= 0).all()
    assert r.shrink.sum() > 0
    assert len(r.orders) > 0


def test_sales_never_exceed_demand_with_lost_sales(world: World) -> None:
    r = simulate(world, make_policy("textbook"))
    assert (r.sales <= world.demand + 1e-9).all()
    assert np.allclose(r.sales + r.unmet, world.demand)


@pytest.mark.parametrize("name", RULE_POLICIES)
def test_a_policy_never_sees_the_future(world: World, name: str) -> None:
    day = 20
    changed = world.demand.copy()
    changed[:, day + 1 :] = changed[:, day + 1 :] * 3 + 7
    a = simulate(world, make_policy(name))
    b = simulate(replace(world, demand=changed), make_policy(name))
    before = [(o.day, o.series, o.qty) for o in a.orders if o.day <= day]
    assert before == [(o.day, o.series, o.qty) for o in b.orders if o.day <= day]
    assert before  # the test has orders to compare
    assert [(o.day, o.qty) for o in a.orders] != [(o.day, o.qty) for o in b.orders]


def test_identical_seeds_give_identical_results(world: World, tmp_path: Path) -> None:
    one = run_policies(world, [make_policy(n) for n in RULE_POLICIES])
    two = run_policies(world, [make_policy(n) for n in RULE_POLICIES])
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.per_sku, two.per_sku)


def test_results_do_not_depend_on_the_number_of_workers(world: World) -> None:
    one = run_policies(world, [make_policy(n) for n in RULE_POLICIES])
    two = run_policies(world, [make_policy(n) for n in RULE_POLICIES], workers=2)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.per_sku, two.per_sku)


def test_deliveries_are_the_same_draws_for_every_policy(world: World) -> None:
    a = simulate(world, make_policy("reorder_level", 3.0))
    b = simulate(world, make_policy("days_of_cover", 42.0))
    seen = {(o.day, o.series): (o.arrival_day - o.day, o.received_qty / o.qty) for o in a.orders}
    common = [(o.day, o.series) for o in b.orders if (o.day, o.series) in seen]
    assert common
    for o in b.orders:
        if (o.day, o.series) in seen:
            lead, fill = world.deliveries.delivery(o.series, o.day)
            assert seen[(o.day, o.series)][0] == o.arrival_day - o.day == lead
            assert o.received_qty == np.floor(o.qty * fill + 1e-9)


def test_another_seed_draws_other_deliveries(world: World, tmp_path: Path) -> None:
    other = replace(
        world,
        deliveries=replace(world.deliveries, draws=np.random.default_rng(99).random(world.deliveries.draws.shape)),
    )
    leads = [world.deliveries.delivery(0, t)[0] for t in range(world.n_days)]
    assert leads != [other.deliveries.delivery(0, t)[0] for t in range(world.n_days)]


@dataclass
class NeverOrders:
    """A policy that never orders (to check the bookkeeping by hand)."""

    name: str = "never"
    knob: float | str = 0.0

    def bind(self, world: World) -> None:
        pass

    def order_qty(self, view: DayView) -> np.ndarray:
        return np.zeros(len(view.on_hand))


def test_hand_made_case_has_the_known_fill_rate_stockout_days_and_turnover(world: World) -> None:
    # one SKU-location, 10 on hand, demand 3 a day for 5 days, unit cost 2, price 5, nothing ordered:
    # sales 3 3 3 1 0, end stock 7 4 1 0 0, unmet on days 4 and 5 (2 + 3 units)
    one = replace(
        world,
        keys=world.keys.iloc[:1].reset_index(drop=True),
        dates=world.dates[:5],
        demand=np.full((1, 5), 3.0),
        on_hand_start=np.array([10.0]),
        open_lines=(),
        past_sales=np.zeros((1, 10)),
        unit_cost=np.array([2.0]),
        price=np.array([5.0]),
        pack_size=np.array([1.0]),
        moq=np.array([0.0]),
        stated_lead_time_days=np.array([3.0]),
        review_period_days=np.array([7]),
        category=np.array(["c"]),
        supplier_id=np.array(["S"], dtype=object),
        shrink_draws=np.ones((1, 5)),
    )
    r = simulate(one, NeverOrders())
    row = summary_row(one, r)
    assert row["stockout_days"] == 2
    assert row["fill_rate"] == pytest.approx(10 / 15)
    assert row["lost_sales_value"] == pytest.approx(5 * 5.0)
    assert row["avg_inventory_value"] == pytest.approx((7 + 4 + 1 + 0 + 0) / 5 * 2)
    assert row["turnover"] == pytest.approx(10 * 2 / 4.8)
    assert row["orders"] == 0 and row["order_lines"] == 0
    assert per_series_metrics(one, r)["stockout_days"].tolist() == [2]


def test_hand_made_case_with_backorders_serves_the_backlog_on_arrival(world: World) -> None:
    one = replace(
        world,
        keys=world.keys.iloc[:1].reset_index(drop=True),
        dates=world.dates[:4],
        demand=np.array([[4.0, 4.0, 0.0, 0.0]]),
        on_hand_start=np.array([2.0]),
        open_lines=(type(world.open_lines[0])(series=0, qty=10.0, order_day=-3, arrival_day=2, received_qty=10.0),)
        if world.open_lines
        else (),
        past_sales=np.zeros((1, 10)),
        review_period_days=np.array([7]),
        shrink_draws=np.ones((1, 4)),
    )
    if not one.open_lines:
        pytest.skip("factory dataset has no open line to copy")
    r = simulate(one, NeverOrders(), backorders=True)
    assert r.sales.tolist() == [[2.0, 0.0, 6.0, 0.0]]
    assert r.unmet.tolist() == [[2.0, 6.0, 0.0, 0.0]]
    assert summary_row(one, r)["stockout_days"] == 2


def test_summary_has_exactly_the_contract_columns(world: World) -> None:
    res = run_policies(world, [make_policy("textbook"), make_policy("hindsight")])
    assert tuple(res.summary.columns) == SUMMARY_COLUMNS
    assert res.summary["policy"].tolist() == ["textbook", "hindsight"]


def test_hindsight_is_at_least_as_good_as_the_rules(world: World) -> None:
    res = run_policies(world, [make_policy(n) for n in (*RULE_POLICIES, "hindsight")])
    s = res.summary.set_index("policy")
    first_days = max(int(world.stated_lead_time_days.max()) + 1, 1)
    # after the first delivery can arrive, hindsight never runs short
    hind = next(r for r in res.results if r.policy == "hindsight")
    assert (hind.unmet[:, first_days + 1 :] <= 1e-9).all() or s.loc["hindsight", "stockout_days"] <= min(
        s.loc[n, "stockout_days"] for n in RULE_POLICIES
    )


def test_policies_review_on_the_rules_review_days_when_the_world_follows_the_rules_anchor(world: World) -> None:
    # 2024-04-01 is a Monday: weekly reviews anchored on Wednesday 2024-01-03 fall on 04-03, 04-10, ...
    anchored = replace(
        world, review_offset_days=np.full(world.n_series, 2), review_period_days=np.full(world.n_series, 7)
    )
    days = {o.day for o in simulate(anchored, make_policy("textbook")).orders}
    assert days and all(d % 7 == 2 for d in days)
    assert world.dates[min(days)].day_name() == "Wednesday"


def test_build_world_places_the_first_review_on_the_rules_anchor_schedule(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=120, seed=3)
    ds = load_dataset(folder)
    keys = ds.series_keys()
    demand = pd.DataFrame(
        [{"date": START, "sku": k.sku, "location_id": k.location_id, "qty": 1.0} for k in keys.itertuples()]
    )
    w = build_world(
        ds, start=START, end=END, demand=demand, review_period_days={"*": 14}, review_anchor=pd.Timestamp("2024-01-03")
    )
    # 2024-01-03 + 7 fortnights = 2024-04-10, nine days after the start
    assert w.review_offset_days is not None and w.review_offset_days.tolist() == [9] * w.n_series
    assert not w.review_due(0).any() and not w.review_due(2).any()
    assert w.review_due(9).all() and not w.review_due(16).any() and w.review_due(23).all()
