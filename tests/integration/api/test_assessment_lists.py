"""Assessment lists: each server process answers them from its in-memory index of the latest run, and
that index gives exactly what SQL gives (same rows, same order, same totals) on either database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import pytest
from tests.factories_app import AppWorld, make_world

from stockwarden.domain.risk import LEVEL_RANK
from stockwarden.errors import InputError
from stockwarden.services import assessments, runs
from stockwarden.services.context import AppContext

SORTS = [
    None,
    "urgency",
    "sku",
    "-sku",
    "location_id",
    "-stockout_probability",
    "stockout_probability",
    "expected_stockout_date",
    "-expected_stockout_date",
    "days_of_cover",
    "-days_of_cover",
    "level",
    "-reasons",
]
FILTERS = [
    {},
    {"level": ["critical,warning"]},
    {"location": ["WH2"]},
    {"category": ["food"]},
    {"supplier": ["S1", "S2"]},
    {"q": "1"},
    {"q": "%"},
    {"level": ["OK"], "location": ["WH1"]},
]


def sql_only(ctx: AppContext) -> AppContext:
    """The same database with the in-memory index switched off (every list answered by SQL)."""
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"list_index_max_rows": 0}), cache={})


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> AppWorld:
    w = make_world(tmp_path, url=db_url)
    yield w
    w.ctx.engine.dispose()


def test_the_index_answers_every_list_as_sql_does(world: AppWorld) -> None:
    sql = sql_only(world.ctx)
    for who, sort, filters in itertools.product(("admin", "wh1", "planner_food"), SORTS, FILTERS):
        actor = world.actors[who]
        for limit, offset in ((1000, 0), (3, 2)):
            fast = assessments.list_assessments(
                world.ctx, actor=actor, sort=sort, limit=limit, offset=offset, **filters
            )
            slow = assessments.list_assessments(sql, actor=actor, sort=sort, limit=limit, offset=offset, **filters)
            assert (fast.total, fast.run_id, fast.as_of) == (slow.total, slow.run_id, slow.as_of), (who, sort, filters)
            assert fast.items == slow.items, (who, sort, filters)
    assert world.ctx.cache["run_index"].run_id == fast.run_id


def test_missing_values_come_last_in_both_directions_then_sku_and_location(world: AppWorld) -> None:
    admin = world.actors["admin"]
    for sort in ("expected_stockout_date", "-expected_stockout_date"):
        items = assessments.list_assessments(world.ctx, actor=admin, sort=sort, limit=1000).items
        dates = [i["expected_stockout_date"] for i in items]
        present = [d for d in dates if d is not None]
        assert dates == present + [None] * (len(dates) - len(present))
        assert present == sorted(present, reverse=sort.startswith("-"))
        missing = [(i["sku"], i["location_id"]) for i in items if i["expected_stockout_date"] is None]
        assert missing == sorted(missing)


def test_urgency_is_level_then_probability(world: AppWorld) -> None:
    items = assessments.list_assessments(world.ctx, actor=world.actors["admin"], limit=1000).items
    keys = [(LEVEL_RANK[i["level"]], -(i["stockout_probability"] or 0.0)) for i in items]
    assert keys == sorted(keys) and len(items) > 3


def test_a_scoped_user_never_sees_rows_outside_the_scope(world: AppWorld) -> None:
    page = assessments.list_assessments(world.ctx, actor=world.actors["wh1"], location=["WH2"], limit=1000)
    assert page.total == 0 and page.items == []
    food = assessments.list_assessments(world.ctx, actor=world.actors["planner_food"], limit=1000).items
    assert food and {i["category"] for i in food} == {"food"}


def test_a_newer_completed_run_replaces_the_index(world: AppWorld) -> None:
    admin = world.actors["admin"]
    first = assessments.list_assessments(world.ctx, actor=admin, limit=5)
    runs.run_daily(world.ctx, actor=admin, as_of=dt.date(2024, 3, 31))
    second = assessments.list_assessments(world.ctx, actor=admin, limit=5)
    assert second.run_id is not None and first.run_id is not None and second.run_id > first.run_id
    assert second.as_of == dt.date(2024, 3, 31) and world.ctx.cache["run_index"].run_id == second.run_id


def test_bad_filters_and_sorts_are_refused_by_name(world: AppWorld) -> None:
    admin = world.actors["admin"]
    with pytest.raises(InputError, match="level 'urgent'"):
        assessments.list_assessments(world.ctx, actor=admin, level=["urgent"])
    with pytest.raises(InputError, match="sort 'colour'"):
        assessments.list_assessments(world.ctx, actor=admin, sort="-colour")


def test_a_starting_server_reads_the_latest_run_before_the_first_list(world: AppWorld) -> None:
    import time

    from fastapi.testclient import TestClient

    from stockwarden.api import create_app

    world.ctx.cache.clear()
    with TestClient(create_app(world.ctx)):
        deadline = time.monotonic() + 30
        while "run_index" not in world.ctx.cache and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(world.ctx.cache["run_index"]) == assessments.prepare_lists(world.ctx) > 0


def test_a_run_that_has_not_completed_stays_invisible_to_the_api_and_the_web(world: AppWorld) -> None:
    import sqlalchemy as sa

    from stockwarden.web.readmodel import RiskCache

    admin = world.actors["admin"]
    before = assessments.list_assessments(world.ctx, actor=admin, limit=1000)
    web = RiskCache()
    shown = web.frame(world.ctx.engine)[0]
    with world.ctx.engine.begin() as conn:  # a run that wrote its assessments, then died before completing
        conn.execute(
            sa.text(
                "INSERT INTO runs (run_key, as_of, data_hash, rules_version, status, attempts, started_at, "
                "counts_json) "
                "VALUES ('dead', :d, 'x', 'x', 'failed', 1, :t, '{}')"
            ),
            {"d": dt.date(2024, 3, 31), "t": dt.datetime(2024, 3, 31, 6, tzinfo=dt.UTC)},
        )
        dead = conn.execute(sa.text("SELECT id FROM runs WHERE run_key = 'dead'")).scalar_one()
        cols = [c["name"] for c in sa.inspect(conn).get_columns("assessments") if c["name"] != "run_id"]
        listed = ", ".join(cols)
        conn.execute(
            sa.text(
                f"INSERT INTO assessments (run_id, {listed}) SELECT :dead, {listed} FROM assessments WHERE run_id = :r"
            ),
            {"dead": dead, "r": before.run_id},
        )
        conn.execute(sa.text("UPDATE assessments SET level = 'critical' WHERE run_id = :dead"), {"dead": dead})
    after = assessments.list_assessments(world.ctx, actor=admin, limit=1000)
    assert (after.run_id, after.items) == (before.run_id, before.items)
    still = web.frame(world.ctx.engine)[0]
    assert list(still["level"]) == list(shown["level"]) and (still["level"] != "critical").any()
