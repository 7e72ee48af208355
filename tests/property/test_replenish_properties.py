"""Properties of order proposals over random assessments and item master data (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories_orders import AS_OF, make_assessment_row, make_item, make_orders_dataset

from stockwarden.actions.replenish import propose_orders
from stockwarden.config import RulesConfig

EPS = 1e-6


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[pd.DataFrame, list[dict[str, object]], list[dict[str, object]]]:
    n = draw(st.integers(1, 8))
    items, rows, exported = [], [], []
    for i in range(n):
        sku = f"S{i}"
        pack = draw(st.sampled_from([1.0, 2.0, 5.0, 6.0, 12.0, 0.5, 2.5]))
        items.append(
            make_item(
                sku,
                pack_size=pack,
                moq=draw(st.sampled_from([0.0, 1.0, 10.0, 25.0, 48.0, 100.0])),
                unit_cost=draw(st.sampled_from([0.5, 1.0, 2.0, 9.99, 40.0])),
                supplier_id=draw(st.sampled_from(["S1", "S2", "S3"])),
            )
        )
        rop = draw(st.floats(0, 200, allow_nan=False))
        rows.append(
            make_assessment_row(
                sku,
                location_id=draw(st.sampled_from(["WH1", "WH2"])),
                on_hand=draw(st.floats(0, 300, allow_nan=False)),
                on_order=draw(st.floats(0, 200, allow_nan=False)),
                backorders=draw(st.floats(0, 20, allow_nan=False)),
                reorder_point=rop,
                order_up_to=rop + draw(st.floats(0, 300, allow_nan=False)),
                stockout_probability=draw(st.floats(0, 1)),
                daily_demand=draw(st.floats(0, 30, allow_nan=False)),
                expected_units_short=draw(st.floats(0, 100, allow_nan=False)),
            )
        )
        if draw(st.booleans()) and draw(st.booleans()):
            exported.append(
                {
                    "po_id": f"EXP-{i}",
                    "sku": sku,
                    "location_id": rows[-1]["location_id"],
                    "qty": draw(st.floats(1, 400, allow_nan=False)),
                    "order_date": pd.Timestamp(AS_OF),
                }
            )
    return pd.DataFrame(rows), items, exported


@st.composite
def order_rules(draw: st.DrawFn) -> RulesConfig:
    orders: dict[str, object] = {
        "use_eoq": draw(st.booleans()),
        "max_cover_days": draw(st.one_of(st.none(), st.floats(1, 120))),
        "supplier_min_order_value": draw(
            st.dictionaries(st.sampled_from(["S1", "S2"]), st.floats(0, 2000), max_size=2)
        ),
        "budget": draw(st.one_of(st.none(), st.floats(0, 3000))),
    }
    return RulesConfig.model_validate({"orders": orders})


PROFILE = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(scenarios(), order_rules())
def test_every_quantity_is_positive_whole_packs_and_at_least_the_moq(scenario, rules) -> None:  # type: ignore[no-untyped-def]
    frame, items, exported = scenario
    ps = propose_orders(
        frame,
        make_orders_dataset(items),
        as_of=AS_OF,
        rules=rules,
        exported=pd.DataFrame(exported) if exported else None,
    )
    for line in (*ps.lines, *ps.cut_lines):
        assert line.qty > 0
        packs = line.qty / line.pack_size
        assert abs(packs - round(packs)) < EPS, line
        assert line.qty >= line.moq - EPS, line


@PROFILE
@given(scenarios(), order_rules(), st.booleans())
def test_nothing_is_proposed_for_a_key_whose_position_with_open_and_exported_orders_covers_its_trigger_level(
    scenario,
    rules,  # type: ignore[no-untyped-def]
    review_day,
) -> None:
    """Between reviews the trigger is the reorder point; on a review day (AS_OF, a Monday) the order-up-to level."""
    frame, items, exported = scenario
    day = AS_OF if review_day else AS_OF + dt.timedelta(days=1)
    ps = propose_orders(
        frame,
        make_orders_dataset(items),
        as_of=day,
        rules=rules,
        exported=pd.DataFrame(exported) if exported else None,
    )
    extra = pd.DataFrame(exported).groupby(["sku", "location_id"])["qty"].sum().to_dict() if exported else {}
    position = {
        (r.sku, r.location_id): r.on_hand + r.on_order - r.backorders + extra.get((r.sku, r.location_id), 0.0)
        for r in frame.itertuples()
    }
    rop = {(r.sku, r.location_id): r.reorder_point for r in frame.itertuples()}
    up_to = {(r.sku, r.location_id): r.order_up_to for r in frame.itertuples()}
    proposed = {line.key for line in (*ps.lines, *ps.cut_lines)}
    for key, pos in position.items():
        covered = pos > rop[key] + EPS and (not review_day or pos >= up_to[key] - EPS)
        if covered:
            assert key not in proposed and key in ps.skipped
        elif pos < up_to[key] - EPS:
            assert key in proposed, key  # a line, or one cut by the budget
