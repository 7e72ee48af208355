"""How long the alert steps of the daily run take for many SKU-locations (SQLite file database).

Builds a synthetic assessment of N SKU-locations (10% warning, 3% critical), then times, for a first
run (every alert new) and a second run the next day (every alert updated, 1% worse): signal
building, the pure reconciliation, storing the changes with their handling log, composing the
digests, and delivering them through the outbox to a file channel. Prints a table and writes
``benchmarks/out/alerts_speed.json``.

Usage: python benchmarks/alerts_speed.py [N]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from stockwarden.alerts.build import build_signals
from stockwarden.alerts.lifecycle import reconcile_alerts
from stockwarden.alerts.notify.base import AppriseNotifier
from stockwarden.alerts.notify.compose import compose_messages
from stockwarden.alerts.notify.outbox import deliver_due
from stockwarden.config import AlertRules, NotifyChannel, NotifyRules
from stockwarden.store import alert_repo
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.outbox import SqlOutbox, enqueue_messages

OUT = Path(__file__).with_name("out")


def assessment(n: int, *, as_of: dt.date, seed: int, worse: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = np.random.default_rng(0).random(n)  # the same SKUs are at risk on both days
    level = np.select([u < 0.03, u < 0.13, u < 0.3], ["critical", "warning", "watch"], "ok").astype(object)
    bump = (rng.random(n) < worse) & (level == "warning")
    level[bump] = "critical"
    p = np.where(level == "critical", 0.9, np.where(level == "warning", 0.5, np.where(level == "watch", 0.2, 0.01)))
    p = p + rng.random(n) * 0.05
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "sku": [f"SKU-{i:06d}" for i in range(n)],
            "location_id": "WH1",
            "level": level,
            "stockout_probability": p,
            "expected_stockout_date": pd.Timestamp(as_of) + pd.to_timedelta(np.where(p > 0.4, 6, 40), unit="D"),
            "days_of_cover": 5.0,
            "on_hand": 10.0,
            "on_order": 0.0,
            "reorder_point": 20.0,
            "safety_stock": 5.0,
            "order_up_to": 40.0,
            "suggested_order_qty": 24.0,
            "reasons": "below_reorder_point",
        }
    )


def one_run(
    engine, frame: pd.DataFrame, *, as_of: dt.date, now: dt.datetime, run_id: int, notify: NotifyRules
) -> dict[str, float]:
    t: dict[str, float] = {}
    start = time.perf_counter()
    signals = build_signals(frame)
    t["build_signals_s"] = time.perf_counter() - start
    with Session(engine) as s, s.begin():
        start = time.perf_counter()
        live = alert_repo.get_live_alerts(s)
        t["load_live_s"] = time.perf_counter() - start
        start = time.perf_counter()
        changes = reconcile_alerts(live, signals, as_of=as_of, now=now, rules=AlertRules())
        t["reconcile_s"] = time.perf_counter() - start
        start = time.perf_counter()
        alert_repo.save_alert_changes(s, changes, run_id=run_id)
        t["store_s"] = time.perf_counter() - start
    with Session(engine) as s, s.begin():
        start = time.perf_counter()
        items = alert_repo.get_notify_items(s, run_id)
        messages = compose_messages(items, rules=notify, now=now, as_of=as_of, run_id=run_id)
        enqueue_messages(s, messages, now=now)
        t["compose_s"] = time.perf_counter() - start
    start = time.perf_counter()
    report = deliver_due(SqlOutbox(engine), AppriseNotifier(), rules=notify, now=now)
    t["deliver_s"] = time.perf_counter() - start
    t["changes"] = len(changes)
    t["notified"] = len(items)
    t["messages"] = report.n_sent
    return t


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade_database(engine)
        notify = NotifyRules(
            channels=[
                NotifyChannel(name="buyers", url=f"file://{tmp}/buyers.log", immediate_critical=False),
                NotifyChannel(name="critical", url=f"file://{tmp}/critical.log", levels=["critical"]),
            ]
        )
        day = dt.date(2024, 5, 1)
        now = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)
        first = one_run(engine, assessment(n, as_of=day, seed=1), as_of=day, now=now, run_id=1, notify=notify)
        second = one_run(
            engine,
            assessment(n, as_of=day + dt.timedelta(days=1), seed=2, worse=0.01),
            as_of=day + dt.timedelta(days=1),
            now=now + dt.timedelta(days=1),
            run_id=2,
            notify=notify,
        )
        engine.dispose()
    rows = {"first run (all new)": first, "next day (updates)": second}
    keys = list(first)
    print(f"alert steps for {n:,} SKU-locations (SQLite, file channels; timings under shared load)")
    print(f"{'':22s}" + "".join(f"{k:>16s}" for k in keys))
    for name, t in rows.items():
        print(f"{name:22s}" + "".join(f"{t[k]:16.3f}" if k.endswith("_s") else f"{int(t[k]):16d}" for k in keys))
    OUT.mkdir(exist_ok=True)
    (OUT / "alerts_speed.json").write_text(json.dumps({"n": n, **rows}, indent=2))


if __name__ == "__main__":
    main()
