"""Warning quality on replay_dev: backtest 2015-04-03..2016-03-25 every 7 days, scored by score_warnings.py.

Usage: python benchmarks/warning_quality.py [--refit-every N] [--mode stats|fast|auto] [--learned auto|always|never]
                                            [--warmup-days D] [--out benchmarks/out/warning_quality.json]
                                            [--name PREFIX]

Writes the warnings CSV and the scorer's JSON to benchmarks/out/ and prints the scorer's table plus
the targets (AP >= 0.75 all, >= 0.72 in stock; precision >= 0.70 and lead-time recall >= 0.65 at
warning+critical; Brier below a constant base rate).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from stockwarden.cli.risk import DEFAULT_WARMUP_DAYS, run_backtest_on
from stockwarden.config import RiskRules, RulesConfig
from stockwarden.ingest.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "replay_dev"
SCORER = SHARED / "tools" / "score_warnings.py"
OUT = ROOT / "benchmarks" / "out"
START, END, EVERY = "2015-04-03", "2016-03-25", 7
SCORED_COLUMNS = ("as_of", "sku", "location_id", "level", "stockout_probability", "expected_stockout_date")


def score_backtest(frame: pd.DataFrame, *, prefix: str = "warning_quality") -> tuple[dict, str]:
    """Write the backtest and its warnings under ``OUT/<prefix>_*``, score them; (scorer JSON, its table)."""
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / f"{prefix}_backtest.csv", index=False, date_format="%Y-%m-%d")
    # The scorer reads the documented warning columns; it merges every column with truth.csv, whose
    # own on_hand would collide with ours, so hand it exactly those columns.
    warnings_csv = OUT / f"{prefix}_warnings.csv"
    frame.loc[:, list(SCORED_COLUMNS)].to_csv(warnings_csv, index=False, date_format="%Y-%m-%d")
    score_json = OUT / f"{prefix}_score.json"
    res = subprocess.run(
        [sys.executable, str(SCORER), str(DATA), str(DATA / "truth.csv"), str(warnings_csv), "--json", str(score_json)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(score_json.read_text()), res.stdout


def constant_brier() -> float:
    """Brier score of the constant base rate on replay_dev's truth (the calibration target's bar)."""
    truth = pd.read_csv(DATA / "truth.csv")
    base_rate = truth["stockout"].mean()
    return float(((base_rate - truth["stockout"]) ** 2).mean())


def targets_met(sw: dict, brier_const: float) -> dict[str, bool]:
    """Issue #4's quality targets, each met or not, from the scorer's ``stockwarden`` entry."""
    return {
        "average_precision_all>=0.75": sw["average_precision"] >= 0.75,
        "average_precision_in_stock>=0.72": sw["in_stock"]["average_precision"] >= 0.72,
        "precision>=0.70": sw["precision"] >= 0.70,
        "lead_time_recall>=0.65": sw["lead_time_recall"] >= 0.65,
        "brier<constant": sw["brier"] < brier_const,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--refit-every", type=int, default=1)
    ap.add_argument("--mode", default="stats")
    ap.add_argument("--learned", default="auto", choices=["auto", "always", "never"])
    ap.add_argument("--warmup-days", type=int, default=DEFAULT_WARMUP_DAYS)
    ap.add_argument("--history-days", type=int, default=365)
    ap.add_argument("--out", type=Path, default=OUT / "warning_quality.json")
    ap.add_argument("--name", default="warning_quality", help="prefix of the CSV/JSON files written to benchmarks/out")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"replay_dev not found at {DATA}")
    OUT.mkdir(parents=True, exist_ok=True)
    base = RulesConfig()
    rules = RulesConfig(
        risk=RiskRules(learned_model=args.learned),
        run=base.run.model_copy(update={"forecast_mode": args.mode}),
        forecast=base.forecast.model_copy(update={"history_days": args.history_days or None}),
    )
    t0 = time.perf_counter()
    ds = load_dataset(DATA)
    frame = run_backtest_on(
        ds,
        start=pd.Timestamp(START),
        end=pd.Timestamp(END),
        every_days=EVERY,
        rules=rules,
        refit_every=args.refit_every,
        warmup_days=args.warmup_days if args.learned != "never" else 0,
    )
    seconds = time.perf_counter() - t0
    score, table = score_backtest(frame, prefix=args.name)
    print(table)
    sw = score["stockwarden"]
    brier_const = constant_brier()
    targets = targets_met(sw, brier_const)
    used = frame["model_source"].value_counts().to_dict() if "model_source" in frame else {}
    summary = {
        "seconds": round(seconds, 1),
        "rows": len(frame),
        "checkpoints": int(frame["as_of"].nunique()),
        "refit_every": args.refit_every,
        "forecast_mode": args.mode,
        "learned": args.learned,
        "warmup_days": args.warmup_days,
        "history_days": args.history_days,
        "model_source_rows": used,
        "brier_constant_base_rate": round(brier_const, 4),
        "score": score,
        "targets_met": targets,
    }
    args.out.write_text(json.dumps(summary, indent=2))
    print(
        f"backtest: {len(frame)} rows, {summary['checkpoints']} checkpoints in {seconds:.0f} s "
        f"(forecast mode {args.mode}, refit every {args.refit_every}, learned {args.learned}: {used})"
    )
    print(f"Brier {sw['brier']:.4f} vs constant base rate {brier_const:.4f}")
    for k, ok in targets.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {k}")


if __name__ == "__main__":
    main()
