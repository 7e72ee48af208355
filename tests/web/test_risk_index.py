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
