"""Storing order proposals: idempotent saves, transitions with their log, export marking, the feedback loop."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from tests.factories_orders import AS_OF, make_assessment, make_assessment_row, make_item, make_orders_dataset

from stockwarden.actions.approval import Actor
from stockwarden.actions.replenish import propose_orders
from stockwarden.config import RulesConfig
from stockwarden.domain.order import ProposalEvent, ProposalSet, ProposalStatus
from stockwarden.errors import ApprovalError, InputError, InvalidTransition
from stockwarden.store import order_repo as repo

NOW = dt.datetime(2024, 4, 15, 6, 0, tzinfo=dt.UTC)
RULES = RulesConfig.model_validate({"orders": {"approver_roles": {"buyer": 500.0, "manager": 5000.0}}})
BUYER = Actor("ann", "buyer")
S = ProposalStatus


def dataset():  # type: ignore[no-untyped-def]
    return make_orders_dataset(
        [make_item("A"), make_item("B", unit_cost=10.0, pack_size=6.0, moq=0.0), make_item("C", supplier_id="S2")]
    )


def proposals(as_of: dt.date = AS_OF, rules: RulesConfig = RULES, **overrides: dict[str, object]) -> ProposalSet:
    rows = {
        "A": make_assessment_row("A"),
        "B": make_assessment_row("B", on_hand=10, on_order=0, reorder_point=20, order_up_to=50),
        "C": make_assessment_row("C"),
    }
    for sku, changes in overrides.items():
        rows[sku].update(changes)
    return propose_orders(make_assessment(list(rows.values())), dataset(), as_of=as_of, rules=rules)


def by_sku(engine: sa.Engine, **filters: object) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for line in repo.list_proposal_lines(engine, **filters):  # type: ignore[arg-type]
        out.setdefault(line.sku, []).append(line)
    return out


def test_saving_the_same_run_twice_changes_nothing(engine: sa.Engine) -> None:
    ps = proposals()
    first = repo.save_proposals(engine, ps, now=NOW, rules=RULES.orders)
    assert (first.created, first.updated) == (3, 0)
    before = repo.list_proposal_lines(engine)
    second = repo.save_proposals(engine, ps, now=NOW + dt.timedelta(hours=1), rules=RULES.orders)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert repo.list_proposal_lines(engine) == before
    log = repo.get_approval_log(engine)
    assert [e.event for e in log] == [ProposalEvent.CREATED] * 3


def test_a_new_run_updates_the_draft_of_the_same_sku_location_in_place(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    a_id = by_sku(engine)["A"][0].proposal_id
    later = proposals(as_of=AS_OF + dt.timedelta(days=1), A={"on_hand": 1.0})
    summary = repo.save_proposals(engine, later, now=NOW + dt.timedelta(days=1), rules=RULES.orders)
    assert summary.created == 0 and summary.updated == 3  # new date, new PO numbers
    lines = by_sku(engine)
    assert len(lines["A"]) == 1 and lines["A"][0].proposal_id == a_id
    assert lines["A"][0].qty == 108 and lines["A"][0].po_id == "SW-20240416-S1-WH1"
    log = repo.get_approval_log(engine, a_id)
    assert [(e.qty_before, e.qty_after) for e in log] == [(None, 84.0), (84.0, 108.0)]
    with engine.connect() as conn:
        pos = conn.execute(sa.text("SELECT po_id FROM order_proposals ORDER BY po_id")).scalars().all()
    assert pos == ["SW-20240416-S1-WH1", "SW-20240416-S2-WH1"]  # the emptied headers are gone


def test_approved_and_same_day_rejected_lines_are_kept_and_block_new_drafts(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    ids = {sku: ls[0].proposal_id for sku, ls in by_sku(engine).items()}
    repo.approve_proposals(engine, [ids["A"]], actor=BUYER, now=NOW, rules=RULES.orders)
    repo.reject_proposal(engine, ids["C"], reason="supplier_issue", actor=BUYER, now=NOW, rules=RULES.orders)
    again = repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    assert (again.created, again.blocked, again.unchanged) == (0, 2, 1)
    lines = by_sku(engine)
    assert [ln.status for ln in lines["A"]] == [S.APPROVED]
    assert [ln.status for ln in lines["C"]] == [S.REJECTED]
    next_day = repo.save_proposals(
        engine, proposals(as_of=AS_OF + dt.timedelta(days=1)), now=NOW + dt.timedelta(days=1), rules=RULES.orders
    )
    assert next_day.created == 1 and next_day.blocked == 1  # C proposed again; A still awaits export
    assert sorted(ln.status for ln in by_sku(engine)["C"]) == [S.DRAFT, S.REJECTED]


def test_drafts_the_new_run_no_longer_proposes_are_withdrawn(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    calm = proposals(C={"on_hand": 500.0})
    summary = repo.save_proposals(engine, calm, now=NOW, rules=RULES.orders)
    assert summary.withdrawn == 1
    assert set(by_sku(engine)) == {"A", "B"}


def test_one_draft_per_sku_location_is_enforced_by_the_database(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    with engine.begin() as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM order_proposal_lines WHERE sku = 'A'")).mappings().one())
    row.pop("id")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.table("order_proposal_lines", *[sa.column(c) for c in row]).insert().values(**row))


def test_drafts_under_the_auto_approve_limit_are_approved_by_the_system(engine: sa.Engine) -> None:
    rules = RULES.model_copy(update={"orders": RULES.orders.model_copy(update={"auto_approve_max_value": 200.0})})
    summary = repo.save_proposals(engine, proposals(rules=rules), now=NOW, rules=rules.orders)
    assert summary.auto_approved == 2  # A (168) and C (168); B is 420
    lines = by_sku(engine)
    assert lines["A"][0].status is S.APPROVED and lines["B"][0].status is S.DRAFT
    events = [e.event for e in repo.get_approval_log(engine, lines["A"][0].proposal_id)]
    assert events == [ProposalEvent.CREATED, ProposalEvent.AUTO_APPROVED]
    assert repo.save_proposals(engine, proposals(rules=rules), now=NOW, rules=rules.orders).auto_approved == 0


def test_approving_several_ids_is_all_or_nothing(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(B={"order_up_to": 200.0}), now=NOW, rules=RULES.orders)
    ids = {sku: ls[0].proposal_id for sku, ls in by_sku(engine).items()}
    with pytest.raises(ApprovalError, match="limit of role 'buyer'"):
        repo.approve_proposals(engine, [ids["A"], ids["B"]], actor=BUYER, now=NOW, rules=RULES.orders)
    assert all(ln.status is S.DRAFT for ls in by_sku(engine).values() for ln in ls)
    with pytest.raises(InputError, match="proposal 999 does not exist"):
        repo.approve_proposals(engine, [ids["A"], 999], actor=BUYER, now=NOW, rules=RULES.orders)
    done = repo.approve_proposals(
        engine, [ids["A"], ids["B"]], actor=Actor("max", "manager"), now=NOW, rules=RULES.orders
    )
    assert [ln.status for ln in done] == [S.APPROVED, S.APPROVED]
    with pytest.raises(InvalidTransition):
        repo.reject_proposal(engine, ids["A"], reason="other", actor=BUYER, now=NOW, rules=RULES.orders)


def test_the_log_tells_the_story_of_a_changed_and_exported_line(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    a_id = by_sku(engine)["A"][0].proposal_id
    repo.change_proposal(
        engine, a_id, qty=96, reason="promotion", actor=BUYER, now=NOW, rules=RULES.orders, comment="store event"
    )
    delivered: list[pd.DataFrame] = []
    result = repo.export_proposals(
        engine, order_date=AS_OF, now=NOW, actor=Actor("ann"), rules=RULES.orders, deliver=delivered.append
    )
    assert result.n_exported == 1 and len(delivered) == 1
    assert delivered[0]["qty"].tolist() == [96.0]
    assert "[override: promotion]" in delivered[0]["reason"].iloc[0]
    story = [
        (e.event, e.from_status, e.to_status, e.qty_before, e.qty_after, e.reason_code, e.user)
        for e in repo.get_approval_log(engine, a_id)
    ]
    assert story == [
        (ProposalEvent.CREATED, None, S.DRAFT, None, 84.0, None, "system"),
        (ProposalEvent.CHANGED, S.DRAFT, S.CHANGED, 84.0, 96.0, "promotion", "ann"),
        (ProposalEvent.EXPORTED, S.CHANGED, S.EXPORTED, 96.0, 96.0, None, "ann"),
    ]
    assert repo.get_proposal_line(engine, a_id).status is S.EXPORTED


def test_export_with_all_includes_drafts_without_marking_them_and_a_failed_delivery_marks_nothing(
    engine: sa.Engine,
) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    ids = {sku: ls[0].proposal_id for sku, ls in by_sku(engine).items()}
    repo.approve_proposals(engine, [ids["A"]], actor=BUYER, now=NOW, rules=RULES.orders)

    def broken(frame: pd.DataFrame) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        repo.export_proposals(engine, order_date=AS_OF, now=NOW, actor=BUYER, rules=RULES.orders, deliver=broken)
    assert repo.get_proposal_line(engine, ids["A"]).status is S.APPROVED
    result = repo.export_proposals(
        engine, order_date=AS_OF, now=NOW, actor=BUYER, rules=RULES.orders, deliver=lambda f: None, include_drafts=True
    )
    assert (len(result.frame), result.n_exported, result.n_drafts) == (3, 1, 2)
    assert {ln.sku: ln.status for ls in by_sku(engine).values() for ln in ls} == {
        "A": S.EXPORTED,
        "B": S.DRAFT,
        "C": S.DRAFT,
    }


def test_exported_orders_feed_back_as_open_pos_so_nothing_is_ordered_twice(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    ids = [ln.proposal_id for ln in repo.list_proposal_lines(engine)]
    repo.approve_proposals(engine, ids, actor=Actor("max", "manager"), now=NOW, rules=RULES.orders)
    export_day = AS_OF + dt.timedelta(days=3)  # exported after the next run's data date
    repo.export_proposals(
        engine, order_date=export_day, now=NOW, actor=BUYER, rules=RULES.orders, deliver=lambda f: None
    )
    next_day = AS_OF + dt.timedelta(days=1)
    pos = repo.exported_orders_as_pos(engine, as_of=next_day)
    assert len(pos) == 3 and (pos["order_date"] <= pd.Timestamp(next_day)).all()
    merged_ds = dataset()
    from stockwarden.actions.export import merge_exported_orders

    merged = merge_exported_orders(merged_ds, pos).as_of(next_day)
    assert len(merged.purchase_orders) == 3  # survives the as-of cut
    again = propose_orders(
        make_assessment([make_assessment_row(s) for s in "ABC"]), merged_ds, as_of=next_day, rules=RULES, exported=pos
    )
    assert again.lines == ()
    summary = repo.save_proposals(engine, again, now=NOW, rules=RULES.orders)
    assert summary.created == 0
    far = AS_OF + dt.timedelta(days=90)
    assert repo.exported_orders_as_pos(engine, as_of=far).empty  # long past expected + grace


def test_listing_filters_by_status_supplier_and_po(engine: sa.Engine) -> None:
    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    assert {ln.sku for ln in repo.list_proposal_lines(engine, supplier="S2")} == {"C"}
    assert {ln.sku for ln in repo.list_proposal_lines(engine, po_id="SW-20240415-S1-WH1")} == {"A", "B"}
    assert repo.list_proposal_lines(engine, status="approved") == []
    with pytest.raises(InputError, match="unknown status pending"):
        repo.list_proposal_lines(engine, status="pending")
    with pytest.raises(InputError, match="does not exist"):
        repo.get_proposal_line(engine, 12345)


def test_the_orders_migration_downgrades_and_upgrades_again(engine: sa.Engine) -> None:
    from alembic import command

    from stockwarden.store.db import alembic_config, current_revisions, upgrade_database

    repo.save_proposals(engine, proposals(), now=NOW, rules=RULES.orders)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002_alerts")
    names = set(sa.inspect(engine).get_table_names())
    assert not names & {"order_proposals", "order_proposal_lines", "order_approval_log"}
    assert "alerts" in names
    assert current_revisions(engine) == {"0002_alerts"}
    upgrade_database(engine)
    tables = {"order_proposals", "order_proposal_lines", "order_approval_log"}
    assert tables <= set(sa.inspect(engine).get_table_names())
    assert repo.list_proposal_lines(engine) == []


def test_budget_cuts_are_counted_and_noted_on_the_order(engine: sa.Engine) -> None:
    rules = RULES.model_copy(update={"orders": RULES.orders.model_copy(update={"budget": 200.0})})
    summary = repo.save_proposals(engine, proposals(rules=rules), now=NOW, rules=rules.orders)
    assert summary.cut_by_budget >= 1
    notes = repo.get_order_notes(engine)
    assert any("cut by the budget" in n for n in notes.values())
    kept = repo.list_proposal_lines(engine)
    assert sum(ln.value for ln in kept) <= 200.0
