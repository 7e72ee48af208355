"""What the daily run proposes, and whether it agrees with ``assess``: the demo company and replay_dev.

For each data set: import into a fresh SQLite database, run the daily job (``run_pipeline``) as of a
date, and count the draft proposal lines, units and value (units x unit cost). Where the run stores its
assessments, compare them row by row with ``assess`` on the same folder, date and rules (levels,
reorder points, order-up-to levels, suggested quantities). Prints a table and writes
``benchmarks/out/run_proposals.json``.

    python benchmarks/run_proposals.py                      # the rules' defaults
    python benchmarks/run_proposals.py --mode auto --horizon 56 --name before   # an older configuration
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.config import ForecastRules, RulesConfig, RunRules
from stockwarden.ingest.dataset import load_dataset
from stockwarden.ingest.sample import generate_company
from stockwarden.pipeline import run_pipeline
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.order_repo import list_proposal_lines
from stockwarden.store.repo import import_dataset

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
REPLAY = HERE.parent.parent / "shared" / "data" / "replay_dev"
COMPARED = ("level", "reorder_point", "order_up_to", "safety_stock", "suggested_order_qty")


def run_one(name: str, folder: Path, as_of: dt.date | None, rules: RulesConfig) -> dict[str, object]:
    """Import ``folder``, run the daily job and measure its proposals (and its agreement with assess)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'sw.db'}")
        upgrade_database(engine)
        import_dataset(engine, folder)
        t0 = time.perf_counter()
        report = run_pipeline(engine, as_of=as_of, config=rules, now=dt.datetime.now(dt.UTC))
        seconds = time.perf_counter() - t0
        lines = list_proposal_lines(engine, status=["draft"])
        units = float(sum(ln.qty for ln in lines))
        value = float(sum(ln.qty * ln.unit_cost for ln in lines if np.isfinite(ln.unit_cost)))
        out: dict[str, object] = {
            "dataset": name,
            "as_of": str(report.as_of),
            "forecast_mode": rules.run.forecast_mode,
            "forecast_horizon_days": rules.forecast.horizon_days,
            "run_seconds": round(seconds, 1),
            "proposal_lines": len(lines),
            "proposal_units": round(units),
            "proposal_value": round(value, 2),
        }
        try:  # stored assessments exist from the release that made the run and assess one path
            from stockwarden.risk.daily import assess_day
            from stockwarden.store.assessment_repo import load_assessments
        except ImportError:
            out["rows_differing_from_assess"] = None
        else:
            _, stored = load_assessments(engine, report.run_id)
            fresh = assess_day(load_dataset(folder), as_of=pd.Timestamp(report.as_of), rules=rules).assessment
            key = ["sku", "location_id"]
            both = stored.merge(fresh, on=key, suffixes=("_run", "_assess"))
            differ = np.zeros(len(both), dtype=bool)
            for c in COMPARED:
                a, b = both[f"{c}_run"], both[f"{c}_assess"]
                differ |= ~((a == b) | (a.isna() & b.isna())).to_numpy()
            out["rows_compared"] = len(both)
            out["rows_differing_from_assess"] = int(differ.sum())
            out["levels"] = stored["level"].value_counts().to_dict()
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default=None, help="forecast mode of the run (default: the rules' default)")
    ap.add_argument("--horizon", type=int, default=None, help="forecast.horizon_days (default: the rules')")
    ap.add_argument("--demo-mode", default=None, help="forecast mode for the demo company (default: --mode)")
    ap.add_argument("--name", default="run_proposals", help="prefix of the JSON file in benchmarks/out")
    args = ap.parse_args()
    base = RulesConfig()
    forecast = base.forecast if args.horizon is None else ForecastRules(horizon_days=args.horizon)

    def rules_for(mode: str | None) -> RulesConfig:
        run = base.run if mode is None else RunRules(forecast_mode=mode)
        return RulesConfig(run=run, forecast=forecast)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        generate_company(demo, seed=0, n_skus=300, n_locations=3, days=760)  # what `make demo` generates
        results.append(run_one("demo", demo, None, rules_for(args.demo_mode or args.mode)))
    if REPLAY.is_dir():
        results.append(run_one("replay_dev", REPLAY, dt.date(2016, 3, 25), rules_for(args.mode)))
    cols = ["dataset", "as_of", "forecast_mode", "proposal_lines", "proposal_units", "proposal_value"]
    cols += ["rows_differing_from_assess", "run_seconds"]
    print(pd.DataFrame(results)[cols].to_string(index=False))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
