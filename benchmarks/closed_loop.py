"""Closed-loop benchmark on replay_dev (issue 14): every policy swept over its knob, and the early-warning rate.

Usage: python benchmarks/closed_loop.py [--part simulate|warnings|all] [--out benchmarks/out/closed_loop]

* ``simulate``: ``stockwarden simulate`` of replay_dev with its true demand, 2015-04-01..2016-03-31, every
  policy swept; prints the summary and the targets read along the curves by interpolation (against
  ``reorder_level``: >= 50% fewer stockout days at equal average inventory value and >= 40% higher
  turnover at equal fill rate; against ``textbook``: >= 15% fewer stockout days at equal inventory; the
  share of the textbook-hindsight gap closed). Wall and CPU seconds are printed (target: under 10
  minutes on 2 cores).
  ``--forecast-mode fast|auto`` runs the ``stockwarden`` policy with the product's stronger forecast modes
  (named ``stockwarden_fast`` / ``stockwarden_auto`` in every output; default ``stats``, the backtest's mode),
  ``--knobs 0.85,0.92,0.96`` on fewer service levels; ``--forecast-noise poisson|no_level`` keeps the model's
  mean with the oracle's uncertainty (Poisson day noise) or without the level uncertainty (a diagnosis).
* ``warnings``: the early-warning rate as the published figure means it: a daily backtest of the company
  as it was (2015-04-01..2016-03-31, the forecast refit weekly and rolled daily, the lead-time model daily),
  alerts = runs of days at warning or critical; the share of stockout episodes (days ending with nothing
  on hand) with an alert at least one day before they began (target > 90%) and at least a lead time
  before, and the share of alerts that were false alarms: no stockout within the protection interval
  had nothing new been ordered, with the true demand and the open POs arriving when they really did,
  as truth.csv counts it (target < 30%).

Writes ``<out>/`` (summary.csv, per_sku.csv, curves.png, curves.html, report.json) and
``<out>.json`` with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import pandas as pd

from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "replay_dev"
START, END = pd.Timestamp("2015-04-01"), pd.Timestamp("2016-03-31")
TARGETS = {"vs_reorder_stockouts": 0.50, "vs_reorder_turnover": 0.40, "vs_textbook_stockouts": 0.15}


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def rules_for_simulation(forecast_mode: str = "stats") -> RulesConfig:
    """The rules in force (defaults) with a forecast mode (default the backtest's: stats)."""
    r = RulesConfig()
    return r.model_copy(update={"run": r.run.model_copy(update={"forecast_mode": forecast_mode})})


FORECAST_MODES = ("stats", "fast", "auto")
"""Forecast modes the ``stockwarden`` policy can run with (``--forecast-mode``)."""


def mode_policy_name(mode: str) -> str:
    """The policy's name in the outputs: ``stockwarden`` with the default mode (stats), else ``stockwarden_<mode>``."""
    return "stockwarden" if mode == "stats" else f"stockwarden_{mode}"


ORACLE_SWEEP = (0.75, 0.85, 0.92, 0.96, 0.985, 0.995)
"""Service levels the oracle-forecast ``stockwarden`` is swept over (the product's sweep + 0.995)."""


def part_simulate(  # type: ignore[no-untyped-def]
    ds, out: Path, *, workers: int = 1, oracle: bool = False, rules: RulesConfig | None = None,
    oracle_windows: tuple[int | None, ...] = (None,), naive: bool = False, knobs: tuple[float, ...] | None = None,
    noise: str = "model",
) -> dict:  # fmt: skip
    from stockwarden.cli.simulate import simulate_dataset
    from stockwarden.simulate.demand import read_demand_file
    from stockwarden.simulate.policies import POLICY_NAMES

    demand = read_demand_file(DATA / "true_demand.csv.gz")
    rules = rules or rules_for_simulation()
    names = list(POLICY_NAMES)
    extra: tuple[object, ...] = ()
    mode = rules.run.forecast_mode
    ours = mode_policy_name(mode)
    if ours != "stockwarden" or knobs is not None or noise != "model":
        from stockwarden.cli.simulate import assess_for_simulation
        from stockwarden.simulate.oracle import NoiseStockwardenPolicy
        from stockwarden.simulate.policies import SWEEPS, StockwardenPolicy

        # the product's policy with the rules' forecast mode, named for it (stockwarden_fast, stockwarden_auto),
        # or (--forecast-noise) its forecast mean with another uncertainty (stockwarden[_mode]_poisson)
        names = [n for n in names if n != "stockwarden"]
        extra = tuple(
            StockwardenPolicy(assess=assess_for_simulation, rules=rules, knob=k, name=ours)
            if noise == "model"
            else NoiseStockwardenPolicy(assess=assess_for_simulation, rules=rules, knob=k, name=ours, noise=noise)
            for k in (knobs or SWEEPS["stockwarden"])
        )
        ours = extra[0].name  # type: ignore[attr-defined]
    if oracle or naive:
        from stockwarden.cli.simulate import assess_for_simulation
        from stockwarden.simulate.oracle import NaiveForecastStockwardenPolicy, OracleStockwardenPolicy

        # the model's stockwarden is left out: these replace its forecast, nothing else
        names = [n for n in names if n != "stockwarden"]
        if oracle:
            extra = tuple(
                OracleStockwardenPolicy(assess=assess_for_simulation, rules=rules, knob=k, oracle_days=w)
                for w in oracle_windows
                for k in ORACLE_SWEEP
            )
        if naive:
            extra += tuple(
                NaiveForecastStockwardenPolicy(assess=assess_for_simulation, rules=rules, knob=k) for k in ORACLE_SWEEP
            )
        ours = extra[0].name  # type: ignore[attr-defined]
    t0, c0 = time.perf_counter(), cpu_seconds()
    report = simulate_dataset(
        ds,
        start=START,
        end=END,
        out=out,
        demand=demand,
        policies=names,
        sweep=True,
        rules=rules,
        seed=0,
        workers=workers,
        extra_policies=extra,
    )
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    summary = pd.DataFrame(report["summary"])
    print(summary.to_string(index=False))
    from stockwarden.simulate.compare import compare_policies

    cmp = compare_policies(summary, ours=ours, knob=0.92)
    at_default = {}
    for knob in sorted(summary.loc[summary["policy"] == ours, "knob"].unique(), key=str):
        at_default[str(knob)] = compare_policies(summary, ours=ours, knob=knob)
    variants = {
        str(p): compare_policies(summary, ours=str(p), knob=0.92)
        for p in summary["policy"].unique()
        if str(p).startswith("stockwarden") and str(p) != ours
    }
    rows = [
        ("stockout days vs reorder_level, equal inventory", cmp["vs_reorder_level"]["stockout_reduction"], ">= 0.50"),
        ("turnover vs reorder_level, equal fill rate", cmp["vs_reorder_level"]["turnover_gain"], ">= 0.40"),
        ("stockout days vs textbook, equal inventory", cmp["vs_textbook"]["stockout_reduction"], ">= 0.15"),
        ("share of textbook-hindsight gap closed", cmp["gap_closed"]["share"], "(reported)"),
    ]
    print(f"\noperating point: {cmp['operating_point']}")
    for name, value, target in rows:
        shown = "n/a (outside the other curve)" if value is None else f"{value:+.3f}"
        print(f"{name:<50} {shown:>12}  target {target}")
    print(f"simulate wall {wall:.0f} s, CPU {cpu:.0f} s; load {os.getloadavg()}")
    return {
        "policy": ours,
        "forecast_mode": mode,
        "forecast_noise": noise,
        "knobs": sorted(float(k) for k in summary.loc[summary["policy"] == ours, "knob"].unique()),
        "service_allocation": rules.risk.service_allocation,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "load_average": os.getloadavg(),
        "summary": summary.to_dict(orient="records"),
        "comparison": cmp,
        "comparison_by_knob": at_default,
        "other_variants": variants,
    }


WARNING_ORACLES = ("level_around_horizon", "true_horizon_total")
"""``--warnings-oracle``: the backtest's forecast rescaled to a hindsight level (benchmarks/warning_ceiling.py)."""


def part_warnings(  # type: ignore[no-untyped-def]
    ds, out: Path, *, learned: str = "rules", oracle: str | None = None, refit_every: int | None = None
) -> dict:
    from stockwarden.cli.risk import run_backtest_on
    from stockwarden.quality.effectiveness import (
        alert_effectiveness,
        alerts_from_levels,
        label_protection_interval,
        stockout_episodes,
    )
    from stockwarden.simulate.demand import read_demand_file

    t0, c0 = time.perf_counter(), cpu_seconds()
    rules = rules_for_simulation()
    if learned != "rules":
        rules = rules.model_copy(update={"risk": rules.risk.model_copy(update={"learned_model": learned})})
    demand = read_demand_file(DATA / "true_demand.csv.gz")
    adjust = None
    if refit_every is None:
        refit_every = 1 if oracle is not None else 7  # the product refits weekly and rolls the forecast daily
    if oracle is not None:
        # A ceiling: each refit's forecast rescaled to the truth (refit daily by default: no week-old oracle).
        from warning_ceiling import rescale_to_truth

        wide = demand.pivot_table(index="date", columns=["sku", "location_id"], values="qty", aggfunc="sum")
        wide = wide.asfreq("D").fillna(0.0)
        adjust = rescale_to_truth(oracle, wide, ds.items.set_index("sku")["lead_time_days"])
    bt = run_backtest_on(
        ds,
        start=START,
        end=END,
        every_days=1,
        rules=rules,
        refit_every=refit_every,
        warmup_days=0,
        adjust_forecast=adjust,
    )
    out.mkdir(parents=True, exist_ok=True)
    bt.to_csv(out / "daily_backtest.csv.gz", index=False, date_format="%Y-%m-%d")
    alerts = alerts_from_levels(bt)
    at_open = bt.loc[:, ["sku", "location_id", "as_of", "on_hand", "horizon_days"]]
    rows = alerts.merge(at_open, left_on=["sku", "location_id", "first_day"], right_on=["sku", "location_id", "as_of"])
    receipts = ds.purchase_orders.loc[:, ["sku", "location_id", "order_date", "received_date", "received_qty"]]
    labelled = label_protection_interval(rows, demand=demand, receipts=receipts)
    alerts = alerts.merge(
        labelled[["sku", "location_id", "first_day", "label"]], on=["sku", "location_id", "first_day"]
    )
    # every alerting day judged on its own (what truth.csv scores at its weekly checkpoints)
    days = bt.loc[bt["level"].isin(["warning", "critical"]), ["sku", "location_id", "as_of", "on_hand", "horizon_days"]]
    day_labels = label_protection_interval(days, demand=demand, receipts=receipts)
    facts = bt.drop_duplicates(["sku", "location_id"]).loc[
        :, ["sku", "location_id", "lead_time_days", "horizon_days", "category", "supplier_id"]
    ]
    stock = ds.inventory.loc[(ds.inventory["date"] >= START - pd.Timedelta(days=60)) & (ds.inventory["date"] <= END)]
    episodes = stockout_episodes(stock)
    res = alert_effectiveness(episodes=episodes, alerts=alerts, facts=facts, period_start=START, period_end=END)
    o = res["overall"]
    o["false_alarm_share_per_alert_day"] = float((day_labels["label"] == 0).mean()) if len(day_labels) else None
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    print(
        f"\nepisodes {o['episodes']}: warned >= 1 day before {o['warned_1d']:.3f} (target > 0.90), "
        f"at least a lead time before {o['warned_in_time']:.3f}; median warning lead {o['median_warning_lead_days']} d"
    )
    print(
        f"alerts {o['alerts']}: false alarms {o['false_alarms']:.3f} per alert, "
        f"{o['false_alarm_share_per_alert_day']:.3f} per alerting day (target < 0.30); "
        f"{o['alerts_per_week']:.1f} alerts/week; wall {wall:.0f} s, CPU {cpu:.0f} s"
    )
    return {"wall_seconds": wall, "cpu_seconds": cpu, **res}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["simulate", "warnings", "all"], default="all")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "closed_loop")
    ap.add_argument(
        "--learned", choices=["rules", "auto", "never", "always"], default="rules", help="learned model (warnings part)"
    )
    ap.add_argument(
        "--warnings-oracle",
        choices=WARNING_ORACLES,
        default=None,
        help="warnings part: the forecast rescaled each day to a hindsight level (a ceiling; see warning_ceiling.py)",
    )
    ap.add_argument(
        "--warnings-refit-every",
        type=int,
        default=None,
        help="warnings part: refit the forecast every N days (default 7, the product's; 1 with --warnings-oracle)",
    )
    ap.add_argument("--workers", type=int, default=1, help="processes for the simulate part (2 on 2 cores)")
    ap.add_argument(
        "--oracle-forecast",
        action="store_true",
        help="simulate part: stockwarden fed the true future mean demand (a ceiling), beside the baselines",
    )
    ap.add_argument(
        "--oracle-window",
        action="append",
        type=int,
        default=None,
        help="with --oracle-forecast: average the next N days instead of L + R (repeat for several; 0 = L + R)",
    )
    ap.add_argument(
        "--naive-forecast",
        action="store_true",
        help="simulate part: stockwarden fed textbook's 28-day forecast (machinery vs forecast), with the baselines",
    )
    ap.add_argument(
        "--service-allocation",
        choices=["rules", "flat", "stockout_days", "lost_sales"],
        default="rules",
        help="simulate part: risk.service_allocation of the stockwarden policy (rules: as the rules say)",
    )
    ap.add_argument(
        "--lead-times",
        choices=["rules", "one", "independent"],
        default="rules",
        help="simulate part: risk.independent_lead_times of the stockwarden policy (one = false, independent = true)",
    )
    ap.add_argument(
        "--forecast-mode",
        choices=list(FORECAST_MODES),
        default="stats",
        help="simulate part: forecast mode of the stockwarden policy (named stockwarden_<mode> unless stats)",
    )
    ap.add_argument(
        "--knobs",
        type=lambda v: tuple(float(x) for x in v.split(",")),
        default=None,
        help="simulate part: service levels of the stockwarden policy, comma-separated (default its sweep; "
        "without 0.92, the operating point, the comparison reads the middle level)",
    )
    ap.add_argument(
        "--forecast-noise",
        choices=["model", "poisson", "no_level"],
        default="model",
        help="simulate part: the stockwarden policy's forecast mean with the model's uncertainty (model), Poisson "
        "day noise only (poisson: the oracle's), or without the level uncertainty (no_level); a diagnosis",
    )
    args = ap.parse_args()
    if args.forecast_noise != "model" and (args.oracle_forecast or args.naive_forecast):
        ap.error("--forecast-noise changes the model's forecast; the oracle and naive variants have no model")
    if args.forecast_mode != "stats" and (args.oracle_forecast or args.naive_forecast):
        ap.error("--forecast-mode replaces the model's forecast mode; the oracle and naive variants have no model")
    if args.knobs is not None and (args.oracle_forecast or args.naive_forecast):
        ap.error("--knobs sets the model's sweep; the oracle and naive variants sweep their own")
    rules = rules_for_simulation(args.forecast_mode)
    if args.lead_times != "rules":
        independent = args.lead_times == "independent"
        rules = rules.model_copy(update={"risk": rules.risk.model_copy(update={"independent_lead_times": independent})})
    if args.service_allocation != "rules":
        rules = rules.model_copy(
            update={"risk": rules.risk.model_copy(update={"service_allocation": args.service_allocation})}
        )
    loaded = load_dataset(DATA)
    ds = loaded[0] if isinstance(loaded, tuple) else loaded
    result: dict = {"dataset": "replay_dev", "start": str(START.date()), "end": str(END.date())}
    if args.part in ("simulate", "all"):
        result["simulate"] = part_simulate(
            ds,
            args.out,
            workers=args.workers,
            oracle=args.oracle_forecast,
            rules=rules,
            oracle_windows=tuple(w or None for w in args.oracle_window) if args.oracle_window else (None,),
            naive=args.naive_forecast,
            knobs=args.knobs,
            noise=args.forecast_noise,
        )
    if args.part in ("warnings", "all"):
        result["warnings"] = part_warnings(
            ds, args.out, learned=args.learned, oracle=args.warnings_oracle, refit_every=args.warnings_refit_every
        )
        result["warnings"]["oracle"] = args.warnings_oracle
        result["warnings"]["refit_every"] = args.warnings_refit_every
    path = args.out.with_name(args.out.name + (f"_{args.part}" if args.part != "all" else "") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"written {path}")


if __name__ == "__main__":
    main()
