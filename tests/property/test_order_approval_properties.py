"""Properties of the approval state machine over random action sequences (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from stockwarden.actions.approval import ALLOWED, Actor, approve_line, change_line, mark_exported, reject_line
from stockwarden.config import OrderRules
from stockwarden.domain.order import ProposalLine, ProposalStatus
from stockwarden.errors import ApprovalError

NOW = dt.datetime(2024, 4, 15, tzinfo=dt.UTC)
RULES = OrderRules(approver_roles={"buyer": 300.0, "manager": 3000.0})
LINE = ProposalLine(
    sku="A",
    location_id="WH1",
    supplier_id="S1",
    po_id="PO",
    line_no=1,
    qty=48.0,
    need_qty=40.0,
    inventory_position=10.0,
    on_hand=10.0,
    on_order=0.0,
    backorders=0.0,
    reorder_point=20.0,
    order_up_to=50.0,
    pack_size=12.0,
    moq=24.0,
    unit_cost=5.0,
    lead_time_days=7.0,
    stockout_probability=0.5,
    level="warning",
    expected_stockout_date=None,
    order_by_date=NOW.date(),
    expected_arrival_date=NOW.date(),
    expected_units_short=5.0,
    avoided_stockout_cost=5.0,
    reasons=(),
    explanation="",
    proposal_id=1,
)

actions = st.lists(
    st.tuples(
        st.sampled_from(["approve", "change", "reject", "export"]),
        st.sampled_from(["buyer", "manager", None, "intern"]),
        st.integers(-2, 80),  # packs for change (some invalid)
        st.sampled_from(["promotion", "other", "", "nonsense"]),
    ),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(actions)
def test_every_step_is_allowed_by_the_table_and_logged_exactly_once(steps) -> None:  # type: ignore[no-untyped-def]
    line = LINE
    log = []
    for action, role, packs, reason in steps:
        actor = Actor("u", role)
        try:
            if action == "approve":
                new, entry = approve_line(line, actor=actor, now=NOW, rules=RULES)
            elif action == "change":
                new, entry = change_line(line, qty=packs * 12.0, reason=reason, actor=actor, now=NOW, rules=RULES)
            elif action == "reject":
                new, entry = reject_line(line, reason=reason, actor=actor, now=NOW, rules=RULES)
            else:
                new, entry = mark_exported(line, actor=actor, now=NOW, rules=RULES)
        except ApprovalError:  # InvalidTransition included: the line must be unchanged
            continue
        assert new.status in ALLOWED[line.status]
        assert (entry.from_status, entry.to_status) == (line.status, new.status)
        assert (entry.qty_before, entry.qty_after) == (line.qty, new.qty)
        if new.status in (ProposalStatus.APPROVED, ProposalStatus.CHANGED):
            assert role is not None and new.value <= RULES.approver_roles[role]
            assert new.qty > 0 and new.qty % 12 == 0 and new.qty >= LINE.moq
        if new.status in (ProposalStatus.CHANGED, ProposalStatus.REJECTED):
            assert entry.reason_code in ("promotion", "other")
        log.append(entry)
        line = new
    # a line never leaves a final state and is exported at most once
    assert [e.to_status for e in log].count(ProposalStatus.EXPORTED) <= 1
    assert len(log) <= 2
    assert replace(line, status=LINE.status, qty=LINE.qty) == LINE
