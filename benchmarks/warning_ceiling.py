"""How far can better demand or supply knowledge take the warnings on replay_dev? Hindsight "oracles".

usage: python benchmarks/warning_ceiling.py [--oracles forecast,level_around_horizon,...]

Issue #4 asks, on replay_dev's 52 weekly checkpoints, for an average precision of 0.72 on the
SKU-locations still in stock and a lead-time recall of 0.65 at precision 0.70. This benchmark measures
what that asks for. It runs the same backtest as ``warning_quality.py`` (same checkpoints, forecast
mode, warm-up and learned model) but lets the demand forecast or the open POs' arrivals see the truth:

* ``forecast``: no oracle, the product as shipped (the reference);
* ``level_after_horizon``: each series' forecast rescaled, at every checkpoint, to its true mean
  demand of the 28 days *after* the protection interval (the coming month's level, without the
  interval's own days);
* ``level_around_horizon``: rescaled to the mean of the true mean of the 28 days before the checkpoint
  and that of the 28 days after the interval: the demand level around the interval, interpolated in
  hindsight from both sides, still without the interval's own days;
* ``true_horizon_total``: rescaled so that the expected demand over the interval equals the true total
  (the day-to-day noise of the paths is left; this one knows the interval's realisation);
* ``true_po_arrivals``: each open PO arrives on the day it really did (quantities as ordered).

Truth of demand: replay_dev's demand is the real M5 unit sales of ``../shared/data/m5_tiny`` (see
replay_dev's README); the arrival days come from replay_dev's own purchase orders. Every run is scored
by ``../shared/tools/score_warnings.py`` (a subprocess). Writes ``benchmarks/out/warning_ceiling.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from warning_quality import DATA, END, EVERY, OUT, SHARED, START, constant_brier, score_backtest, targets_met

from stockwarden.cli.risk import DEFAULT_WARMUP_DAYS, run_backtest_on
from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import Dataset, load_dataset

M5_TINY = SHARED / "data" / "m5_tiny" / "tiny_m5.csv.gz"
LEVEL_DAYS = 28
REVIEW_DAYS = 7  # replay_dev's truth: protection interval = items.lead_time_days + 7

Adjuster = Callable[[Any, pd.Timestamp], Any]


def true_demand() -> pd.DataFrame:
    """Daily true demand, one column per (sku, location_id), a row per calendar day."""
    m5 = pd.read_csv(M5_TINY, usecols=["item_id", "store_id", "date", "value"], parse_dates=["date"])
    wide = m5.pivot_table(index="date", columns=["item_id", "store_id"], values="value", aggfunc="sum")
    return wide.asfreq("D").fillna(0.0)


def _window_mean(cum: np.ndarray, first: np.ndarray, days: np.ndarray | int) -> np.ndarray:
    """Per column ``j``: mean of the ``days`` days from row ``first[j]``, from a cumulative-sum table."""
    col = np.arange(cum.shape[1])
    last = np.clip(first + days, 0, len(cum) - 1)
    return (cum[last, col] - cum[np.clip(first, 0, len(cum) - 1), col]) / days


def rescale_to_truth(kind: str, demand: pd.DataFrame, lead_days: pd.Series) -> Adjuster:
    """An ``adjust_forecast`` hook that rescales each series' mean path to a hindsight target."""
    cum = np.vstack([np.zeros(demand.shape[1]), demand.to_numpy().cumsum(axis=0)])
    col_of = {key: j for j, key in enumerate(demand.columns)}
    day0 = demand.index[0]

    def adjust(fc: Any, as_of: pd.Timestamp) -> Any:
        keys = list(zip(fc.series["sku"], fc.series["location_id"], strict=True))
        cols = np.array([col_of.get(k, -1) for k in keys])
        h = (fc.series["sku"].map(lead_days).fillna(0).to_numpy(int) + REVIEW_DAYS).clip(1, fc.mean.shape[1])
        t = (as_of - day0).days + 1  # cum row of the first day after as_of
        c = cum[:, np.maximum(cols, 0)]
        start = np.full(len(cols), t)
        interval = _window_mean(c, start, h)
        after = _window_mean(c, start + h, LEVEL_DAYS)
        before = _window_mean(c, start - LEVEL_DAYS, LEVEL_DAYS)
        target = {
            "true_horizon_total": interval,
            "level_after_horizon": after,
            "level_around_horizon": (before + after) / 2,
        }[kind]
        days = np.arange(fc.mean.shape[1])[None, :] < h[:, None]
        current = np.where(days, fc.mean, 0.0).sum(axis=1) / h
        scale = np.where(current > 0, target / np.maximum(current, 1e-12), 0.0)
        flat = np.where(current > 0, 0.0, target)  # a zero forecast becomes a flat path at the target
        mean = np.where(cols[:, None] >= 0, fc.mean * scale[:, None] + flat[:, None], fc.mean)
        return dataclasses.replace(fc, mean=mean)

    return adjust


