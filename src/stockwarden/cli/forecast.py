"""``stockwarden forecast``: daily demand forecast with quantiles per SKU-location."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import open_dataset, parse_day, write_frame
from stockwarden.config import load_rules
from stockwarden.errors import ForecastError
from stockwarden.forecast.distributed import DASK_SCHEDULER_ENV, DaskBackend
from stockwarden.forecast.engine import BACKENDS, MAX_HORIZON_DAYS, MODES, forecast_demand
from stockwarden.ingest.freshness import check_as_of_freshness


@app.command("forecast")
@guarded
def forecast_command(
    out: Annotated[Path, typer.Option("--out", help="output file: .csv, .parquet, .json or .xlsx")],
    dataset: Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="last day of known data (default: newest)")] = None,
    horizon: Annotated[
        int, typer.Option("--horizon", help=f"days to forecast after --as-of (1 to {MAX_HORIZON_DAYS})")
    ] = 28,
    mode: Annotated[str, typer.Option("--mode", help="auto (best), fast, or stats (no LightGBM)")] = "auto",
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same forecast)")] = 0,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            envvar="STOCKWARDEN_EXEC_BACKEND",
            help="local (this machine) or dask (default: dask when a scheduler is given, else local)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar=DASK_SCHEDULER_ENV,
            help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a local Dask cluster)",
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            help="with --backend dask: series groups (default: one per worker thread, none under 5,000 series)",
        ),
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="rules.toml (health.stale_feed_days)")] = None,
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale", help="forecast even when --as-of is more than health.stale_feed_days after the newest data"
        ),
    ] = False,
) -> None:
    """Forecast daily demand per SKU-location: mean and p5/p25/p50/p75/p95, using only what was known
    at the end of --as-of. Writes sku, location_id, date, mean, p5, p25, p50, p75, p95, model, demand_class.
    With --backend dask the series are forecast in shards on a Dask cluster (docs/scale.md)."""
    if horizon <= 0:
        raise ForecastError(f"--horizon must be a positive number of days, got {horizon}")
    if horizon > MAX_HORIZON_DAYS:
        raise ForecastError(
            f"--horizon {horizon:,} is too long: daily forecasts go at most {MAX_HORIZON_DAYS} days ahead"
        )
    if mode not in MODES:
        raise ForecastError(f"--mode {mode!r} is not one of {', '.join(MODES)}")
    day = parse_day(as_of, None) if as_of is not None else None
    ds = open_dataset(dataset, db, required_tables=("sales",))  # demand-only folders (no stock counts) forecast too
    day = day if day is not None else parse_day(None, ds.last_date)
    check_as_of_freshness(ds, day, load_rules(rules).health, allow_stale=allow_stale)
    fc = forecast_demand(
        ds, as_of=day, horizon_days=horizon, mode=mode, seed=seed, backend=forecast_backend(backend, scheduler, shards)
    )
    daily = fc.daily.copy()
    daily["mean"] = daily["mean"].round(4)
    write_frame(daily, out)
    s = fc.series
    view = Table(title=f"Demand forecast as of {day.date()}, {horizon} days")
    for c in ("demand class", "series", "fallbacks", "mean/day", "models"):
        view.add_column(c)
    mean_day = pd.Series(fc.mean.mean(axis=1), index=s.index)
    for cls, grp in s.groupby("demand_class"):
        models = ", ".join(f"{m} {n}" for m, n in grp["model"].value_counts().items())
        view.add_row(
            str(cls), str(len(grp)), str(int(grp["is_fallback"].sum())), f"{mean_day[grp.index].sum():.1f}", models
        )
    console.print(view)
    console.print(f"{len(daily)} rows ({len(s)} series x {horizon} days) written to {out}")


def forecast_backend(name: str | None, scheduler: str | None, shards: int | None) -> str | DaskBackend:
    """``--backend`` / ``--scheduler`` / ``--shards`` as the engine's backend argument."""
    chosen = name or ("dask" if scheduler else "local")
    if chosen not in BACKENDS:
        raise ForecastError(f"--backend {chosen!r} is not one of {', '.join(BACKENDS)}")
    if chosen == "local":
        if shards is not None:
            raise ForecastError("--shards is only used with --backend dask")
        return "local"
    return DaskBackend(scheduler=scheduler or None, shards=shards)
