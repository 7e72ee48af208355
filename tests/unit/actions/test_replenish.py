"""Order proposals: quantities, explanations, grouping, supplier minimums and the cash budget."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from tests.factories_orders import AS_OF, make_assessment, make_assessment_row, make_item, make_orders_dataset

from stockwarden.actions.replenish import (
    SKIP_ABOVE_ROP,
    SKIP_COVERED,
    compute_eoq,
    propose_orders,
)
from stockwarden.config import RulesConfig
from stockwarden.errors import InputError


def rules(**orders: object) -> RulesConfig:
    return RulesConfig.model_validate({"orders": orders})


def only_line(ps):  # type: ignore[no-untyped-def]
    assert len(ps.lines) == 1
    return ps.lines[0]


def test_quantity_is_order_up_to_minus_position_rounded_up_to_the_pack_and_explained() -> None:
    ds = make_orders_dataset([make_item("A", pack_size=12.0, moq=48.0)])
    a = make_assessment([make_assessment_row("A", on_hand=25, on_order=12, reorder_point=45, order_up_to=120)])
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules()))
    assert line.qty == 84
    assert line.need_qty == 83
    assert line.inventory_position == 37
    assert "order-up-to 120 − position 37 = 83 → 84 (pack 12); MOQ 48 ok" in line.explanation
    assert "on hand 25 + on order 12 − backorders 0" in line.explanation


def test_moq_raises_a_small_need_to_the_moq_rounded_to_whole_packs() -> None:
    ds = make_orders_dataset([make_item("A", pack_size=12.0, moq=50.0)])
    a = make_assessment([make_assessment_row("A", on_hand=40, on_order=0, reorder_point=45, order_up_to=50)])
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules()))
    assert line.qty == 60  # MOQ 50 is 4.17 packs -> 5 packs
    assert "raised to MOQ 50 → 60" in line.explanation


def test_backorders_lower_the_position() -> None:
    ds = make_orders_dataset([make_item("A", pack_size=1.0, moq=0.0)])
    a = make_assessment(
        [make_assessment_row("A", on_hand=0, on_order=10, backorders=5, reorder_point=20, order_up_to=40)]
    )
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules()))
    assert line.inventory_position == 5
    assert line.qty == 35


BETWEEN_REVIEWS = AS_OF + dt.timedelta(days=1)  # AS_OF is a Monday: the default weekly review day


def test_between_reviews_nothing_is_proposed_above_the_reorder_point_or_when_open_orders_cover_it() -> None:
    ds = make_orders_dataset([make_item("A"), make_item("B")])
    a = make_assessment(
        [
            make_assessment_row("A", on_hand=100, on_order=0, reorder_point=45, order_up_to=120),
            make_assessment_row("B", on_hand=10, on_order=60, reorder_point=45, order_up_to=120),
        ]
    )
    ps = propose_orders(a, ds, as_of=BETWEEN_REVIEWS, rules=rules())
    assert ps.lines == ()
    assert ps.skipped == {("A", "WH1"): SKIP_ABOVE_ROP, ("B", "WH1"): SKIP_COVERED}


def test_between_reviews_an_item_at_or_below_its_reorder_point_is_ordered_up_to_the_order_up_to_level() -> None:
    ds = make_orders_dataset([make_item("A", pack_size=1.0, moq=0.0)])
    a = make_assessment([make_assessment_row("A", on_hand=40, on_order=5, reorder_point=45, order_up_to=120)])
    line = only_line(propose_orders(a, ds, as_of=BETWEEN_REVIEWS, rules=rules()))
    assert line.qty == 75
    assert "position 45 (on hand 40 + on order 5 − backorders 0) ≤ reorder point 45" in line.explanation


def test_on_a_review_day_a_position_below_the_order_up_to_level_is_topped_up_and_the_line_says_why() -> None:
    ds = make_orders_dataset([make_item("A", pack_size=1.0, moq=0.0)])
    a = make_assessment([make_assessment_row("A", on_hand=100, on_order=0, reorder_point=45, order_up_to=120)])
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules()))
    assert line.qty == 20
    assert line.explanation.startswith(
        "position 100 (on hand 100 + on order 0 − backorders 0) < order-up-to 120 at the review (every 7 days); "
        "order-up-to 120 − position 100 = 20"
    )


def test_on_a_review_day_nothing_is_proposed_at_the_order_up_to_level_or_when_open_orders_reach_it() -> None:
    ds = make_orders_dataset([make_item("A"), make_item("B")])
    a = make_assessment(
        [
            make_assessment_row("A", on_hand=120, on_order=0, reorder_point=45, order_up_to=120),
            make_assessment_row("B", on_hand=10, on_order=110, reorder_point=45, order_up_to=120),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules())
    assert ps.lines == ()
    assert ps.skipped == {("A", "WH1"): SKIP_ABOVE_ROP, ("B", "WH1"): SKIP_COVERED}


@pytest.mark.parametrize(
    ("settings", "tops_up"),
    [
        ({}, True),  # weekly from Monday 2024-01-01: 2024-04-15 is a Monday
        ({"review_period_days": 14}, False),  # fortnightly from 2024-01-01: 105 days is 7.5 fortnights
        ({"review_period_days": 14, "review_anchor_date": "2024-04-01"}, True),
        ({"review_anchor_date": "2024-01-03"}, False),  # weekly on Wednesdays
        ({"review_period_days": 1}, True),  # daily review
    ],
)
def test_review_days_are_every_review_period_from_the_rules_anchor(settings: dict[str, object], tops_up: bool) -> None:
    ds = make_orders_dataset([make_item("A")])
    a = make_assessment([make_assessment_row("A", on_hand=100, on_order=0, reorder_point=45, order_up_to=120)])
    assert bool(propose_orders(a, ds, as_of=AS_OF, rules=rules(**settings)).lines) is tops_up


def test_the_assessments_review_period_per_category_decides_the_review_day() -> None:
    ds = make_orders_dataset([make_item("A"), make_item("B")])
    a = make_assessment(
        [
            make_assessment_row("A", on_hand=100, on_order=0, review_period_days=7),
            make_assessment_row("B", on_hand=100, on_order=0, review_period_days=14),
        ]
    )
    assert {ln.sku for ln in propose_orders(a, ds, as_of=AS_OF, rules=rules()).lines} == {"A"}


def test_exported_orders_not_yet_in_the_data_count_as_on_order() -> None:
    ds = make_orders_dataset([make_item("A")])
    a = make_assessment([make_assessment_row("A", on_hand=25, on_order=0, reorder_point=45)])
    exported = pd.DataFrame(
        [
            {
                "po_id": "SW-1",
                "sku": "A",
                "location_id": "WH1",
                "qty": 96.0,
                "order_date": pd.Timestamp("2024-04-20"),
                "received_date": pd.NaT,
            }
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules(), exported=exported)
    assert ps.lines == ()
    assert ps.skipped[("A", "WH1")] == SKIP_COVERED


def test_an_exported_order_already_in_the_data_is_not_counted_twice() -> None:
    ds = make_orders_dataset(
        [make_item("A")],
        purchase_orders=[{"po_id": "SW-1", "sku": "A", "qty": 96.0, "order_date": "2024-04-10", "supplier_id": "S1"}],
    )
    # the assessment already counts SW-1 in on_order (12 of it still to come, say) and stays below the ROP
    a = make_assessment([make_assessment_row("A", on_hand=20, on_order=12, reorder_point=45)])
    exported = pd.DataFrame(
        [{"po_id": "SW-1", "sku": "A", "location_id": "WH1", "qty": 96.0, "order_date": pd.Timestamp("2024-04-10")}]
    )
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules(), exported=exported))
    assert line.inventory_position == 32


def test_lines_are_grouped_per_supplier_and_location_with_order_by_and_arrival_dates() -> None:
    ds = make_orders_dataset(
        [
            make_item("A", lead_time_days=7.0),
            make_item("B", lead_time_days=10.0),
            make_item("C", supplier_id="S2", lead_time_days=3.0),
        ]
    )
    a = make_assessment(
        [
            make_assessment_row("A", stockout_probability=0.3, expected_stockout_date="2024-04-30"),
            make_assessment_row("B", stockout_probability=0.9, expected_stockout_date="2024-04-18"),
            make_assessment_row("C"),
            make_assessment_row("A", location_id="WH2"),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules())
    ids = {o.po_id: o for o in ps.orders}
    assert set(ids) == {"SW-20240415-S1-WH1", "SW-20240415-S1-WH2", "SW-20240415-S2-WH1"}
    s1 = ids["SW-20240415-S1-WH1"]
    assert [ln.sku for ln in s1.lines] == ["B", "A"]  # most at risk first
    assert [ln.line_no for ln in s1.lines] == [1, 2]
    a_line = s1.lines[1]
    assert a_line.order_by_date == dt.date(2024, 4, 23)  # stockout 04-30 minus 7 days lead time
    assert s1.lines[0].order_by_date == AS_OF  # already too late: order today
    assert a_line.expected_arrival_date == dt.date(2024, 4, 22)
    assert s1.order_by_date == AS_OF
    assert s1.expected_arrival_date == dt.date(2024, 4, 25)


def test_lead_time_falls_back_from_item_to_supplier_to_default() -> None:
    ds = make_orders_dataset(
        [make_item("A", lead_time_days=None), make_item("B", lead_time_days=None, supplier_id="S9")],
        suppliers=[{"supplier_id": "S1", "lead_time_days": 5.0}],
    )
    a = make_assessment([make_assessment_row("A"), make_assessment_row("B")])
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules())
    lt = {ln.sku: ln.lead_time_days for ln in ps.lines}
    assert lt == {"A": 5.0, "B": RulesConfig().forecast.default_lead_time_days}


@pytest.mark.parametrize(
    ("annual_demand", "ordering_cost", "holding_rate", "unit_cost", "expected"),
    [
        (1000, 10, 0.5, 1, 200.0),  # sqrt(2*1000*10/0.5)
        (1200, 100, 0.2, 30, 200.0),  # textbook: sqrt(2*1200*100/6)
        (10400, 48, 0.25, 12.8, 558.57),
        (0, 10, 0.5, 1, 0.0),
        (1000, 10, 0.5, 0, 0.0),
    ],
)
def test_eoq_golden_values(
    annual_demand: float, ordering_cost: float, holding_rate: float, unit_cost: float, expected: float
) -> None:
    got = compute_eoq(
        annual_demand=annual_demand, ordering_cost=ordering_cost, holding_rate=holding_rate, unit_cost=unit_cost
    )
    assert got == pytest.approx(expected, abs=0.01)


def test_eoq_lot_size_replaces_a_smaller_need_and_says_so() -> None:
    # demand 10/day -> 3650/yr; EOQ = sqrt(2*3650*50/(0.25*2)) = 854.4 -> 864 (72 packs of 12)
    ds = make_orders_dataset([make_item("A", unit_cost=2.0, pack_size=12.0, moq=0.0)])
    a = make_assessment([make_assessment_row("A", daily_demand=10.0)])
    line = only_line(
        propose_orders(a, ds, as_of=AS_OF, rules=rules(use_eoq=True, ordering_cost=50.0, holding_rate=0.25))
    )
    assert math.sqrt(2 * 3650 * 50 / 0.5) == pytest.approx(854.4, abs=0.1)
    assert line.qty == 864
    assert "EOQ 854.4" in line.explanation


def test_max_cover_caps_the_eoq_but_never_below_the_need() -> None:
    ds = make_orders_dataset([make_item("A", unit_cost=2.0, pack_size=1.0, moq=0.0)])
    a = make_assessment([make_assessment_row("A", daily_demand=10.0, on_hand=25, on_order=12)])
    capped = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules(use_eoq=True, max_cover_days=30)))
    assert capped.qty == 10 * 30 - 37  # cover cap 300 - position 37
    assert "30 days of cover" in capped.explanation
    tight = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules(use_eoq=True, max_cover_days=5)))
    assert tight.qty == 83  # the need (order-up-to 120 - 37) wins over a 5-day cap


def test_demand_from_recent_sales_when_the_assessment_has_none() -> None:
    sales = [
        {"date": f"2024-04-{d:02d}", "sku": "A", "location_id": "WH1", "qty": 9.0, "price": 5.0} for d in range(1, 16)
    ]
    ds = make_orders_dataset([make_item("A", pack_size=1.0, moq=0.0)], sales=sales)
    a = make_assessment([make_assessment_row("A")])
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules(use_eoq=True, demand_window_days=15)))
    # 9/day -> 3285/yr; EOQ = sqrt(2*3285*50/(0.25*2)) = 810.5 -> 811
    assert line.qty == 811
    # margin from prices: (5 - 2) per unit short
    assert line.avoided_stockout_cost == pytest.approx(3.0 * line.expected_units_short)


def test_supplier_minimum_is_reached_by_topping_up_the_most_at_risk_line_in_whole_packs() -> None:
    ds = make_orders_dataset(
        [make_item("A", unit_cost=2.0, pack_size=12.0, moq=0.0), make_item("B", unit_cost=10.0, pack_size=6.0, moq=0.0)]
    )
    a = make_assessment(
        [
            make_assessment_row("A", stockout_probability=0.8),
            make_assessment_row(
                "B", stockout_probability=0.4, on_hand=10, on_order=0, reorder_point=20, order_up_to=50
            ),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules(supplier_min_order_value={"S1": 800.0}))
    order = ps.orders[0]
    assert order.total_value >= 800
    first = order.lines[0]
    assert first.sku == "A" and first.qty % 12 == 0
    assert first.qty == 84 + 12 * math.ceil((800 - 588) / 24)
    assert "topped up +108 (9 packs of 12)" in first.explanation
    assert order.lines[1].qty == 42  # untouched
    assert any("supplier minimum 800" in n for n in order.notes)


def test_supplier_minimum_respects_the_cover_cap_before_moving_to_the_next_line() -> None:
    ds = make_orders_dataset(
        [make_item("A", unit_cost=1.0, pack_size=10.0, moq=0.0), make_item("B", unit_cost=1.0, pack_size=10.0, moq=0.0)]
    )
    a = make_assessment(
        [
            make_assessment_row(
                "A", stockout_probability=0.9, on_hand=0, on_order=0, reorder_point=10, order_up_to=20, daily_demand=1.0
            ),
            make_assessment_row(
                "B",
                stockout_probability=0.1,
                on_hand=0,
                on_order=0,
                reorder_point=10,
                order_up_to=20,
                daily_demand=10.0,
            ),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules(supplier_min_order_value={"S1": 200.0}, max_cover_days=30))
    qty = {ln.sku: ln.qty for ln in ps.lines}
    assert qty["A"] == 30  # capped at 30 days x 1/day
    assert qty["B"] == 170
    assert sum(qty.values()) == 200


def test_budget_keeps_the_best_value_for_money_lines_and_cuts_the_rest() -> None:
    ds = make_orders_dataset([make_item(s, unit_cost=1.0, pack_size=1.0, moq=0.0) for s in "ABC"])
    a = make_assessment(
        [
            make_assessment_row("A", expected_units_short=10.0, on_hand=0, on_order=0, order_up_to=100),
            make_assessment_row("B", expected_units_short=80.0, on_hand=0, on_order=0, order_up_to=100),
            make_assessment_row("C", expected_units_short=40.0, on_hand=0, on_order=0, order_up_to=100),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules(budget=250.0, stockout_cost_per_unit=5.0))
    kept = {ln.sku: ln.qty for ln in ps.lines}
    assert kept == {"B": 100, "C": 100, "A": 50}  # A reduced to what is left of the budget
    assert ps.total_value <= 250
    assert "reduced from 100 to 50" in next(ln for ln in ps.lines if ln.sku == "A").explanation
    ps2 = propose_orders(a, ds, as_of=AS_OF, rules=rules(budget=150.0, stockout_cost_per_unit=5.0))
    assert {ln.sku: ln.qty for ln in ps2.lines} == {"B": 100, "C": 50}
    assert [ln.sku for ln in ps2.cut_lines] == ["A"]
    assert "cut: budget 150 spent" in ps2.cut_lines[0].explanation
    assert ps2.orders[0].notes == ("1 line(s) cut by the budget: A (100)",)


def test_budget_cut_that_leaves_an_order_under_its_minimum_is_noted() -> None:
    ds = make_orders_dataset(
        [
            make_item("A", unit_cost=1.0, pack_size=1.0, moq=0.0),
            make_item("B", unit_cost=1.0, pack_size=1.0, moq=0.0, supplier_id="S2"),
        ]
    )
    a = make_assessment(
        [
            make_assessment_row("A", expected_units_short=90.0, on_hand=0, on_order=0, order_up_to=100),
            make_assessment_row("B", expected_units_short=10.0, on_hand=0, on_order=0, order_up_to=100),
        ]
    )
    ps = propose_orders(a, ds, as_of=AS_OF, rules=rules(budget=120.0, supplier_min_order_value={"S2": 100.0}))
    s2 = next(o for o in ps.orders if o.supplier_id == "S2")
    assert s2.is_below_minimum
    assert any("after the budget cut" in n for n in s2.notes)


def test_an_assessment_without_required_columns_is_refused() -> None:
    ds = make_orders_dataset([make_item("A")])
    with pytest.raises(InputError, match="reorder_point"):
        propose_orders(pd.DataFrame({"sku": ["A"], "location_id": ["WH1"]}), ds, as_of=AS_OF, rules=rules())


def test_an_item_unknown_to_the_dataset_orders_single_units_without_a_supplier() -> None:
    ds = make_orders_dataset([make_item("A")])
    a = make_assessment([make_assessment_row("Z", on_hand=0, on_order=0, order_up_to=7)])
    line = only_line(propose_orders(a, ds, as_of=AS_OF, rules=rules()))
    assert line.qty == 7 and line.pack_size == 1 and line.supplier_id is None
    assert line.po_id == "SW-20240415-NOSUP-WH1"
    assert line.value == 0  # unknown cost


def test_an_assessment_repeating_a_sku_location_is_refused() -> None:
    ds = make_orders_dataset([make_item("A")])
    a = make_assessment([make_assessment_row("A"), make_assessment_row("A", on_hand=3.0)])
    with pytest.raises(InputError, match=r"repeated SKU-locations .*A@WH1"):
        propose_orders(a, ds, as_of=AS_OF, rules=rules())