class TrueArrivals:
    """A lead-time model whose open POs arrive on their true received day (else as the model says)."""

    def __init__(self, model: Any, received: pd.DataFrame) -> None:
        self._model = model
        self._received = received

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def arrival_pmfs(self, open_pos: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> np.ndarray:
        pmf = np.asarray(self._model.arrival_pmfs(open_pos, as_of)).copy()
        if not len(open_pos):
            return pmf
        got = open_pos[["po_id", "line_no"]].merge(self._received, on=["po_id", "line_no"], how="left")
        day = (got["received_date"] - pd.Timestamp(as_of)).dt.days.to_numpy(float)
        known = np.isfinite(day) & (day >= 1) & (day < pmf.shape[1])
        pmf[known] = 0.0
        pmf[np.flatnonzero(known), day[known].astype(int)] = 1.0
        return pmf


def run(name: str, ds: Dataset, demand: pd.DataFrame | None, warmup_days: int) -> dict[str, Any]:
    adjust_forecast: Adjuster | None = None
    adjust_lead_times: Adjuster | None = None
    if name in ("true_horizon_total", "level_after_horizon", "level_around_horizon"):
        assert demand is not None
        adjust_forecast = rescale_to_truth(name, demand, ds.items.set_index("sku")["lead_time_days"])
    elif name == "true_po_arrivals":
        received = ds.purchase_orders.loc[:, ["po_id", "line_no", "received_date"]]

        def adjust_lead_times(model: Any, _as_of: pd.Timestamp) -> Any:
            return TrueArrivals(model, received)

    t0 = time.perf_counter()
    frame = run_backtest_on(
        ds,
        start=pd.Timestamp(START),
        end=pd.Timestamp(END),
        every_days=EVERY,
        rules=RulesConfig(),
        warmup_days=warmup_days,
        adjust_forecast=adjust_forecast,
        adjust_lead_times=adjust_lead_times,
    )
    score, _ = score_backtest(frame, prefix=f"warning_ceiling_{name}")
    sw = score["stockwarden"]
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "average_precision": sw["average_precision"],
        "average_precision_in_stock": sw["in_stock"]["average_precision"],
        "precision": sw["precision"],
        "lead_time_recall": sw["lead_time_recall"],
        "brier": sw["brier"],
        "targets_met": targets_met(sw, constant_brier()),
    }


ORACLES = ("forecast", "level_after_horizon", "level_around_horizon", "true_horizon_total", "true_po_arrivals")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oracles", default=",".join(ORACLES))
    ap.add_argument("--warmup-days", type=int, default=DEFAULT_WARMUP_DAYS)
    ap.add_argument("--out", type=Path, default=OUT / "warning_ceiling.json")
    args = ap.parse_args()
    names = [n.strip() for n in args.oracles.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ORACLES))
    if unknown:
        sys.exit(f"unknown oracle(s) {unknown}; choose from {', '.join(ORACLES)}")
    if not DATA.is_dir():
        sys.exit(f"replay_dev not found at {DATA}")
    needs_demand = any(n.startswith(("true_horizon", "level_")) for n in names)
    if needs_demand and not M5_TINY.exists():
        sys.exit(f"m5_tiny (replay_dev's true demand) not found at {M5_TINY}")
    ds = load_dataset(DATA)
    demand = true_demand() if needs_demand else None
    results = {name: run(name, ds, demand, args.warmup_days) for name in names}
    OUT.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"{'run':22s} {'AP all':>7s} {'AP in-stock':>11s} {'precision':>9s} {'lead-rec':>8s} {'Brier':>6s} {'s':>5s}")
    for name, r in results.items():
        print(
            f"{name:22s} {r['average_precision']:7.3f} {r['average_precision_in_stock']:11.3f} "
            f"{r['precision']:9.3f} {r['lead_time_recall']:8.3f} {r['brier']:6.3f} {r['seconds']:5.0f}"
        )
    print("targets: AP all >= 0.75, in stock >= 0.72; precision >= 0.70 with lead-time recall >= 0.65")


if __name__ == "__main__":
    main()
