"""The application layer itself: one approval wins a race, one run at a time (a crashed run's lease
expires), assess and run give the same assessments, rules are versions (seed, save, diff, export)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest
from tests.factories_app import AppWorld, make_world

from stockwarden.errors import Conflict, FieldErrors, InvalidTransition, PermissionDenied
from stockwarden.services import assessments, proposals, rules, runs
from stockwarden.store.assessment_repo import load_assessments


def test_two_approvals_of_the_same_proposal_one_wins_the_other_conflicts(world: AppWorld) -> None:
    buyer, admin = world.actors["buyer"], world.actors["admin"]
    line = proposals.list_proposals(world.ctx, actor=admin, status=["draft"]).items[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(actor) -> None:
        barrier.wait()
        try:
            proposals.approve(world.ctx, [line["id"]], actor=actor, versions={line["id"]: line["version"]})
            outcomes.append("won")
        except (Conflict, InvalidTransition):
            outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(a,)) for a in (buyer, admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    stored, log = proposals.get_proposal(world.ctx, line["id"], actor=admin)
    assert stored["status"] == "approved"
    assert [e["event"] for e in log].count("order.approved") == 1


def test_one_run_at_a_time_and_a_crashed_run_does_not_hold_the_lock(world: AppWorld) -> None:
    runs.acquire_lock(world.ctx, holder="crashed-process", lease=dt.timedelta(minutes=5))
    with pytest.raises(Conflict, match="already going"):
        runs.run_daily(world.ctx, actor=world.actors["planner"])
    with pytest.raises(Conflict):
        runs.start_run(world.ctx, actor=world.actors["planner"])
    later = world.ctx.clock() + dt.timedelta(minutes=6)
    world.ctx.clock = lambda: later
    try:
        runs.acquire_lock(world.ctx, holder="next-run")  # the crashed holder's lease has expired
        assert runs.lock_status(world.ctx)["holder"] == "next-run"
    finally:
        runs.release_lock(world.ctx, holder="next-run")
    assert runs.lock_status(world.ctx) is None


def test_assess_and_run_give_the_same_assessments(world: AppWorld) -> None:
    _, stored = load_assessments(world.ctx.engine)
    computed = assessments.assess(world.ctx, actor=world.actors["viewer"], as_of=dt.date(2024, 3, 30))
    cols = ["sku", "location_id", "level", "stockout_probability", "reorder_point", "suggested_order_qty"]
    a = stored[cols].sort_values(["sku", "location_id"]).reset_index(drop=True)
    b = computed[cols].sort_values(["sku", "location_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    scoped = assessments.assess(world.ctx, actor=world.actors["wh1"], as_of=dt.date(2024, 3, 30))
    assert set(scoped["location_id"]) == {"WH1"}


def test_rules_are_versions_seeded_from_the_file(tmp_path: Path) -> None:
    w = make_world(tmp_path, run=False)
    ctx, planner, admin = w.ctx, w.actors["planner_food"], w.actors["admin"]
    first, cfg = rules.get_rules(ctx, actor=w.actors["viewer"])
    assert first.source.startswith("file:") and cfg.run.forecast_mode == "stats"
    text = first.toml_text + "\n[orders]\nbudget = 1000.0\n"
    with pytest.raises(PermissionDenied, match="categories food"):
        rules.save_rules(ctx, text, actor=planner)
    with pytest.raises(FieldErrors) as bad:
        rules.validate_rules(ctx, "[risk]\nservice_level = 7\n", actor=planner)
    assert bad.value.errors[0]["loc"] == "risk.service_level"
    second, changes = rules.save_rules(ctx, text, actor=admin, comment="a budget")
    assert [c.path for c in changes] == ["orders.budget"]
    assert rules.current_rules(ctx)[1].orders.budget == 1000.0
    diff = rules.diff_versions(ctx, first.id, second.id, actor=planner)
    assert [(c.path, c.before, c.after) for c in diff] == [("orders.budget", None, 1000.0)]
    assert rules.export_rules(ctx, actor=planner) == text
    assert rules.list_versions(ctx, actor=planner).total == 2
    # editing the file later makes a new version too
    (tmp_path / "stockwarden.toml").write_text('[run]\nforecast_mode = "fast"\n', encoding="utf-8")
    assert rules.current_rules(ctx)[1].run.forecast_mode == "fast"
    assert rules.list_versions(ctx, actor=planner).total == 3


def test_every_run_records_the_rules_version_it_used(world: AppWorld) -> None:
    page = runs.list_runs(world.ctx, actor=world.actors["viewer"])
    versions = rules.list_versions(world.ctx, actor=world.actors["viewer"]).items
    hashes = {v.rules_hash for v in versions}
    assert page.items and all(r.rules_version in hashes for r in page.items)


def test_a_proposed_rules_version_changes_nothing_until_a_person_approves_it(tmp_path: Path) -> None:
    from stockwarden.errors import InputError
    from stockwarden.services import audit

    w = make_world(tmp_path, run=False)
    ctx, admin, viewer = w.ctx, w.actors["admin"], w.actors["viewer"]
    first, _ = rules.get_rules(ctx, actor=viewer)
    text = first.toml_text + "\n[orders]\nbudget = 500.0\n"
    with pytest.raises(PermissionDenied):
        rules.propose_rules(ctx, text, actor=viewer)
    proposed, changes = rules.propose_rules(ctx, text, actor=admin, comment="from tune")
    assert proposed.status == rules.PROPOSED and [c.path for c in changes] == ["orders.budget"]
    assert rules.current_rules(ctx)[0].id == first.id and rules.current_rules(ctx)[1].orders.budget is None
    # another change saved meanwhile stays in force until the proposal is approved
    later, _ = rules.save_rules(ctx, first.toml_text + "\n[orders]\nuse_eoq = true\n", actor=admin)
    assert rules.current_rules(ctx)[0].id == later.id
    with pytest.raises(PermissionDenied):
        rules.approve_version(ctx, proposed.id, actor=viewer)
    with pytest.raises(PermissionDenied, match="categories food"):
        rules.approve_version(ctx, proposed.id, actor=w.actors["planner_food"])
    with pytest.raises(InputError, match="not awaiting approval"):
        rules.approve_version(ctx, later.id, actor=admin)
    approved, applied = rules.approve_version(ctx, proposed.id, actor=admin)
    in_force, cfg = rules.current_rules(ctx)
    assert in_force.id == proposed.id and approved.status == rules.IN_FORCE and approved.decided_by == "admin"
    assert cfg.orders.budget == 500.0 and not cfg.orders.use_eoq
    assert {c.path for c in applied} == {"orders.budget", "orders.use_eoq"}
    with pytest.raises(InputError, match="not awaiting approval"):
        rules.reject_version(ctx, proposed.id, actor=admin)
    actions = [e.action for e in audit.list_audit(ctx, actor=admin, object_type="rules").items]
    assert {"rules.propose", "rules.approve"} <= set(actions)


def test_a_rejected_proposal_never_comes_into_force_and_stays_listed(tmp_path: Path) -> None:
    w = make_world(tmp_path, run=False)
    ctx, admin = w.ctx, w.actors["admin"]
    first, _ = rules.get_rules(ctx, actor=admin)
    proposed, _ = rules.propose_rules(ctx, first.toml_text + "\n[orders]\nbudget = 1.0\n", actor=admin)
    with pytest.raises(PermissionDenied):
        rules.reject_version(ctx, proposed.id, actor=w.actors["viewer"])
    rejected = rules.reject_version(ctx, proposed.id, actor=admin, reason="too tight")
    assert rejected.status == rules.REJECTED
    assert rules.current_rules(ctx)[0].id == first.id
    listed = {v.id: v.status for v in rules.list_versions(ctx, actor=admin).items}
    assert listed == {first.id: rules.IN_FORCE, proposed.id: rules.REJECTED}
    from stockwarden.errors import InputError

    with pytest.raises(InputError, match="changes no setting"):
        rules.propose_rules(ctx, first.toml_text, actor=admin)


def test_a_company_larger_than_partition_above_runs_in_partitions_without_being_asked(tmp_path: Path) -> None:
    """The run bounds its own memory: past ``settings.partition_above`` SKU-locations it partitions, with the
    same assessments as the whole-company run (stats mode)."""
    import sqlalchemy as sa

    stored = {}
    for above in (0, 4):  # the two-location company has 4 SKUs x 2 locations = 8 SKU-locations
        (tmp_path / f"above-{above}").mkdir()
        world = make_world(tmp_path / f"above-{above}", run=False)
        world.ctx.settings = world.ctx.settings.model_copy(update={"partition_above": above})
        runs.run_daily(world.ctx, actor=world.actors["admin"], as_of=dt.date(2024, 3, 30))
        with world.ctx.engine.connect() as conn:
            parts = conn.execute(sa.text("SELECT count(*) FROM run_partitions")).scalar()
        assert (parts > 0) == (above == 4)
        _, frame = load_assessments(world.ctx.engine)
        cols = ["sku", "location_id", "level", "stockout_probability", "reorder_point", "suggested_order_qty"]
        stored[above] = frame[cols].sort_values(["sku", "location_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored[0], stored[4])
