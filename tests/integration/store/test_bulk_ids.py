"""Rows inserted in bulk get their ids back in order, with every value and the columns' defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
import sqlalchemy as sa

from stockwarden.store.alerts import AlertRow
from stockwarden.store.bulk import insert_with_ids

ALERTS = cast(sa.Table, AlertRow.__table__)
NOW = dt.datetime(2025, 10, 27, 6, 30, tzinfo=dt.UTC)


def _alert(i: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": "stockout_risk",
        "sku": f"SKU-{i:03d}",
        "location_id": "WH'1" if i % 2 else "ST-01",
        "level": "warning",
        "state": "open",
        "stockout_probability": 0.5 + i / 1000,
        "expected_stockout_date": dt.date(2025, 11, 1) if i % 3 else None,
        "days_of_cover": float("nan") if i == 4 else 3.25,
        "category": None,
        "opened_at": NOW,
        "updated_at": NOW,
        "first_as_of": dt.date(2025, 10, 26),
        "last_as_of": dt.date(2025, 10, 26),
        "notified_level": "warning",
        "critical_since": None,
        "snoozed_until": None,
        "snooze_level": None,
        "resolved_at": None,
        "resolved_by": None,
        "snooze_until_worse": i == 2,
    }
    row.update(over)
    return row


def test_ids_come_back_in_row_order_with_every_value_and_the_defaults(engine: sa.Engine) -> None:
    rows = [_alert(i) for i in range(7)]  # reasons, roles, clear_runs, is_latched, rules_version: defaults
    with engine.begin() as conn:
        first = insert_with_ids(conn, ALERTS, rows[:2])
        later = insert_with_ids(conn, ALERTS, rows[2:])
        assert insert_with_ids(conn, ALERTS, []) == []
    ids = first + later
    assert ids == sorted(ids) and len(set(ids)) == 7
    with engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(sa.select(ALERTS))}
    for new_id, row in zip(ids, rows, strict=True):
        got = stored[new_id]
        assert got.sku == row["sku"] and got.location_id == row["location_id"]
        assert got.stockout_probability == pytest.approx(row["stockout_probability"])
        assert got.expected_stockout_date == row["expected_stockout_date"]
        assert got.snooze_until_worse is row["snooze_until_worse"]
        opened = got.opened_at if got.opened_at.tzinfo else got.opened_at.replace(tzinfo=dt.UTC)  # SQLite: naive UTC
        assert opened == NOW
        defaults = (got.reasons, got.roles, got.clear_runs, got.is_latched, got.rules_version)
        assert defaults == ("", "planner", 0, False, "")
    assert stored[ids[4]].days_of_cover is None or stored[ids[4]].days_of_cover != stored[ids[4]].days_of_cover


def test_a_column_with_a_computed_default_must_be_given() -> None:
    table = sa.Table(
        "stamped",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, default=lambda: NOW),
    )
    with pytest.raises(ValueError, match=r"stamped\.at has a computed default"):
        insert_with_ids(cast(Any, None), table, [{"id_hint": 1}])
