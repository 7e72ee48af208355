"""Where a ``stockwarden`` variant gains or loses against ``textbook``, per demand-rate quarter (issue 14).

Usage: python benchmarks/closed_loop_quarters.py DIR [DIR ...] [--knob 0.92] [--out FILE.json]

Reads ``DIR/per_sku.csv`` of ``benchmarks/closed_loop.py --part simulate`` outputs. For each ``stockwarden*``
policy in a folder, at its service level ``--knob``: ``textbook`` at the same total average inventory value
(per SKU-location, linear between the two swept ``textbook`` levels whose totals bracket the variant's), then
per quarter of SKU-locations by mean daily true demand over the simulated period (the same quarters for every
policy): inventory value, stockout days and lost sales value of each, and the stockout-day reduction.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ["sku", "location_id"]
MEASURES = ["avg_inventory_value", "stockout_days", "lost_sales_value", "demand_units"]


def textbook_at_inventory(per: pd.DataFrame, inventory: float) -> tuple[pd.DataFrame, str]:
    """``textbook``'s per-SKU rows at total inventory ``inventory`` (interpolated between swept levels) and a label."""
    tb = per.loc[per["policy"] == "textbook"]
    totals = tb.groupby("knob")["avg_inventory_value"].sum().sort_values()
    k_hi = totals.index[np.searchsorted(totals.to_numpy(), inventory).clip(1, len(totals) - 1)]
    k_lo = totals.index[list(totals.index).index(k_hi) - 1]
    lo, hi = totals[k_lo], totals[k_hi]
    w = float(np.clip((inventory - lo) / (hi - lo), 0.0, 1.0)) if hi > lo else 0.0
    a = tb.loc[tb["knob"] == k_lo].set_index(KEYS)[MEASURES]
    b = tb.loc[tb["knob"] == k_hi].set_index(KEYS)[MEASURES]
    out = a * (1 - w) + b.reindex(a.index) * w
    return out.reset_index(), f"textbook {k_lo:g}..{k_hi:g} (w {w:.2f})"


def quarters(per: pd.DataFrame, policy: str, knob: float, days: int) -> dict[str, object]:
    """Per demand-rate quarter: the variant at ``knob`` against ``textbook`` at equal total inventory."""
    ours = per.loc[(per["policy"] == policy) & np.isclose(per["knob"].astype(float), knob)].set_index(KEYS)[MEASURES]
    if ours.empty:
        raise SystemExit(f"no rows of {policy} at {knob} in per_sku.csv")
    tb, label = textbook_at_inventory(per, float(ours["avg_inventory_value"].sum()))
    tb = tb.set_index(KEYS).reindex(ours.index)
    rate = ours["demand_units"] / days
    q = pd.qcut(rate.rank(method="first"), 4, labels=["Q1 slowest", "Q2", "Q3", "Q4 fastest"])
    rows = []
    for name in q.cat.categories:
        m = q == name
        o, t = ours.loc[m], tb.loc[m]
        rows.append(
            {
                "quarter": str(name),
                "rate_from": float(rate[m].min()),
                "rate_to": float(rate[m].max()),
                "inventory": float(o["avg_inventory_value"].sum()),
                "textbook_inventory": float(t["avg_inventory_value"].sum()),
                "stockout_days": float(o["stockout_days"].sum()),
                "textbook_stockout_days": float(t["stockout_days"].sum()),
                "lost_sales_value": float(o["lost_sales_value"].sum()),
                "textbook_lost_sales_value": float(t["lost_sales_value"].sum()),
            }
        )
    for r in rows:
        tsd = float(r["textbook_stockout_days"])  # type: ignore[arg-type]
        r["stockout_reduction"] = 1 - float(r["stockout_days"]) / tsd if tsd else None  # type: ignore[arg-type]
    return {"policy": policy, "knob": knob, "textbook": label, "quarters": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--knob", type=float, default=0.92)
    ap.add_argument("--days", type=int, default=366, help="simulated days (2015-04-01..2016-03-31: 366)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    results = []
    for d in args.dirs:
        per = pd.read_csv(d / "per_sku.csv")
        for policy in sorted(p for p in per["policy"].unique() if str(p).startswith("stockwarden")):
            res = quarters(per, str(policy), args.knob, args.days)
            res["dir"] = str(d)
            results.append(res)
            print(f"\n{policy} at {args.knob} against {res['textbook']} ({d})")
            print(
                f"{'quarter':<11} {'units/day':>12} {'inventory':>17} {'stockout days':>15} {'reduction':>9} "
                f"{'lost sales value':>19}"
            )
            for r in res["quarters"]:  # type: ignore[attr-defined]
                red = "n/a" if r["stockout_reduction"] is None else f"{r['stockout_reduction']:+.1%}"
                print(
                    f"{r['quarter']:<11} {r['rate_from']:5.2f}-{r['rate_to']:6.2f} "
                    f"{r['inventory']:8,.0f}/{r['textbook_inventory']:8,.0f} "
                    f"{r['stockout_days']:7,.0f}/{r['textbook_stockout_days']:7,.0f} {red:>9} "
                    f"{r['lost_sales_value']:9,.0f}/{r['textbook_lost_sales_value']:9,.0f}"
                )
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2))
        print(f"written {args.out}")


if __name__ == "__main__":
    main()
