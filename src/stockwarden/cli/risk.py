"""``stockwarden assess`` and ``stockwarden backtest``: stockout risk as of a date, and over past checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stockwarden.cli.app import app, console, err_console, fail, guarded
from stockwarden.cli.appctx import rules_in_force
from stockwarden.cli.common import AllowStaleOpt, load_config, open_dataset, open_day, parse_day, write_frame
from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import Dataset
from stockwarden.ingest.freshness import check_as_of_freshness

if TYPE_CHECKING:
    from stockwarden.risk.inputs import DemandSource, LeadTimeModelLike

DatasetArg = Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")]
DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="rules file (default: the rules in force, as for run, when reading the database; "
        "./stockwarden.toml if present for a dataset folder)",
    ),
]
HorizonOpt = Annotated[
    int | None,
    typer.Option("--horizon", min=1, help="one horizon H in days for every SKU (default: lead time + review period)"),
]


def assess_dataset(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    rules: RulesConfig,
    horizon_days: int | None = None,
    with_anomalies: bool = True,
) -> pd.DataFrame:
    """The assessment of one dataset as of one date: the daily run's own path (``risk.daily.assess_day``)."""
    from stockwarden.risk.daily import assess_day

    return assess_day(ds, as_of=as_of, rules=rules, horizon_days=horizon_days, with_anomalies=with_anomalies).assessment


def print_risk_table(frame: pd.DataFrame, *, title: str, limit: int = 20) -> None:
    """The most urgent rows as a Rich table."""
    view = Table(title=title)
    for c in (
        "level",
        "sku",
        "location",
        "P(stockout)",
        "stockout date",
        "cover d",
        "on hand",
        "on order",
        "order",
        "reasons",
    ):
        view.add_column(c)
    colour = {"critical": "bold red", "warning": "yellow", "watch": "cyan", "ok": "green"}
    for row in frame.head(limit).itertuples(index=False):
        when = row.expected_stockout_date
        date = "" if pd.isna(when) else pd.Timestamp(when).date().isoformat()
        view.add_row(
            f"[{colour.get(row.level, '')}]{row.level}[/]",
            str(row.sku),
            str(row.location_id),
            f"{row.stockout_probability:.0%}",
            date,
            f"{row.days_of_cover:.1f}",
            f"{row.on_hand:g}",
            f"{row.on_order:g}",
            f"{row.suggested_order_qty:g}",
            str(row.reasons).replace(";", ", "),
        )
    console.print(view)


@app.command("assess")
@guarded
def assess_command(
    out: Annotated[Path, typer.Option("--out", help="output file (.csv, .parquet or .json)")],
    dataset: DatasetArg = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="assessment date (default: newest data)")] = None,
    horizon: HorizonOpt = None,
    db: DbOpt = None,
    rules: RulesOpt = None,
    allow_stale: AllowStaleOpt = False,
) -> None:
    """Stockout risk of every SKU-location as of a date: level, P(stockout), expected date, cover,
    reorder point, safety stock, order-up-to, suggested order and reasons."""
    cfg = load_config(rules) if dataset is not None or rules is not None else rules_in_force(db)
    ds, day = open_day(dataset, db, as_of)
    check_as_of_freshness(ds, day, cfg.health, allow_stale=allow_stale)  # issue 16 case 8
    with console.status(f"assessing risk as of {day.date()}..."):
        frame = assess_dataset(ds, as_of=day, rules=cfg, horizon_days=horizon)
    write_frame(frame, out)
    print_risk_table(frame, title=f"Stockout risk as of {day.date()} (most urgent first)")
    counts = frame["level"].value_counts()
    console.print(
        ", ".join(f"{lvl}: {int(counts.get(lvl, 0))}" for lvl in ("critical", "warning", "watch", "ok"))
        + f" — {len(frame)} rows written to {out}"
    )


DEFAULT_WARMUP_DAYS = 365
"""Default ``--warmup-days``: a year of earlier checkpoints (one full seasonal cycle) that only train the
learned model (the benchmark ``benchmarks/warning_quality.py`` uses the same default, so its figures are
the CLI's). On replay_dev a year gave AP 0.797 / 0.698 in stock and lead-time recall 0.583 against
0.795 / 0.693 / 0.574 with half a year; two years added nothing more (0.798 / 0.696 / 0.584) and took
twice as long."""


