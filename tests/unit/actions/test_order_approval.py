"""The approval state machine of proposal lines: transitions, role limits, auto-approval, audit entries."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest

from stockwarden.actions.approval import (
    ALLOWED,
    Actor,
    approve_line,
    auto_approve,
    change_line,
    creation_entry,
    mark_exported,
    reject_line,
    transition,
)
from stockwarden.config import OrderRules
from stockwarden.domain.order import OverrideReason, ProposalEvent, ProposalLine, ProposalStatus
from stockwarden.errors import ApprovalError, InvalidTransition

NOW = dt.datetime(2024, 4, 15, 9, 30, tzinfo=dt.UTC)
RULES = OrderRules(approver_roles={"buyer": 500.0, "manager": 5000.0}, auto_approve_max_value=100.0)
BUYER = Actor("ann", "buyer")
S = ProposalStatus


def make_line(**overrides: object) -> ProposalLine:
    base = ProposalLine(
        sku="A",
        location_id="WH1",
        supplier_id="S1",
        po_id="SW-20240415-S1-WH1",
        line_no=1,
        qty=84.0,
        need_qty=83.0,
        inventory_position=37.0,
        on_hand=25.0,
        on_order=12.0,
        backorders=0.0,
        reorder_point=45.0,
        order_up_to=120.0,
        pack_size=12.0,
        moq=24.0,
        unit_cost=2.0,
        lead_time_days=7.0,
        stockout_probability=0.5,
        level="warning",
        expected_stockout_date=dt.date(2024, 4, 25),
        order_by_date=dt.date(2024, 4, 18),
        expected_arrival_date=dt.date(2024, 4, 22),
        expected_units_short=10.0,
        avoided_stockout_cost=6.0,
        reasons=("below_reorder_point",),
        explanation="order-up-to 120 − position 37 = 83 → 84 (pack 12)",
        proposal_id=7,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_approve_moves_a_draft_to_approved_and_logs_who_when_and_the_deltas() -> None:
    new, entry = approve_line(make_line(), actor=BUYER, now=NOW, rules=RULES, comment="ok")
    assert new.status is S.APPROVED and new.qty == 84
    assert (entry.event, entry.user, entry.role, entry.at) == (ProposalEvent.APPROVED, "ann", "buyer", NOW)
    assert (entry.from_status, entry.to_status) == (S.DRAFT, S.APPROVED)
    assert entry.deltas == {"status": (S.DRAFT, S.APPROVED)}
    assert entry.comment == "ok" and entry.proposal_id == 7


def test_change_approves_another_quantity_with_a_reason_and_records_qty_and_value_before_after() -> None:
    new, entry = change_line(make_line(), qty=120, reason="demand_knowledge", actor=BUYER, now=NOW, rules=RULES)
    assert new.status is S.CHANGED and new.qty == 120
    assert entry.reason_code == OverrideReason.DEMAND_KNOWLEDGE.value
    assert entry.deltas["qty"] == (84.0, 120.0)
    assert entry.deltas["value"] == (168.0, 240.0)


@pytest.mark.parametrize(
    ("qty", "reason", "message"),
    [
        (100, "demand_knowledge", "not a whole number of packs of 12; use 96 or 108"),
        (12, "demand_knowledge", "below its MOQ 24"),
        (0, "demand_knowledge", "positive"),
        (-12, "demand_knowledge", "positive"),
        (84, "demand_knowledge", "use approve"),
        (96, None, "reason code is required"),
        (96, "because", "unknown reason code 'because'"),
    ],
)
def test_change_refuses_unusable_quantities_and_reasons(qty: float, reason: str | None, message: str) -> None:
    with pytest.raises(ApprovalError, match=message):
        change_line(make_line(), qty=qty, reason=reason, actor=BUYER, now=NOW, rules=RULES)  # type: ignore[arg-type]


def test_reject_needs_a_reason_code_but_no_role() -> None:
    new, entry = reject_line(make_line(), reason="OVERSTOCK", actor=Actor("bob"), now=NOW, rules=RULES)
    assert new.status is S.REJECTED
    assert entry.reason_code == "overstock" and entry.role is None
    with pytest.raises(ApprovalError, match="reason code is required"):
        reject_line(make_line(), reason="", actor=Actor("bob"), now=NOW, rules=RULES)


def test_a_role_may_approve_only_up_to_its_limit() -> None:
    big = make_line(qty=300.0)  # 600 of value
    with pytest.raises(ApprovalError, match=r"above the 500\.00 limit of role 'buyer'"):
        approve_line(big, actor=BUYER, now=NOW, rules=RULES)
    new, _ = approve_line(big, actor=Actor("max", "manager"), now=NOW, rules=RULES)
    assert new.status is S.APPROVED
    with pytest.raises(ApprovalError, match=r"above the 500\.00 limit"):
        change_line(make_line(), qty=264, reason="promotion", actor=BUYER, now=NOW, rules=RULES)


def test_approving_needs_a_known_role() -> None:
    with pytest.raises(ApprovalError, match="needs a role"):
        approve_line(make_line(), actor=Actor("ann"), now=NOW, rules=RULES)
    with pytest.raises(ApprovalError, match="role 'intern' may not approve"):
        approve_line(make_line(), actor=Actor("ann", "intern"), now=NOW, rules=RULES)


@pytest.mark.parametrize("status", list(ProposalStatus))
def test_every_transition_not_in_the_table_raises_invalid_transition(status: ProposalStatus) -> None:
    line = make_line(status=status)
    for target in ProposalStatus:
        if target in ALLOWED[status]:
            continue
        with pytest.raises(InvalidTransition, match=f"is {status.value}; it cannot become {target.value}"):
            transition(line, target, actor=Actor("boss", "manager"), now=NOW, rules=RULES)


def test_approved_and_changed_lines_can_be_exported_once() -> None:
    for status in (S.APPROVED, S.CHANGED):
        new, entry = mark_exported(make_line(status=status), actor=Actor("ann"), now=NOW, rules=RULES)
        assert new.status is S.EXPORTED and entry.event is ProposalEvent.EXPORTED
        with pytest.raises(InvalidTransition):
            mark_exported(new, actor=Actor("ann"), now=NOW, rules=RULES)
    with pytest.raises(InvalidTransition):
        mark_exported(make_line(), actor=Actor("ann"), now=NOW, rules=RULES)


def test_auto_approval_takes_drafts_under_the_limit_with_a_known_cost_only() -> None:
    lines = [
        make_line(proposal_id=1, qty=48.0),  # 96 <= 100
        make_line(proposal_id=2, qty=60.0),  # 120 > 100
        make_line(proposal_id=3, qty=12.0, unit_cost=math.nan),  # unknown value
        make_line(proposal_id=4, qty=12.0, status=S.REJECTED),
    ]
    done = auto_approve(lines, now=NOW, rules=RULES)
    assert [new.proposal_id for new, _ in done] == [1]
    new, entry = done[0]
    assert new.status is S.APPROVED
    assert (entry.event, entry.user, entry.role) == (ProposalEvent.AUTO_APPROVED, "system", "auto")
    assert auto_approve(lines, now=NOW, rules=OrderRules()) == []  # limit 0 = off


def test_a_custom_handler_can_refuse_or_short_circuit_the_chain() -> None:
    def no_weekend(line, target, *, actor, qty, rules) -> bool:  # type: ignore[no-untyped-def]
        if NOW.weekday() == 0 and line.sku == "BLOCKED":
            raise ApprovalError("no approvals of BLOCKED on Mondays")
        return line.sku == "VIP"  # handled: skip the role check

    with pytest.raises(ApprovalError, match="Mondays"):
        approve_line(make_line(sku="BLOCKED"), actor=BUYER, now=NOW, rules=RULES, handlers=(no_weekend,))
    new, _ = approve_line(
        make_line(sku="VIP", qty=1200.0), actor=Actor("x"), now=NOW, rules=RULES, handlers=(no_weekend,)
    )
    assert new.status is S.APPROVED


def test_creation_entry_records_the_proposal_and_its_explanation() -> None:
    entry = creation_entry(make_line(), now=NOW)
    assert entry.event is ProposalEvent.CREATED and entry.from_status is None
    assert entry.to_status is S.DRAFT and entry.qty_after == 84
    assert "order-up-to 120" in (entry.comment or "")
