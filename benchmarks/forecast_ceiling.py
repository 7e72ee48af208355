"""How low can the weighted scaled pinball loss go on the M5 origins? Hindsight "oracles" vs MA28.

usage: python benchmarks/forecast_ceiling.py [--origins 2016-02-28,2016-01-31,2016-01-03]

Issue #3 asks for a WSPL at most 0.85 x the 28-day moving average's (MA28 carries the empirical
quantiles of the last 28 days). This benchmark measures what that asks for. On the same four origins
as ``forecast_accuracy.py`` (m5_dev + three built from m5_tiny), it scores forecasts that are NOT
forecasts: each one is allowed to look at the truth of the 28 days it is scored on.

* ``oracle_level_poisson``: every series' true mean over the 28 days, shaped by its weekday profile of
  the last year, Poisson quantiles (knows the future level exactly; the day-to-day noise is left);
* ``oracle_level_nb2``: the same with negative-binomial quantiles (size 2: over-dispersed);
* ``oracle_level_ma28_shape``: MA28's empirical quantiles rescaled to the true future level;
* ``oracle_constant_quantiles``: the empirical quantiles of the 28 true values themselves, the same
  for every day. For each series and quantile this is the constant that minimises the pinball loss
  over the window (a sample quantile minimises the summed pinball loss), i.e. the best any forecast
  that does not predict day-to-day variation can do, in hindsight.

Everything is scored by ``../shared/tools/score_forecasts.py`` (run as a subprocess, never copied).
Writes ``benchmarks/out/forecast_ceiling.json`` and prints the WSPL ratio to MA28 of each oracle.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from forecast_accuracy import DEFAULT_ORIGINS, DEV_AS_OF, OUT, SHARED, _prepare_folder
from scipy import stats

QUANTILES = (5, 25, 50, 75, 95)
Oracle = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]
"""(history, truth over the window) -> mean and pNN arrays over the window."""


def _weekday_profile(history: np.ndarray, h: int) -> np.ndarray:
    """Relative weekday level of the last 364 days, laid over the ``h`` days after the history."""
    last = history[-364:]
    n = len(history)
    pos = np.arange(n - len(last), n) % 7
    by_day = np.array([last[pos == k].mean() if (pos == k).any() else 0.0 for k in range(7)])
    prof = by_day[(n + np.arange(h)) % 7]
    return prof / prof.mean() if prof.mean() > 0 else np.ones(h)


def level_poisson(history: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    mu = np.maximum(truth.mean() * _weekday_profile(history, len(truth)), 1e-9)
    return {"mean": mu, **{f"p{q}": stats.poisson.ppf(q / 100, mu) for q in QUANTILES}}


def level_nb2(history: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    mu = np.maximum(truth.mean() * _weekday_profile(history, len(truth)), 1e-9)
    size = 2.0
    return {"mean": mu, **{f"p{q}": stats.nbinom.ppf(q / 100, size, size / (size + mu)) for q in QUANTILES}}


def level_ma28_shape(history: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    last = history[-28:]
    scale = truth.mean() / last.mean() if last.mean() > 0 else 1.0
    h = len(truth)
    return {
        "mean": np.full(h, truth.mean()),
        **{f"p{q}": np.full(h, np.percentile(last * scale, q)) for q in QUANTILES},
    }


def constant_quantiles(_history: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    h = len(truth)
    return {"mean": np.full(h, truth.mean()), **{f"p{q}": np.full(h, np.percentile(truth, q)) for q in QUANTILES}}


ORACLES: dict[str, Oracle] = {
    "oracle_level_poisson": level_poisson,
    "oracle_level_nb2": level_nb2,
    "oracle_level_ma28_shape": level_ma28_shape,
    "oracle_constant_quantiles": constant_quantiles,
}


def _history(folder: Path) -> tuple[dict[tuple[str, str], np.ndarray], pd.Timestamp]:
    """Daily sales per series from its first sale to the last day (as the scorer builds them)."""
    path = next(p for p in (folder / "sales.csv", folder / "sales.csv.gz") if p.exists())
    sales = pd.read_csv(path, parse_dates=["date"], dtype={"sku": str, "location_id": str})
    end = sales["date"].max()
    daily = sales.groupby(["sku", "location_id", "date"])["qty"].sum()
    out = {}
    for key, ser in daily.groupby(level=[0, 1]):
        s = ser.droplevel([0, 1])
        out[(str(key[0]), str(key[1]))] = s.reindex(pd.date_range(s.index.min(), end), fill_value=0).to_numpy(float)
    return out, end


def run_origin(src: Path | None, as_of: str, work: Path) -> dict[str, dict]:
    folder, truth_path = _prepare_folder(src, as_of, work)
    truth = pd.read_csv(truth_path, dtype={"sku": str, "location_id": str}, parse_dates=["date"])
    hist, end = _history(folder)
    dates = pd.date_range(end + pd.Timedelta(days=1), periods=truth["date"].nunique())
    tr = truth.set_index(["sku", "location_id", "date"])["qty"]
    keys = sorted(set(zip(truth["sku"], truth["location_id"], strict=True)))
    scores: dict[str, dict] = {}
    for name, oracle in ORACLES.items():
        frames = []
        for sku, loc in keys:
            y = tr.reindex([(sku, loc, d) for d in dates]).fillna(0.0).to_numpy(float)
            h = hist.get((sku, loc), np.zeros(28))
            cols = oracle(h, y)
            frames.append(pd.DataFrame({"sku": sku, "location_id": loc, "date": dates, **cols}))
        fc_path = work / f"{name}_{as_of}.csv"
        pd.concat(frames).to_csv(fc_path, index=False, date_format="%Y-%m-%d")
        score_path = work / f"{name}_{as_of}.json"
        subprocess.run(
            [
                *(sys.executable, str(SHARED / "tools" / "score_forecasts.py")),
                str(folder),
                str(truth_path),
                str(fc_path),
                "--json",
                str(score_path),
            ],
            check=True,
            capture_output=True,
        )
        res = json.loads(score_path.read_text())
        scores["ma28"] = res["ma28"]
        scores[name] = res["stockwarden"]
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", default=DEFAULT_ORIGINS)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        per_origin = {DEV_AS_OF: run_origin(SHARED / "data" / "m5_dev", DEV_AS_OF, work)}
        for o in [o for o in a.origins.split(",") if o]:
            per_origin[o] = run_origin(None, o, work)
    names = ["ma28", *ORACLES]
    mean_wspl = {n: float(np.mean([s[n]["wspl"] for s in per_origin.values()])) for n in names}
    ratio = {n: round(mean_wspl[n] / mean_wspl["ma28"], 4) for n in names}
    print(f"{'forecast':28s} " + " ".join(f"{o:>10s}" for o in per_origin) + f" {'mean':>7s} {'/ma28':>6s}")
    for n in names:
        row = " ".join(f"{per_origin[o][n]['wspl']:10.4f}" for o in per_origin)
        print(f"{n:28s} {row} {mean_wspl[n]:7.4f} {ratio[n]:6.3f}")
    print("target of issue #3: WSPL <= 0.85 x ma28")
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "origins": {o: {n: s[n]["wspl"] for n in names} for o, s in per_origin.items()},
        "mean_wspl": {n: round(v, 4) for n, v in mean_wspl.items()},
        "wspl_ratio_to_ma28": ratio,
        "target_ratio": 0.85,
    }
    (OUT / "forecast_ceiling.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
