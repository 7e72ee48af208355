"""Anomaly detection benchmark (issue 5).

(a) Lead-time drift on ``replay_dev``: the detector runs as of every month end; per supplier, when it
    first fired and any false alarm. The truth (which suppliers drift and from when) is found from the
    data itself by an offline, full-hindsight single change-point fit per supplier (never used by the
    detector). Plus a held-out style check: synthetic suppliers resampled from the stationary ones'
    own delays, with and without an injected shift.
(b) USAID SCMS shipments: vendors whose delivery slippage (delivered - scheduled) changed, and when;
    PNG of the delay series with the detected change points.
(c) Phantom stock: phantom records injected into a copy of ``replay_dev`` (in a temp dir); precision
    and recall of ``phantom_stock``.
(d) Lead-time model: each month end, the model estimated then predicts the lead time of the POs
    ordered in the next month; coverage of its p50 / p90 and mean log score: the default
    (recency-weighted, older deliveries moved into the current regime after a change point in the
    supplier's delays) against the same without change points and against all history weighted
    equally, with and without change points.

Run: ``.venv/bin/python benchmarks/anomaly_detection.py`` (writes benchmarks/out/anomaly_detection.json
and benchmarks/out/scms_delay_changes.png). Timings are on a shared 2-core machine.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.anomaly import detect_anomalies, detect_shifts
from stockwarden.anomaly.supply import delivery_batches
from stockwarden.config import AnomalyRules, LeadTimeRules
from stockwarden.forecast.leadtime import estimate_lead_times, received_po_history
from stockwarden.ingest.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out"
TARGET_DELIVERIES = 8


# ----------------------------------------------------------------------------- (a) replay_dev drift
def offline_truth(delays: np.ndarray, dates: pd.Series, *, min_shift_days: float = 1.5) -> dict[str, object]:
    """Full-hindsight single change point (max two-sample t over split points) of one delay series."""
    n = len(delays)
    c = np.cumsum(delays)
    k = np.arange(20, n - 20)
    m1 = c[k - 1] / k
    m2 = (c[-1] - c[k - 1]) / (n - k)
    sd = delays.std() or 1.0
    t = (m2 - m1) / (sd * np.sqrt(1 / k + 1 / (n - k)))
    i = int(np.argmax(t))
    shift = float(m2[i] - m1[i])
    drifting = bool(t[i] > 10 and shift >= min_shift_days)
    return {
        "drifting": drifting,
        "t_stat": round(float(t[i]), 1),
        "shift_days": round(shift, 2),
        "start_index": int(k[i]) if drifting else None,
        "start_date": str(dates.iloc[int(k[i])].date()) if drifting else None,
    }


def bench_replay_drift() -> dict[str, object]:
    ds = load_dataset(DATA / "replay_dev")
    full = received_po_history(ds, as_of=ds.purchase_orders["received_date"].max())
    truth: dict[str, dict[str, object]] = {}
    streams: dict[str, pd.DataFrame] = {}
    for sup, g in full.groupby("supplier_id"):
        g = g.reset_index(drop=True)
        streams[sup] = g
        truth[sup] = offline_truth(g["delay_days"].to_numpy(float), g["received_date"])
    first = full["received_date"].min() + pd.offsets.MonthEnd(0)
    month_ends = pd.date_range(first, ds.last_date, freq="ME")
    batches = delivery_batches(full)
    fired: dict[str, list[str]] = {s: [] for s in streams}
    alarm_on: dict[str, str] = {}
    t0 = time.perf_counter()
    for d in month_ends:
        found = detect_anomalies(ds, as_of=d, kinds=frozenset({"lead_time_drift"}))
        for row in found.itertuples(index=False):
            fired[row.supplier_id].append(str(d.date()))
            alarm_on.setdefault(row.supplier_id, str(pd.Timestamp(row.detected_on).date()))
    seconds = time.perf_counter() - t0
    rows = []
    for sup, g in streams.items():
        tr = truth[sup]
        first_me = fired[sup][0] if fired[sup] else None
        row = {
            "supplier_id": sup,
            "drifting": tr["drifting"],
            "shift_start": tr["start_date"],
            "shift_days": tr["shift_days"],
            "first_fired_month_end": first_me,
            "alarm_delivery_date": alarm_on.get(sup),
            "months_flagged": len(fired[sup]),
        }
        if tr["drifting"]:
            if first_me:
                # A delivery is what came on one truck (supplier, order date, receipt date), as the detector
                # sees it; PO lines are counted too.
                b = batches.loc[batches["supplier_id"] == sup, "received_date"]
                start_on, alarm_day = pd.Timestamp(tr["start_date"]), pd.Timestamp(alarm_on[sup])
                row["deliveries_to_alarm"] = int(((b >= start_on) & (b <= alarm_day)).sum())
                got = g["received_date"]
                row["lines_to_alarm"] = int(((got >= start_on) & (got <= alarm_day)).sum())
                row["deliveries_to_month_end_report"] = int(((b >= start_on) & (b <= pd.Timestamp(first_me))).sum())
                row["detected_in_time"] = row["deliveries_to_alarm"] <= TARGET_DELIVERIES
            else:
                row["detected_in_time"] = False
            row["false_alarm_months"] = [m for m in fired[sup] if m < tr["start_date"]]
        else:
            row["false_alarm_months"] = fired[sup]
        rows.append(row)
    table = pd.DataFrame(rows)
    print(
        "\n(a) replay_dev lead-time drift, detector run as of each month end "
        f"({len(month_ends)} month ends, {seconds:.1f} s)"
    )
    print(table.drop(columns=["false_alarm_months"]).to_string(index=False))
    drifting = table.loc[table["drifting"]]
    n_false = int(sum(len(x) for x in table["false_alarm_months"]))
    ok = bool(drifting["detected_in_time"].all()) and n_false == 0 and len(drifting) > 0
    print(
        f"target (every drifting supplier within {TARGET_DELIVERIES} deliveries, no false alarm): "
        f"{'MET' if ok else 'NOT MET'}; false-alarm month-ends: {n_false}"
    )
    return {
        "month_ends": len(month_ends),
        "seconds": round(seconds, 2),
        "suppliers": rows,
        "false_alarm_month_ends": n_false,
        "target_met": ok,
        "truth": truth,
        "held_out_simulation": simulate_held_out(streams, truth),
    }


def simulate_held_out(
    streams: dict[str, pd.DataFrame], truth: dict[str, dict[str, object]], *, reps: int = 40, seed: int = 0
) -> dict[str, object]:
    """Synthetic suppliers resampled from each supplier's own in-control deliveries (batch delays): false
    alarms without a shift, and detection delay of an injected +2/+3/+4-day shift."""
    rng = np.random.default_rng(seed)
    rules = AnomalyRules()
    pools = {}
    batches = delivery_batches(pd.concat(streams.values(), ignore_index=True))
    for sup, g in batches.groupby("supplier_id"):
        start = truth[sup]["start_date"]
        pools[sup] = (
            g.loc[g["received_date"] < pd.Timestamp(start), "delay_days"].to_numpy(float)
            if start
            else g["delay_days"].to_numpy(float)
        )
    n_pre, n_post = 400, 60
    false_alarms, stationary_deliveries = 0, 0
    delays: dict[int, list[int]] = {2: [], 3: [], 4: []}
    missed: dict[int, int] = {2: 0, 3: 0, 4: 0}
    for pool in pools.values():
        for _ in range(reps):
            base = rng.choice(pool, size=n_pre + n_post)
            false_alarms += len(detect_shifts(base, rules=rules))
            stationary_deliveries += len(base)
            for shift in delays:
                x = base.copy()
                x[n_pre:] += shift
                det = [d for d in detect_shifts(x, rules=rules) if d.alarm_index >= n_pre and d.tested_shift_days > 0]
                if det:
                    delays[shift].append(det[0].alarm_index - n_pre + 1)
                else:
                    missed[shift] += 1
    out = {
        "streams": len(pools) * reps,
        "false_alarms_per_1000_deliveries": round(1000 * false_alarms / stationary_deliveries, 4),
        "false_alarms": false_alarms,
        "stationary_deliveries": stationary_deliveries,
        "injected": {
            f"+{s}d": {
                "median_deliveries_to_alarm": float(np.median(v)) if v else None,
                "p90_deliveries_to_alarm": float(np.percentile(v, 90)) if v else None,
                "share_within_8": round(
                    float(np.mean(np.array(v) <= TARGET_DELIVERIES)) * len(v) / (len(v) + missed[s]), 3
                ),
                "missed_within_60": missed[s],
            }
            for s, v in delays.items()
        },
    }
    print("held-out style simulation (suppliers resampled from their own in-control delays):")
    print(f"  false alarms: {false_alarms} in {stationary_deliveries} stationary deliveries")
    for k, v in out["injected"].items():
        print(
            f"  shift {k}: median {v['median_deliveries_to_alarm']} / p90 {v['p90_deliveries_to_alarm']} "
            f"deliveries to alarm; within 8: {v['share_within_8']:.0%}; missed: {v['missed_within_60']}"
        )
    return out


# ----------------------------------------------------------------------------- (b) SCMS
def bench_scms() -> dict[str, object]:
    path = DATA / "scms_delivery" / "SCMS_Delivery_History_Dataset.csv.gz"
    df = pd.read_csv(path)
    df["scheduled"] = pd.to_datetime(df["Scheduled Delivery Date"], format="%d-%b-%y")
    df["delivered"] = pd.to_datetime(df["Delivered to Client Date"], format="%d-%b-%y")
    # One delivery per shipment (ASN/DN), not per line item: lines of one shipment share their dates.
    ship = df.drop_duplicates(["Vendor", "ASN/DN #"]).copy()
    ship["delay_days"] = (ship["delivered"] - ship["scheduled"]).dt.days
    ship = ship.sort_values(["Vendor", "delivered", "ASN/DN #"], kind="stable")
    # Shipments delivered the same day by one vendor share their fate (batched, same slippage): they are
    # not independent deliveries. The main view is one value per vendor and delivery day (median delay);
    # the per-shipment view is kept for comparison.
    per_day = ship.groupby(["Vendor", "delivered"], as_index=False)["delay_days"].median()
    per_day["delay_days"] = per_day["delay_days"].round()
    by_day = _scms_changes(per_day, "vendor-days")
    by_ship = _scms_changes(ship, "shipments")
    png = OUT / "scms_delay_changes.png"
    _plot_scms(by_day.pop("plotted"), png)
    by_ship.pop("plotted")
    zero_share = float((ship["delay_days"] == 0).mean())
    return {
        "shipments": len(ship),
        "vendors": int(ship["Vendor"].nunique()),
        "per_vendor_day": by_day,
        "per_shipment": by_ship,
        "plot": str(png.relative_to(ROOT)),
        "share_exactly_on_schedule": round(zero_share, 3),
    }


def _scms_changes(ship: pd.DataFrame, unit: str) -> dict[str, object]:
    rules = AnomalyRules()
    rows, plotted = [], []
    for vendor, g in ship.groupby("Vendor"):
        if len(g) <= rules.drift_baseline_min_n + 10:
            continue
        x = g["delay_days"].to_numpy(float)
        dets = detect_shifts(x, rules=rules)
        for n, d in enumerate(dets):
            after = x[d.start_index : dets[n + 1].start_index if n + 1 < len(dets) else len(x)]
            rows.append(
                {
                    "vendor": vendor,
                    unit: len(g),
                    "start": str(g["delivered"].iloc[d.start_index].date()),
                    "alarm": str(g["delivered"].iloc[d.alarm_index].date()),
                    "deliveries_to_alarm": d.alarm_index - d.start_index + 1,
                    "baseline_median": d.baseline_median,
                    "baseline_mean": round(d.baseline_mean, 1),
                    "after_median": float(np.median(after)),
                    "after_mean": round(float(after.mean()), 1),
                    "direction": "later" if d.tested_shift_days > 0 else "earlier",
                }
            )
        if dets or len(g) >= 150:
            plotted.append((vendor, g, dets))
    table = pd.DataFrame(rows)
    eligible = int((ship.groupby("Vendor").size() > rules.drift_baseline_min_n + 10).sum())
    n_changed = table["vendor"].nunique() if len(table) else 0
    print(
        f"\n(b) SCMS per {unit}: {len(ship)} {unit}, {ship['Vendor'].nunique()} vendors, {eligible} with enough "
        f"history; {n_changed} vendors with a detected change, {len(table)} changes"
    )
    if len(table):
        counts = table.groupby("vendor").size()
        print(table.loc[table["vendor"].map(counts) <= 6].to_string(index=False))
        for vendor, k in counts[counts > 6].items():
            print(f"  {vendor}: {k} changes (listed in the JSON)")
    return {
        "units": len(ship),
        "vendors_eligible": eligible,
        "vendors_changed": int(n_changed),
        "changes": rows,
        "plotted": plotted,
    }


def _plot_scms(plotted: list[tuple[str, pd.DataFrame, list]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plotted = sorted(plotted, key=lambda t: -len(t[1]))[:8]
    fig, axes = plt.subplots(len(plotted), 1, figsize=(11, 2.4 * len(plotted)), squeeze=False)
    for ax, (vendor, g, dets) in zip(axes[:, 0], plotted, strict=True):
        ax.scatter(g["delivered"], g["delay_days"].clip(-60, 120), s=4, alpha=0.5)
        roll = g.set_index("delivered")["delay_days"].rolling(25, min_periods=5).median()
        ax.plot(roll.index, roll.to_numpy(), color="black", lw=1, label="rolling median (25)")
        for d in dets:
            ax.axvline(g["delivered"].iloc[d.start_index], color="orange", ls="--", lw=1)
            ax.axvline(g["delivered"].iloc[d.alarm_index], color="red", lw=1)
        ax.set_title(
            f"{vendor[:60]} ({len(g)} delivery days, median delay per day; orange = change start, red = alarm)",
            fontsize=9,
        )
        ax.set_ylabel("days late")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)
    plt.close(fig)


# ----------------------------------------------------------------------------- (c) phantom stock
def bench_phantom(*, n_inject: int = 20, seed: int = 0, rules: AnomalyRules | None = None) -> dict[str, object]:
    src = DATA / "replay_dev"
    rng = np.random.default_rng(seed)
    as_ofs = [pd.Timestamp(d) for d in ("2015-06-30", "2015-09-30", "2015-12-31", "2016-03-31")]
    lengths = [14, 21, 28, 42]
    kinds = frozenset({"phantom_stock"})
    clean = load_dataset(src)
    results = []
    with tempfile.TemporaryDirectory(prefix="sw_phantom_") as tmp:
        for as_of in as_ofs:
            base = detect_anomalies(clean, as_of=as_of, kinds=kinds, rules=rules)
            pre = set(zip(base["sku"], base["location_id"], strict=True))
            inv = clean.inventory
            at = inv.loc[inv["date"] == as_of - pd.Timedelta(days=max(lengths))]
            cand = at.loc[at["on_hand"] > 0, ["sku", "location_id"]]
            cand = cand.loc[[(s, loc) not in pre for s, loc in cand.itertuples(index=False)]]
            pick = cand.sample(n=min(n_inject, len(cand)), random_state=int(rng.integers(1 << 31)))
            inj = {(s, loc): lengths[i % len(lengths)] for i, (s, loc) in enumerate(pick.itertuples(index=False))}
            folder = Path(tmp) / f"copy_{as_of.date()}"
            _write_phantom_copy(src, folder, inj, as_of)
            found = detect_anomalies(load_dataset(folder), as_of=as_of, kinds=kinds, rules=rules)
            got = set(zip(found["sku"], found["location_id"], strict=True))
            tp = len(got & set(inj))
            fp_all = len(got - set(inj))
            fp_new = len(got - set(inj) - pre)
            by_len = {n: sum(1 for k, v in inj.items() if v == n and k in got) for n in lengths}
            results.append(
                {
                    "as_of": str(as_of.date()),
                    "injected": len(inj),
                    "flagged": len(got),
                    "true_pos": tp,
                    "false_pos": fp_all,
                    "false_pos_not_in_clean_run": fp_new,
                    "flagged_in_clean_run": len(pre),
                    "recall_by_days": {
                        f"{n}d": f"{by_len[n]}/{sum(1 for v in inj.values() if v == n)}" for n in lengths
                    },
                }
            )
            shutil.rmtree(folder, ignore_errors=True)
    tp = sum(r["true_pos"] for r in results)
    inj_n = sum(r["injected"] for r in results)
    flagged = sum(r["flagged"] for r in results)
    fp_new = sum(r["false_pos_not_in_clean_run"] for r in results)
    out = {
        "runs": results,
        "recall": round(tp / inj_n, 3),
        "precision": round(tp / flagged, 3) if flagged else None,
        "precision_excluding_already_flagged_in_clean_data": round(tp / (tp + fp_new), 3) if tp + fp_new else None,
    }
    print("\n(c) phantom stock injected into a copy of replay_dev")
    print(pd.DataFrame(results).to_string(index=False))
    print(
        f"recall {out['recall']}, precision {out['precision']} (all flags), "
        f"{out['precision_excluding_already_flagged_in_clean_data']} (excluding series already flagged "
        "in the untouched data)"
    )
    return out


def _write_phantom_copy(src: Path, folder: Path, inj: dict[tuple[str, str], int], as_of: pd.Timestamp) -> None:
    """Copy the dataset; for each injected series the shelf is empty from ``as_of - days``: no more
    sales, while the stock record keeps showing the last count (phantom stock)."""
    shutil.copytree(src, folder)
    sales = pd.read_csv(folder / "sales.csv.gz", parse_dates=["date"])
    inv = pd.read_csv(folder / "inventory.csv.gz", parse_dates=["date"])
    for (sku, loc), days in inj.items():
        t0 = as_of - pd.Timedelta(days=days)
        s_mask = (sales["sku"] == sku) & (sales["location_id"] == loc) & (sales["date"] > t0)
        sales = sales.loc[~s_mask]
        i_mask = (inv["sku"] == sku) & (inv["location_id"] == loc)
        shown = inv.loc[i_mask & (inv["date"] == t0), "on_hand"]
        if len(shown):
            inv.loc[i_mask & (inv["date"] > t0), "on_hand"] = float(shown.iloc[0])
    sales.to_csv(folder / "sales.csv.gz", index=False, date_format="%Y-%m-%d")
    inv.to_csv(folder / "inventory.csv.gz", index=False, date_format="%Y-%m-%d")


# ----------------------------------------------------------------------------- (d) lead-time model
def bench_leadtime_model() -> dict[str, object]:
    ds = load_dataset(DATA / "replay_dev")
    po = ds.purchase_orders.loc[ds.purchase_orders["received_date"].notna()]
    variants = {
        "recency_weighted": LeadTimeRules(),  # the default: recency weights + change points
        "recency_weighted_no_change_points": LeadTimeRules(adapt_to_shifts=False),
        "all_history_equal": LeadTimeRules(half_life_days=1e9, adapt_to_shifts=False),
        "all_history_equal_with_change_points": LeadTimeRules(half_life_days=1e9),
    }
    scores: dict[str, dict[str, list[float]]] = {k: {"p50": [], "p90": [], "log": []} for k in variants}
    for as_of in pd.date_range("2013-01-31", "2016-02-29", freq="ME"):
        nxt = po.loc[(po["order_date"] > as_of) & (po["order_date"] <= as_of + pd.offsets.MonthEnd(1))]
        lead = ((nxt["received_date"] - nxt["order_date"]).dt.days).to_numpy()
        for name, rules in variants.items():
            model = estimate_lead_times(ds, as_of=as_of, rules=rules)
            pmf, _ = model.lead_time_pmfs(nxt[["supplier_id", "sku"]])
            cdf = np.cumsum(pmf, axis=1)
            rows = np.arange(len(nxt))
            k = np.minimum(lead, pmf.shape[1] - 1)
            # Randomised PIT is not needed for coverage: count actual <= predicted quantile.
            q50 = (cdf >= 0.5).argmax(axis=1)
            q90 = (cdf >= 0.9).argmax(axis=1)
            scores[name]["p50"] += list(lead <= q50)
            scores[name]["p90"] += list(lead <= q90)
            scores[name]["log"] += list(np.log(np.maximum(pmf[rows, k], 1e-6)))
    out = {
        name: {
            "pos": len(v["p50"]),
            "share_under_p50": round(float(np.mean(v["p50"])), 3),
            "share_under_p90": round(float(np.mean(v["p90"])), 3),
            "mean_log_score": round(float(np.mean(v["log"])), 3),
        }
        for name, v in scores.items()
    }
    print("\n(d) lead-time model, next month's POs predicted at each month end 2013-01 .. 2016-02")
    print(pd.DataFrame(out).T.to_string())
    return out


def main() -> int:
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "replay_dev_drift": bench_replay_drift(),
        "scms": bench_scms(),
        "phantom_stock": bench_phantom(),
        "leadtime_model": bench_leadtime_model(),
    }
    path = OUT / "anomaly_detection.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nwritten {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
