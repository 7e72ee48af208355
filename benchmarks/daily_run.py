"""The daily run end to end on real data: `replay_dev` imported into SQLite, three runs.

1. the first run as of a date (every step, every alert new),
2. the same run again (must recompute nothing: load + fingerprint + tick + deliver only),
3. the next day's run (data known one day later).

Prints seconds per step and writes ``benchmarks/out/daily_run.json``. Notifications go to a local
file channel. Usage: python benchmarks/daily_run.py [--mode fast|stats|auto] [--as-of 2016-03-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from stockwarden.alerts.notify.base import AppriseNotifier
from stockwarden.config import NotifyChannel, NotifyRules, RulesConfig, RunRules
from stockwarden.pipeline import RunReport, run_pipeline
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "replay_dev"
OUT = Path(__file__).with_name("out")


def show(name: str, report: RunReport, wall: float) -> dict[str, object]:
    steps = {s.name: round(s.seconds, 3) for s in report.steps}
    print(f"{name:28s} {report.status:18s} wall {wall:7.2f} s  " + " ".join(f"{k}={v:.2f}" for k, v in steps.items()))
    keys = (
        "alerts_opened",
        "alerts_updated",
        "alerts_resolved",
        "alerts_escalated",
        "messages_enqueued",
        "messages_sent",
        "assessed",
        "proposals_created",
    )
    print(f"{'':28s} " + ", ".join(f"{k}={report.counts.get(k, 0)}" for k in keys))
    return {"status": report.status, "wall_s": round(wall, 3), "steps_s": steps, "counts": report.counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="fast", choices=["fast", "stats", "auto"])
    parser.add_argument("--as-of", default="2016-03-01")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return
    day = dt.date.fromisoformat(args.as_of)
    now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade_database(engine)
        start = time.perf_counter()
        import_dataset(engine, DATA)
        import_s = time.perf_counter() - start
        print(f"replay_dev imported in {import_s:.1f} s; forecast mode {args.mode}; timings under shared load")
        rules = RulesConfig(
            run=RunRules(forecast_mode=args.mode),
            notify=NotifyRules(channels=[NotifyChannel(name="file", url=f"file://{tmp}/n.log")]),
        )
        results = {}
        for name, as_of, at in (
            ("first run", day, now),
            ("same run again", day, now + dt.timedelta(hours=1)),
            ("next day", day + dt.timedelta(days=1), now + dt.timedelta(days=1)),
        ):
            start = time.perf_counter()
            report = run_pipeline(engine, as_of=as_of, config=rules, now=at, notifier=AppriseNotifier())
            results[name] = show(name, report, time.perf_counter() - start)
        engine.dispose()
    OUT.mkdir(exist_ok=True)
    (OUT / "daily_run.json").write_text(
        json.dumps({"mode": args.mode, "as_of": args.as_of, "import_s": import_s, **results}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
