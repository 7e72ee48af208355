"""The risk list's prepared index pages exactly as filtering, sorting and slicing the scoped frame would."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from stockwarden.domain.actor import Actor, Role, Scope
from stockwarden.web import readmodel as rm


def _frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = rng.choice(list(rm.LEVELS), n)
    prob = rng.random(n).round(2)  # many ties: the stable order matters
    prob[rng.random(n) < 0.05] = np.nan
    dates = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    dates = pd.Series(dates).where(rng.random(n) > 0.2)
    frame = pd.DataFrame(
        {
            "sku": [f"SKU-{i:04d}" for i in range(n)],
            "location_id": rng.choice(["A", "B", "C"], n),
            "category": rng.choice(["food", "toys", ""], n),
            "supplier_id": rng.choice(["S1", "S2"], n),
            "demand_class": rng.choice(["smooth", "lumpy"], n),
            "level": levels,
            "level_rank": [rm.LEVEL_RANK[lv] for lv in levels],
            "stockout_probability": prob,
            "expected_stockout_date": dates,
            "value_at_risk": rng.choice([0.0, 10.0, 25.5], n),
        }
    )
    frame["name"] = np.where(rng.random(n) < 0.5, "Green Tea", "Kite")
    frame["search"] = (frame["sku"] + " " + frame["name"] + " " + frame["location_id"]).str.lower()
    return frame


ACTORS = [
    Actor("all", frozenset({Role.PLANNER})),
    Actor("bj", frozenset({Role.WAREHOUSE}), scope=Scope(locations=frozenset({"B"}))),
    Actor("food", frozenset({Role.PLANNER}), scope=Scope(categories=frozenset({"food", "nope"}))),
]
QUERIES = [
    rm.RiskQuery(sort=s, levels=lv, category=c, text=t, page=p)
    for s, lv, c, t, p in itertools.product(
        rm.SORTS, [(), ("critical", "warning")], ["", "food", "unknown"], ["", "tea", "sku-00"], [1, 2, 99]
    )
]


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.username)
def test_the_index_pages_like_the_plain_filter_and_sort(actor: Actor) -> None:
    frame = _frame()
    index = rm.RiskIndex(frame, "assessments")
    scoped = rm.in_scope(frame, actor)
    for q in QUERIES:
        fast, plain = index.page(actor, q), rm.risk_page(scoped, q, "assessments")
        assert (fast.total, fast.page, fast.pages) == (plain.total, plain.page, plain.pages), q
        assert [r["sku"] for r in fast.rows] == [r["sku"] for r in plain.rows], q
    assert index.choices(actor) == rm.choices(scoped)


def test_a_value_that_is_not_there_matches_nothing() -> None:
    index = rm.RiskIndex(_frame(), "assessments")
    assert index.page(ACTORS[0], rm.RiskQuery(location="ZZ")).total == 0


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.username)
def test_the_overview_summary_counts_like_the_scoped_frame(actor: Actor) -> None:
    frame = _frame()
    index = rm.RiskIndex(frame, "assessments")
    scoped = rm.in_scope(frame, actor)
    summary = index.summary(actor)
    assert summary.total == len(scoped)
    assert summary.counts == rm.level_counts(scoped)
    assert summary.value_at_risk == pytest.approx(float(scoped["value_at_risk"].sum()))
    assert summary.heat == rm.heat_map(scoped)
    assert sum(cell[2] for cell in summary.heat[2]) == int(scoped["level"].isin(["critical", "warning"]).sum())


def test_one_sku_location_is_found_by_its_location_then_its_sku() -> None:
    frame = _frame()
    index = rm.RiskIndex(frame, "assessments")
    for row in (0, 17, len(frame) - 1):
        assert index.find(frame.at[row, "sku"], frame.at[row, "location_id"]) == row
    other = next(x for x in "ABC" if x != frame.at[5, "location_id"])
    assert index.find(frame.at[5, "sku"], other) is None
    assert index.find("SKU-0005", "ZZ") is None


def test_after_an_alert_action_only_the_changed_alerts_are_read_again(web_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A comment, an ack, a resolve change the list's alert state without reading the run's assessments or
    every live alert again (a million rows, ninety thousand alerts); the result is what a full rebuild gives."""
    import sqlalchemy as sa

    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.alerts import act_on_alert

    cache = rm.RiskCache()
    before = cache.index(web_ctx.engine)
    assert before.source == "assessments"
    with web_ctx.engine.connect() as conn:
        alert_id, sku, location = conn.execute(
            sa.text(
                "SELECT id, sku, location_id FROM alerts WHERE state = 'open' AND kind = 'stockout_risk' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    read = []
    monkeypatch.setattr(rm, "build_risk_frame", lambda engine: read.append("rebuild"))
    monkeypatch.setattr(rm, "with_live_alerts", lambda engine, index: read.append("every live alert"))
    after = before
    for command, state in (("comment", "open"), ("ack", "acknowledged"), ("resolve", None)):
        act_on_alert(web_ctx, int(alert_id), command, actor=SYSTEM_ACTOR, comment="checked the shelf")
        after = cache.index(web_ctx.engine)
        assert read == [], command  # only the changed alerts were read
        shown = after.frame.loc[(after.frame["sku"] == sku) & (after.frame["location_id"] == location), "alert_state"]
        assert [None if pd.isna(v) else v for v in shown] == [state], command  # resolved: no live alert shown
    monkeypatch.undo()
    fresh, _source = rm.build_risk_frame(web_ctx.engine)
    pd.testing.assert_frame_equal(after.frame, fresh)
    everyone = ACTORS[0]
    assert after.summary(everyone) == rm.RiskIndex(fresh, "assessments").summary(everyone)
