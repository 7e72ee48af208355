"""Assessment speed: 30,000 SKU-locations with forecasts given, and the replay_dev backtest.

Usage: python benchmarks/assess_speed.py [--series 30000] [--skip-backtest] [--out benchmarks/out/assess_speed.json]

Part 1 builds a synthetic company in memory (1,000 SKUs x 30 locations, a stock count each, 28 days of
sales, PO history and ~1 open PO per 3 SKU-locations) and a DemandForecast made directly from arrays
(negative-binomial daily means resampled from replay_dev's demand levels; no model fitting, as the
target says "forecasts given"). It times lead-time estimation and ``assess_risk`` separately.
Part 2 times the replay_dev backtest (140 series x 52 weekly checkpoints) end to end.
Targets: assessment < 60 s; backtest < 5 minutes (this 2-core machine, shared, so timings are under load).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RulesConfig
from stockwarden.domain.demand import DemandForecast
from stockwarden.forecast.leadtime import estimate_lead_times
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.risk.assess import assess_risk

ROOT = Path(__file__).resolve().parents[1]
REPLAY = ROOT.parent / "shared" / "data" / "replay_dev"
OUT = ROOT / "benchmarks" / "out"
AS_OF = pd.Timestamp("2024-06-30")


def _typed(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    base = empty_frame(table)
    for c in base.columns:
        if c not in frame.columns:
            frame[c] = pd.Series(np.nan, index=frame.index, dtype=base[c].dtype)
    return frame.loc[:, list(base.columns)]


def synthetic_company(n_series: int, seed: int = 0) -> tuple[Dataset, DemandForecast]:
    """A company with ``n_series`` SKU-locations and its forecast (see module docstring)."""
    rng = np.random.default_rng(seed)
    n_loc = 30
    n_sku = int(np.ceil(n_series / n_loc))
    skus = np.array([f"SKU-{i:05d}" for i in range(n_sku)], dtype=object)
    locs = np.array([f"LOC-{j:02d}" for j in range(n_loc)], dtype=object)
    sku_of = np.repeat(skus, n_loc)[:n_series]
    loc_of = np.tile(locs, n_sku)[:n_series]
    rate = rng.gamma(0.6, 3.0, n_series)
    suppliers = np.array(["SUP-A", "SUP-B", "SUP-C", "SUP-D"], dtype=object)
    sup_of_sku = suppliers[rng.integers(0, 4, n_sku)]
    lt_of_sku = rng.choice([3.0, 5.0, 7.0, 10.0, 14.0], n_sku)
    items = pd.DataFrame(
        {
            "sku": skus,
            "category": "CAT-" + pd.Series(rng.integers(0, 8, n_sku)).astype(str),
            "supplier_id": sup_of_sku,
            "lead_time_days": lt_of_sku,
            "pack_size": 6.0,
            "moq": 0.0,
            "unit_cost": 2.0,
        }
    )
    days = pd.date_range(AS_OF - pd.Timedelta(days=27), AS_OF)
    qty = rng.poisson(rate[:, None], (n_series, len(days)))
    i, t = np.nonzero(qty)
    sales = pd.DataFrame({"date": days[t], "sku": sku_of[i], "location_id": loc_of[i], "qty": qty[i, t].astype(float)})
    inv = pd.DataFrame(
        {
            "date": AS_OF,
            "sku": sku_of,
            "location_id": loc_of,
            "on_hand": rng.poisson(rate * rng.uniform(2, 30, n_series)).astype(float),
        }
    )
    sku_idx = np.repeat(np.arange(n_sku), n_loc)[:n_series]
    hist = rng.integers(0, n_series, 20_000)
    order = AS_OF - pd.to_timedelta(rng.integers(30, 360, len(hist)), unit="D")
    lead = lt_of_sku[sku_idx[hist]] + rng.integers(-1, 4, len(hist))
    received = order + pd.to_timedelta(lead, unit="D")
    po_hist = pd.DataFrame(
        {
            "po_id": [f"H{k}" for k in range(len(hist))],
            "line_no": 1.0,
            "sku": sku_of[hist],
            "location_id": loc_of[hist],
            "supplier_id": sup_of_sku[sku_idx[hist]],
            "qty": 60.0,
            "order_date": order,
            "promised_date": order + pd.to_timedelta(lt_of_sku[sku_idx[hist]], unit="D"),
            "received_date": received,
            "received_qty": 60.0,
            "status": "received",
        }
    )
    op = rng.choice(n_series, n_series // 3, replace=False)
    o_order = AS_OF - pd.to_timedelta(rng.integers(0, 14, len(op)), unit="D")
    po_open = pd.DataFrame(
        {
            "po_id": [f"O{k}" for k in range(len(op))],
            "line_no": 1.0,
            "sku": sku_of[op],
            "location_id": loc_of[op],
            "supplier_id": sup_of_sku[sku_idx[op]],
            "qty": np.ceil(rate[op] * 14 + 6),
            "order_date": o_order,
            "promised_date": o_order + pd.to_timedelta(lt_of_sku[sku_idx[op]], unit="D"),
            "received_date": pd.NaT,
            "received_qty": np.nan,
            "status": "open",
        }
    )
    ds = Dataset(
        items=_typed("items", items),
        locations=_typed("locations", pd.DataFrame({"location_id": locs})),
        suppliers=_typed("suppliers", pd.DataFrame({"supplier_id": suppliers, "lead_time_days": 7.0})),
        sales=_typed("sales", sales),
        inventory=_typed("inventory", inv),
        purchase_orders=_typed("purchase_orders", pd.concat([po_hist, po_open], ignore_index=True)),
    )
    horizon = 21
    dates = pd.date_range(AS_OF + pd.Timedelta(days=1), periods=horizon)
    mean = rate[:, None] * (1 + 0.2 * np.sin(np.arange(horizon) / 7 * 2 * np.pi))[None, :]
    series = pd.DataFrame(
        {"sku": sku_of, "location_id": loc_of, "abc": rng.choice(["A", "B", "C"], n_series), "demand_class": "smooth"}
    )
    fc = DemandForecast(
        daily=pd.DataFrame(),
        series=series,
        dates=dates,
        mean=mean,
        size=np.full(n_series, 3.0),
        level_shape=np.full(n_series, 20.0),
        as_of=AS_OF,
    )
    return ds, fc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=30_000)
    ap.add_argument("--skip-backtest", action="store_true")
    ap.add_argument("--skip-assess", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT / "assess_speed.json")
    args = ap.parse_args()
    rules = RulesConfig(risk=RiskRules())
    res: dict[str, object] = {}
    if not args.skip_assess:
        ds, fc = synthetic_company(args.series)
        t0 = time.perf_counter()
        lt = estimate_lead_times(ds, as_of=AS_OF, rules=rules)
        t1 = time.perf_counter()
        a = assess_risk(ds, as_of=AS_OF, forecast=fc, lead_times=lt, rules=rules)
        t2 = time.perf_counter()
        res.update(
            {
                "series": args.series,
                "n_paths": rules.risk.n_paths,
                "forecast_days": len(fc.dates),
                "lead_time_seconds": round(t1 - t0, 2),
                "assess_seconds": round(t2 - t1, 2),
                "assess_series_per_second": round(args.series / (t2 - t1), 1),
                "levels": a["level"].value_counts().to_dict(),
                "assess_target_met": (t2 - t1) < 60,
            }
        )
        print(
            f"assess {args.series} SKU-locations ({rules.risk.n_paths} paths x {len(fc.dates)} days): "
            f"{t2 - t1:.1f} s (+ lead times {t1 - t0:.1f} s); levels {res['levels']}"
        )
    if not args.skip_backtest and REPLAY.is_dir():
        from stockwarden.cli.risk import DEFAULT_WARMUP_DAYS, run_backtest_on
        from stockwarden.ingest.dataset import load_dataset

        # the CLI defaults (`stockwarden backtest` without options): stats forecasts at every checkpoint,
        # the learned classifier where it wins ("auto"), half a year of warm-up checkpoints
        t3 = time.perf_counter()
        rds = load_dataset(REPLAY)
        bt = run_backtest_on(
            rds,
            start=pd.Timestamp("2015-04-03"),
            end=pd.Timestamp("2016-03-25"),
            every_days=7,
            rules=RulesConfig(),
            warmup_days=DEFAULT_WARMUP_DAYS,
        )
        t4 = time.perf_counter()
        res.update(
            {
                "backtest_defaults": {"learned_model": "auto", "warmup_days": DEFAULT_WARMUP_DAYS, "mode": "stats"},
                "backtest_seconds": round(t4 - t3, 1),
                "backtest_rows": len(bt),
                "backtest_checkpoints": int(bt["as_of"].nunique()),
                "backtest_target_met": (t4 - t3) < 300,
            }
        )
        print(f"backtest replay_dev: {len(bt)} rows, {bt['as_of'].nunique()} checkpoints in {t4 - t3:.0f} s")
        cols = ["as_of", "sku", "location_id", "level", "stockout_probability", "expected_stockout_date"]
        bt.loc[:, cols].to_csv(OUT / "assess_speed_backtest_warnings.csv", index=False, date_format="%Y-%m-%d")
    OUT.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
