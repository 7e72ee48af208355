"""``stockwarden simulate``: closed-loop replay of ordering policies on a company's demand."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stockwarden.cli.app import app, console, err_console, fail, guarded
from stockwarden.cli.common import open_dataset, parse_day
from stockwarden.config import RulesConfig, load_rules
from stockwarden.ingest.dataset import Dataset


def assess_for_simulation(ds: Dataset, as_of: pd.Timestamp, rules: RulesConfig) -> pd.DataFrame:
    """The product's assessment of one day, as the ``stockwarden`` policy runs it (the one adapter).

    The daily run's own path, :func:`stockwarden.risk.daily.assess_day` (forecast with the rules' mode,
    seed and history window, lead-time model, risk assessment). Anomaly detection is left out: it only
    adds reason codes and never changes a level, a reorder point or a quantity.
    """
    from stockwarden.risk.daily import assess_day

    return assess_day(ds, as_of=pd.Timestamp(as_of).normalize(), rules=rules, with_anomalies=False).assessment


def build_policy_list(
    names: list[str],
    *,
    sweep: bool,
    rules: RulesConfig,
    company_rules: pd.DataFrame | None,
) -> list:  # type: ignore[type-arg]
    """Policies to run: each name at its default knob, or over its sweep."""
    from stockwarden.simulate.policies import make_policy, sweep_knobs

    out = []
    for name in names:
        knobs: list[float | str | None] = list(sweep_knobs(name, has_company_rules=company_rules is not None))
        if not sweep:
            knobs = [None]
        for k in knobs:
            out.append(make_policy(name, k, assess=assess_for_simulation, rules=rules, company_rules=company_rules))
    return out


def simulate_dataset(
    ds: Dataset,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    out: Path,
    demand: pd.DataFrame,
    policies: list[str],
    sweep: bool,
    rules: RulesConfig,
    seed: int,
    backorders: bool = False,
    shrink_rate: float = 0.0,
    history_days: int | None = 730,
    quiet: bool = False,
    workers: int = 1,
    extra_policies: tuple[object, ...] = (),
) -> dict[str, object]:
    """Build the world, run every policy with a progress bar, write every output; return the JSON report.

    ``extra_policies`` (benchmarks only, e.g. the oracle-forecast ``stockwarden``) run after ``policies``.
    """
    from stockwarden.simulate.compare import compare_policies
    from stockwarden.simulate.engine import orders_frame
    from stockwarden.simulate.report import write_curves_html, write_curves_png, write_report, write_summary
    from stockwarden.simulate.run import run_policies
    from stockwarden.simulate.world import build_world

    r = rules.risk
    review: dict[str, int] = {"*": int(r.review_period_days), **r.review_period_days_by_category}
    world = build_world(
        ds,
        start=start,
        end=end,
        demand=demand,
        review_period_days=review,
        default_lead_time_days=rules.forecast.default_lead_time_days,
        history_days=history_days,
        seed=seed,
        review_anchor=rules.orders.review_anchor_date,
    )
    company = ds.reorder_rules if len(getattr(ds, "reorder_rules", ())) else None
    plist = build_policy_list(policies, sweep=sweep, rules=rules, company_rules=company) + list(extra_policies)
    t0 = time.perf_counter()
    with Progress(
        TextColumn("simulate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        total = len(plist) * world.n_days
        task = bar.add_task("", total=total)
        done_runs: list[str] = []

        def progress(label: str, days: int) -> None:
            if days == world.n_days:
                done_runs.append(label)
            bar.update(task, completed=len(done_runs) * world.n_days + (days % world.n_days), description=label)

        result = run_policies(
            world, plist, backorders=backorders, shrink_rate=shrink_rate, progress=progress, workers=workers
        )
    seconds = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    write_summary(result.summary, out)
    result.per_sku.to_csv(out / "per_sku.csv", index=False, float_format="%.6g")
    orders = pd.concat(
        [orders_frame(world, x).assign(policy=x.policy, knob=x.knob) for x in result.results], ignore_index=True
    )
    orders.to_csv(out / "orders.csv", index=False)
    title = f"Closed-loop simulation {start.date()} .. {end.date()} ({world.n_series} SKU-locations)"
    write_curves_png(result.summary, out, title=title)
    write_curves_html(result.summary, out, title=title)
    sw_knob = None if sweep else "rules"
    report: dict[str, object] = {
        "start": start,
        "end": end,
        "days": world.n_days,
        "sku_locations": world.n_series,
        "skipped_sku_locations": list(world.skipped),
        "seed": seed,
        "mode": "backorders" if backorders else "lost_sales",
        "shrink_rate": shrink_rate,
        "rules_version": rules.version(),
        "company_reorder_rules": company is not None,
        "seconds": seconds,
        "workers": workers,
        "summary": result.summary.to_dict(orient="records"),
        "comparison": compare_policies(result.summary, knob=sw_knob)
        if "stockwarden" in set(result.summary["policy"])
        else None,
        "files": ["summary.csv", "per_sku.csv", "orders.csv", "curves.png", "curves.html", "report.json"],
    }
    write_report(report, out)
    return report


POLICY_HELP = "policy to run (repeat; default all): stockwarden, reorder_level, days_of_cover, textbook, hindsight"


@app.command("simulate")
@guarded
def simulate_command(
    dataset: Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")] = None,
    start: Annotated[str | None, typer.Option("--start", help="first simulated day YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last simulated day YYYY-MM-DD (inclusive)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    demand: Annotated[
        Path | None, typer.Option("--demand", help="demand file date,sku,location_id,qty (default: from the sales)")
    ] = None,
    policy: Annotated[list[str] | None, typer.Option("--policy", help=POLICY_HELP)] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="run each policy over its main knob (curves)")] = False,
    backorders: Annotated[bool, typer.Option("--backorders", help="unmet demand waits instead of being lost")] = False,
    shrink_rate: Annotated[
        float, typer.Option("--shrink-rate", min=0.0, max=1.0, help="daily probability one unit of stock is lost")
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="seed of delivery and shrink draws")] = 0,
    forecast_mode: Annotated[
        str, typer.Option("--forecast-mode", help="forecast mode of the stockwarden policy: stats|fast|auto")
    ] = "stats",
    history_days: Annotated[
        int, typer.Option("--history-days", min=90, help="days of history before --start the company keeps")
    ] = 730,
    workers: Annotated[int, typer.Option("--workers", min=1, help="processes running policies side by side")] = 1,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="rules.toml in force")] = None,
) -> None:
    """Closed-loop replay: from the stock and open POs at --start, day by day, each policy orders on its
    review days seeing only the simulated past; writes summary.csv, per_sku.csv, orders.csv, curves.png,
    curves.html and report.json to --out."""
    from stockwarden.simulate.demand import demand_from_dataset, read_demand_file
    from stockwarden.simulate.policies import POLICY_NAMES

    if start is None or end is None or out is None:
        raise fail("simulate needs --start, --end and --out")
    names = policy or list(POLICY_NAMES)
    unknown = [p for p in names if p not in POLICY_NAMES]
    if unknown:
        raise fail(f"unknown --policy {', '.join(unknown)}; expected one of {', '.join(POLICY_NAMES)}")
    if forecast_mode not in ("stats", "fast", "auto"):
        raise fail(f"--forecast-mode must be stats, fast or auto, got {forecast_mode!r}")
    s, e = parse_day(start, None, option="--start"), parse_day(end, None, option="--end")
    if e < s:
        raise fail(f"--end {e.date()} is before --start {s.date()}")
    cfg = load_rules(rules)
    cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"forecast_mode": forecast_mode, "seed": seed})})
    ds = open_dataset(dataset, db)
    dem = read_demand_file(demand) if demand is not None else demand_from_dataset(ds, end=e)
    report = simulate_dataset(
        ds,
        start=s,
        end=e,
        out=out,
        demand=dem,
        policies=list(dict.fromkeys(names)),
        sweep=sweep,
        rules=cfg,
        seed=seed,
        backorders=backorders,
        shrink_rate=shrink_rate,
        history_days=history_days,
        workers=workers,
    )
    view = Table(title=f"Simulation {s.date()} .. {e.date()}")
    for c in ("policy", "knob", "stockout days", "fill rate", "lost sales", "avg inventory", "turnover", "orders"):
        view.add_column(c)
    rows: list[dict[str, object]] = report["summary"]  # type: ignore[assignment]
    for row in rows:
        view.add_row(
            str(row["policy"]),
            str(row["knob"]),
            str(row["stockout_days"]),
            f"{row['fill_rate']:.2%}",
            f"{row['lost_sales_value']:,.0f}",
            f"{row['avg_inventory_value']:,.0f}",
            f"{row['turnover']:.2f}",
            f"{row['orders']} / {row['order_lines']} lines",
        )
    console.print(view)
    console.print(f"written to {out}: summary.csv, per_sku.csv, orders.csv, curves.png, curves.html, report.json")
