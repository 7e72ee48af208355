"""Forecast accuracy on real data: M5 origins (WRMSSE, WSPL, calibration) and spare parts (MASE).

usage: python benchmarks/forecast_accuracy.py [--mode auto] [--origins 2016-02-28,2016-01-31,2016-01-03]
                                              [--skip-spares] [--only-spares]

M5: ``../shared/data/m5_dev`` (as of 2016-03-27) plus one 28-day origin per ``--origins`` date, built
from ``../shared/data/m5_tiny`` with ``../shared/tools/m5_to_dataset.py`` into a temp folder, all scored
by ``../shared/tools/score_forecasts.py --with-ets --json`` (run as subprocesses, never copied).
Calibration: the randomized-PIT coverage of p5 and p95 (what equals the nominal level for a calibrated
count forecast), beside the raw shares of actuals at or below / strictly below each quantile.

Spare parts: ``carparts`` and the four ``spare_parts`` sets; the last ``h`` periods are held out and
MASE (scaled by the in-sample one-step naive MAE) is compared with Croston and SBA.

Writes ``benchmarks/out/forecast_accuracy.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from stockwarden.domain.demand import DemandForecast, effective_size
from stockwarden.forecast.engine import forecast_demand
from stockwarden.ingest.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "benchmarks" / "out"
DEV_AS_OF = "2016-03-27"
DEFAULT_ORIGINS = "2016-02-28,2016-01-31,2016-01-03"
BASELINES = ("naive", "snaive7", "ma28", "auto_ets")


def _prepare_folder(src: Path | None, as_of: str, work: Path) -> tuple[Path, Path]:
    """A dataset folder and truth file for one origin (m5_dev linked, others built by m5_to_dataset)."""
    folder = work / f"m5_{as_of}"
    folder.mkdir(parents=True, exist_ok=True)
    if src is not None:
        for f in src.iterdir():
            if f.name != "truth.csv":
                (folder / f.name).symlink_to(f)
        truth = src / "truth.csv"
    else:
        truth = work / f"truth_{as_of}.csv"
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "tools" / "m5_to_dataset.py"),
                str(SHARED / "data" / "m5_tiny" / "tiny_m5.csv.gz"),
                str(folder),
                "--as-of",
                as_of,
                "--horizon",
                "28",
                "--truth",
                str(truth),
            ],
            check=True,
        )
    if not any(folder.glob("inventory.*")):
        # the M5 folders have no stock counts; the dataset reader wants the table, so give it empty
        (folder / "inventory.csv").write_text("date,sku,location_id,on_hand\n")
    return folder, truth


def _calibration(fc: DemandForecast, truth: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Coverage per quantile: shares of actuals at or below / strictly below it, and the randomized PIT.

    For counts, ``P(y <= q)`` over-states and ``P(y < q)`` under-states coverage (ties at 0 are common);
    the randomized PIT coverage (Czado, Gneiting & Held 2009) ``mean(clip((tau - F(y-1)) / (F(y) - F(y-1)), 0, 1))``
    with the forecast's own CDF ``F`` is what equals ``tau`` for a calibrated count forecast.
    """
    tr = truth.assign(date=pd.to_datetime(truth["date"]))
    m = fc.daily.merge(tr, on=["sku", "location_id", "date"], how="left")
    y = m["qty"].fillna(0.0).to_numpy()
    mu = np.maximum(fc.mean.ravel(), 1e-9)
    r = np.repeat(effective_size(fc.size, fc.level_shape), fc.horizon_days)
    r = np.where(np.isfinite(r), r, 1e6)
    p = r / (r + mu)
    hi = stats.nbinom.cdf(y, r, p)
    lo = np.where(y > 0, stats.nbinom.cdf(y - 1, r, p), 0.0)
    out = {}
    for q in ("p5", "p25", "p50", "p75", "p95"):
        tau = int(q[1:]) / 100
        pit = float(np.mean(np.clip((tau - lo) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)))
        out[q] = {
            "at_or_below": round(float(np.mean(y <= m[q].to_numpy())), 4),
            "below": round(float(np.mean(y < m[q].to_numpy())), 4),
            "pit": round(pit, 4),
        }
    return out


