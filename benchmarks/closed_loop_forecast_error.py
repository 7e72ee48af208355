"""Forecast error over each SKU-location's lead time + review, per forecast mode, on replay_dev's true demand.

Usage: python benchmarks/closed_loop_forecast_error.py [--modes stats,fast,auto] [--out FILE.json]

At ten origins five weeks apart (2015-04-06 .. 2016-02-15), from the real history known at each (what the
company had), each mode's forecast of the demand over each SKU-location's own ``L + R`` days (stated lead time +
review period, as the closed loop's protection interval) against the true demand of those days, beside
``textbook``'s 28-day and a 91-day mean of sales and the oracle's true mean of the next 91 days. Prints WAPE,
bias, RMSE, WAPE per demand-rate quarter and the per-series (persistent) error: forecast minus actual summed
over the origins. CPU seconds per mode.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import closed_loop as cl


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    from stockwarden.ingest.dataset import load_dataset
    from stockwarden.risk.daily import forecast_for
    from stockwarden.simulate.demand import read_demand_file
    from stockwarden.simulate.oracle import oracle_daily_mean
    from stockwarden.simulate.world import build_world

    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="stats,fast,auto")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    loaded = load_dataset(cl.DATA)
    ds = loaded[0] if isinstance(loaded, tuple) else loaded
    rules = cl.rules_for_simulation()
    w = build_world(
        ds,
        start=cl.START,
        end=cl.END,
        demand=read_demand_file(cl.DATA / "true_demand.csv.gz"),
        review_period_days={"*": int(rules.risk.review_period_days), **rules.risk.review_period_days_by_category},
        default_lead_time_days=rules.forecast.default_lead_time_days,
        history_days=730,
        seed=0,
        review_anchor=rules.orders.review_anchor_date,
    )
    lr = np.ceil(w.stated_lead_time_days + w.review_period_days).astype(int)
    keys = w.keys[["sku", "location_id"]]
    origins = pd.date_range("2015-04-06", "2016-02-29", freq="5W-MON")
    names = [*modes, "sales_mean_28d", "sales_mean_91d", "oracle_next_91d"]
    fcs: dict[str, list[np.ndarray]] = {m: [] for m in names}
    cpu = dict.fromkeys(names, 0.0)
    actual = []
    for o in origins:
        t = int((o - cl.START).days)
        actual.append(np.array([w.demand[i, t + 1 : t + 1 + lr[i]].sum() for i in range(w.n_series)]))
        sub = ds.as_of(o)
        for m in modes:
            c0 = _cpu()
            fc = forecast_for(sub, as_of=o, rules=cl.rules_for_simulation(m))
            cpu[m] += _cpu() - c0
            pos = pd.Series(
                np.arange(len(fc.series)), index=pd.MultiIndex.from_frame(fc.series[["sku", "location_id"]])
            )
            f = np.zeros(w.n_series)
            for i, k in enumerate(keys.itertuples(index=False)):
                j = pos.get((k.sku, k.location_id))
                if j is not None:
                    f[i] = fc.mean[int(j), : lr[i]].sum()
            fcs[m].append(f)
        sales = sub.sales.assign(date=pd.to_datetime(sub.sales["date"]))
        for days in (28, 91):
            recent = sales[(sales["date"] > o - pd.Timedelta(days=days)) & (sales["date"] <= o)]
            x = recent.groupby(["sku", "location_id"])["qty"].sum().rename("m").reset_index()
            m_d = keys.merge(x, how="left", on=["sku", "location_id"])["m"].fillna(0).to_numpy() / days
            fcs[f"sales_mean_{days}d"].append(m_d * lr)
        fcs["oracle_next_91d"].append(oracle_daily_mean(w.demand, day=t, window_days=np.full(w.n_series, 91)) * lr)
        print(f"{o.date()} done", flush=True)
    a = np.stack(actual)
    rate = w.demand.mean(axis=1)
    quarter = pd.qcut(pd.Series(rate).rank(method="first"), 4, labels=False).to_numpy()
    result = {"origins": [str(o.date()) for o in origins], "lr_days": [int(lr.min()), int(lr.max())], "rows": []}
    print(f"{len(origins)} origins; L + R {lr.min()}..{lr.max()} days")
    for m in names:
        f = np.stack(fcs[m])
        row = {
            "forecast": m,
            "wape": float(np.abs(f - a).sum() / a.sum()),
            "bias": float((f.sum() - a.sum()) / a.sum()),
            "rmse": float(np.sqrt(((f - a) ** 2).mean())),
            "per_series_wape": float(np.abs(f.sum(axis=0) - a.sum(axis=0)).sum() / a.sum()),
            "wape_by_quarter": [
                float(np.abs(f[:, quarter == q] - a[:, quarter == q]).sum() / a[:, quarter == q].sum())
                for q in range(4)
            ],
            "cpu_seconds": cpu[m],
        }
        result["rows"].append(row)  # type: ignore[attr-defined]
        qs = " ".join(f"Q{q + 1} {v:.3f}" for q, v in enumerate(row["wape_by_quarter"]))  # type: ignore[arg-type]
        print(
            f"{m:<16} WAPE {row['wape']:.3f} bias {row['bias']:+.3f} RMSE {row['rmse']:.2f} "
            f"per series {row['per_series_wape']:.3f}  by quarter {qs}  CPU {row['cpu_seconds']:.0f} s"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
        print(f"written {args.out}")


if __name__ == "__main__":
    main()