@app.command("backtest")
@guarded
def backtest_command(
    out: Annotated[Path, typer.Option("--out", help="output file (.csv, .parquet or .json)")],
    start: Annotated[str, typer.Option("--start", help="first checkpoint YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last checkpoint (inclusive) YYYY-MM-DD")],
    dataset: DatasetArg = None,
    every: Annotated[int, typer.Option("--every", min=1, help="days between checkpoints")] = 7,
    horizon: HorizonOpt = None,
    refit_every: Annotated[
        int, typer.Option("--refit-every", min=1, help="refit the demand forecast every N checkpoints")
    ] = 1,
    forecast_mode: Annotated[
        str | None,
        typer.Option("--forecast-mode", help="forecast mode per checkpoint: stats|fast|auto (default: the run's)"),
    ] = None,
    warmup_days: Annotated[
        int, typer.Option("--warmup-days", min=0, help="days of earlier checkpoints that only train the learned model")
    ] = DEFAULT_WARMUP_DAYS,
    learned: Annotated[
        str | None, typer.Option("--learned", help="learned classifier: auto|always|never (default: rules)")
    ] = None,
    db: DbOpt = None,
    rules: RulesOpt = None,
) -> None:
    """Assess every checkpoint start, start+every, ... up to end, using only what was known at each."""
    cfg = load_config(rules)
    if learned is not None:
        if learned not in ("auto", "always", "never"):
            raise fail(f"--learned must be auto, always or never, got {learned!r}")
        cfg = cfg.model_copy(update={"risk": cfg.risk.model_copy(update={"learned_model": learned})})
    s, e = parse_day(start, None, option="--start"), parse_day(end, None, option="--end")
    if e < s:
        raise fail(f"--end {e.date()} is before --start {s.date()}")
    ds = open_dataset(dataset, db)
    if forecast_mode is not None:
        if forecast_mode not in ("stats", "fast", "auto"):
            raise fail(f"--forecast-mode must be stats, fast or auto, got {forecast_mode!r}")
        cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"forecast_mode": forecast_mode})})
    frame = run_backtest_on(
        ds,
        start=s,
        end=e,
        every_days=every,
        rules=cfg,
        horizon_days=horizon,
        refit_every=refit_every,
        warmup_days=warmup_days,
    )
    write_frame(frame, out)
    n_cp = frame["as_of"].nunique() if len(frame) else 0
    console.print(f"{len(frame)} rows ({n_cp} checkpoints) written to {out}")


def run_backtest_on(
    ds: Dataset,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    every_days: int,
    rules: RulesConfig,
    horizon_days: int | None = None,
    refit_every: int = 1,
    warmup_days: int = 0,
    adjust_forecast: Callable[[DemandSource, pd.Timestamp], DemandSource] | None = None,
    adjust_lead_times: Callable[[LeadTimeModelLike, pd.Timestamp], LeadTimeModelLike] | None = None,
) -> pd.DataFrame:
    """The backtest with the project's forecast and lead-time models, with a Rich progress bar.

    ``adjust_forecast(forecast, as_of)`` and ``adjust_lead_times(model, as_of)``, when given, replace
    each checkpoint's demand forecast or lead-time model by what they return (what-if and ceiling
    studies, e.g. ``benchmarks/warning_ceiling.py``; the product never sets them).

    Each checkpoint is forecast and assessed exactly as the daily run would on that date (forecast
    mode, seed and history window from ``rules``; :mod:`stockwarden.risk.daily`).
    """
    from stockwarden.forecast.history import build_demand_history
    from stockwarden.risk.backtest import checkpoints, run_backtest
    from stockwarden.risk.daily import anomalies_for, forecast_for, lead_times_for

    # The demand history is built once: it is trailing-only by construction (censored days are imputed
    # from earlier days), and forecast_demand drops the rows after each checkpoint.
    history = build_demand_history(ds, as_of=end)

    def forecast_fn(d: Dataset, *, as_of: pd.Timestamp, horizon_days: int) -> DemandSource:
        fc = forecast_for(d, as_of=as_of, rules=rules, history=history, days=horizon_days)
        return fc if adjust_forecast is None else adjust_forecast(fc, as_of)

    def lead_time_fn(d: Dataset, *, as_of: pd.Timestamp) -> LeadTimeModelLike:
        model = lead_times_for(d, as_of=as_of, rules=rules)
        return model if adjust_lead_times is None else adjust_lead_times(model, as_of)

    total = len(checkpoints(start - pd.Timedelta(days=warmup_days // every_days * every_days), end, every_days))
    with Progress(
        TextColumn("backtest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=total)

        def progress(done: int, total: int, as_of: pd.Timestamp) -> None:
            bar.update(task, completed=done, total=total, description=str(as_of.date()))

        return run_backtest(
            ds,
            start=start,
            end=end,
            every_days=every_days,
            forecast_fn=forecast_fn,
            lead_time_fn=lead_time_fn,
            anomaly_fn=lambda d, *, as_of, forecast: anomalies_for(d, as_of=as_of, forecast=forecast, rules=rules),
            rules=rules,
            horizon_days=horizon_days,
            refit_every=refit_every,
            warmup_days=warmup_days,
            progress=progress,
        )