def run_origin(src: Path | None, as_of: str, work: Path, mode: str) -> dict:
    folder, truth_path = _prepare_folder(src, as_of, work)
    ds = load_dataset(folder)
    t0 = time.perf_counter()
    fc = forecast_demand(ds, as_of=as_of, horizon_days=28, mode=mode, seed=0)
    seconds = time.perf_counter() - t0
    fc_path = work / f"forecast_{as_of}.csv"
    fc.daily.to_csv(fc_path, index=False, date_format="%Y-%m-%d")
    score_path = work / f"score_{as_of}.json"
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "score_forecasts.py"),
            str(folder),
            str(truth_path),
            str(fc_path),
            "--with-ets",
            "--json",
            str(score_path),
        ],
        check=True,
        capture_output=True,
    )
    scores = json.loads(score_path.read_text())
    truth = pd.read_csv(truth_path, dtype={"sku": str, "location_id": str})
    best = min(BASELINES, key=lambda b: scores[b]["wrmsse"])
    return {
        "as_of": as_of,
        "seconds": round(seconds, 1),
        "scores": scores,
        "best_baseline": best,
        "calibration": _calibration(fc, truth),
        "models": fc.series["model"].value_counts().to_dict(),
    }


def summarize_m5(results: list[dict]) -> dict:
    w = np.mean([r["scores"]["stockwarden"]["wrmsse"] for r in results])
    best = np.mean([r["scores"][r["best_baseline"]]["wrmsse"] for r in results])
    best_fixed = min(np.mean([r["scores"][b]["wrmsse"] for r in results]) for b in BASELINES)
    wspl = np.mean([r["scores"]["stockwarden"]["wspl"] for r in results])
    wspl_ma = np.mean([r["scores"]["ma28"]["wspl"] for r in results])
    cal = {q: float(np.mean([r["calibration"][q]["pit"] for r in results])) for q in ("p5", "p95")}
    return {
        "wrmsse": round(float(w), 4),
        "best_baseline_wrmsse_per_origin": round(float(best), 4),
        "best_single_baseline_wrmsse": round(float(best_fixed), 4),
        "wrmsse_ratio": round(float(w / best), 4),
        "wspl": round(float(wspl), 4),
        "wspl_ma28": round(float(wspl_ma), 4),
        "wspl_ratio": round(float(wspl / wspl_ma), 4),
        "coverage_p5": round(cal["p5"], 4),
        "coverage_p95": round(cal["p95"], 4),
        "targets": {
            "wrmsse_ratio<=0.95": bool(w / best <= 0.95),
            "wspl_ratio<=0.85": bool(wspl / wspl_ma <= 0.85),
            "p5_within_3pts": bool(abs(cal["p5"] - 0.05) <= 0.03),
            "p95_within_3pts": bool(abs(cal["p95"] - 0.95) <= 0.03),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="auto")
    ap.add_argument("--origins", default=DEFAULT_ORIGINS)
    ap.add_argument("--skip-spares", action="store_true")
    ap.add_argument("--only-spares", action="store_true")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    report: dict = {"mode": a.mode}
    if not a.only_spares:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            results = [run_origin(SHARED / "data" / "m5_dev", DEV_AS_OF, work, a.mode)]
            results += [run_origin(None, o, work, a.mode) for o in a.origins.split(",") if o]
        report["m5"] = {"origins": results, "summary": summarize_m5(results)}
        print(
            f"{'origin':12s} {'WRMSSE':>7s} {'best bl':>12s} {'WSPL':>7s} {'ma28 SPL':>8s} {'p5 cov':>7s} "
            f"{'p95 cov':>7s} {'sec':>6s}"
        )
        for r in results:
            s = r["scores"]
            cal = r["calibration"]
            print(
                f"{r['as_of']:12s} {s['stockwarden']['wrmsse']:7.3f} "
                f"{r['best_baseline']:>6s}{s[r['best_baseline']]['wrmsse']:6.3f} {s['stockwarden']['wspl']:7.3f} "
                f"{s['ma28']['wspl']:8.3f} {cal['p5']['pit']:7.3f} {cal['p95']['pit']:7.3f} {r['seconds']:6.1f}"
            )
        print(json.dumps(report["m5"]["summary"], indent=1))
    if not a.skip_spares:
        from forecast_accuracy_spares import run_spares

        report["spares"] = run_spares(SHARED / "data")
    path = OUT / "forecast_accuracy.json"
    if (a.skip_spares or a.only_spares) and path.exists():  # keep the other part of an earlier full run
        earlier = json.loads(path.read_text())
        report = {**{k: v for k, v in earlier.items() if k in ("m5", "spares")}, **report}
    path.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
