"""``stockwarden quality`` on a database: stored alerts and counts in, measures out and stored (trend)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from tests.factories import write_table
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.store.alerts import AlertFeedbackRow, AlertRow
from stockwarden.store.db import make_engine
from stockwarden.store.quality import keep_forecast, quality_snapshots

runner = CliRunner()
DAYS = pd.date_range("2024-01-01", periods=60)


def company(folder: Path) -> Path:
    """One SKU selling 2 a day; counts every day; empty on days 30-31 (an episode beginning Jan 31); 100 from Feb 9."""
    write_table(
        folder, "items", [{"sku": "A", "category": "c", "unit_cost": 1, "supplier_id": "S", "lead_time_days": 3}]
    )
    write_table(folder, "suppliers", [{"supplier_id": "S", "lead_time_days": 3}])
    write_table(folder, "locations", [{"location_id": "W"}])
    stock = [0.0 if i in (30, 31) else 100.0 if i >= 39 else 10.0 for i in range(len(DAYS))]
    write_table(
        folder,
        "sales",
        [
            {"date": d.date().isoformat(), "sku": "A", "location_id": "W", "qty": 2}
            for i, d in enumerate(DAYS)
            if stock[i]
        ],
    )
    write_table(
        folder,
        "inventory",
        [
            {"date": d.date().isoformat(), "sku": "A", "location_id": "W", "on_hand": stock[i]}
            for i, d in enumerate(DAYS)
        ],
    )
    return folder


def add_alert(engine: sa.Engine, *, first: str, last: str, verdict: str | None) -> None:
    now = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        aid = conn.execute(
            sa.insert(AlertRow.__table__).returning(AlertRow.__table__.c.id),
            {
                "kind": "stockout_risk",
                "sku": "A",
                "location_id": "W",
                "level": "warning",
                "state": "resolved",
                "stockout_probability": 0.7,
                "reasons": "",
                "suggested_order_qty": 0.0,
                "roles": "planner",
                "opened_at": now,
                "updated_at": now,
                "first_as_of": dt.date.fromisoformat(first),
                "last_as_of": dt.date.fromisoformat(last),
                "notified_level": "warning",
                "snooze_until_worse": False,
                "clear_runs": 0,
                "is_latched": False,
                "rules_version": "",
            },
        ).scalar_one()
        if verdict:
            conn.execute(
                sa.insert(AlertFeedbackRow.__table__),
                {
                    "alert_id": aid,
                    "at": now,
                    "actor": "p",
                    "verdict": verdict,
                    "note": "",
                    "level": "warning",
                    "stockout_probability": 0.7,
                },
            )


def test_quality_measures_the_stored_alerts_and_keeps_a_snapshot(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    assert runner.invoke(app, ["import", str(company(tmp_path / "ds")), "--db", db]).exit_code == 0
    engine = make_engine(db)
    add_alert(engine, first="2024-01-26", last="2024-01-29", verdict="useful")  # 5 days before Jan 31
    add_alert(engine, first="2024-02-10", last="2024-02-11", verdict="false_alarm")  # 100 on hand: no stockout
    with engine.begin() as conn:
        fc = type("F", (), {})()
        fc.series = pd.DataFrame({"sku": ["A"], "location_id": ["W"], "demand_class": ["smooth"]})
        fc.mean = np.full((1, 28), 3.0)
        fc.size = np.array([np.inf])
        assert keep_forecast(conn, fc, as_of=dt.date(2024, 1, 1)) == 1
    out = tmp_path / "q.json"
    for _ in range(2):
        res = runner.invoke(app, ["quality", "--db", db, "--since", "2024-01-15", "--json", str(out)])
        assert res.exit_code == 0, res.output
    r = json.loads(out.read_text(encoding="utf-8"))
    o = r["overall"]
    assert (o["episodes"], o["warned_in_time"], o["warned_1d"], o["median_warning_lead_days"]) == (1, 1.0, 1.0, 5.0)
    assert (o["alerts"], o["effective"], o["false_alarms"]) == (2, 0.5, 0.5)
    assert (o["feedback_useful"], o["feedback_false_alarm"]) == (1, 1)
    assert len(r["trend"]) == 2  # stored each run, so trends show
    overall = [s for s in r["forecast_scores"] if s["group_by"] == "all"]
    # forecast 3 a day against sales of 2 a day (Jan 2..29, none out of stock): bias +50%, WAPE 50%
    assert overall[0]["bias"] == 0.5 and overall[0]["wape"] == 0.5
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(quality_snapshots)).scalar_one() > 2
    engine.dispose()
