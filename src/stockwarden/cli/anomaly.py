"""``stockwarden anomalies``: supply, demand and stock-record anomalies as of a date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import open_dataset, parse_day, write_frame
from stockwarden.config import load_rules

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}


@app.command("anomalies")
@guarded
def anomalies_command(
    out: Annotated[Path, typer.Option("--out", help="output file (.csv, .parquet or .json)")],
    dataset: Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="date of the run (default: newest data)")] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="rules.toml (section [anomalies])")] = None,
    show: Annotated[int, typer.Option("--show", help="rows to print (most severe first)")] = 20,
) -> None:
    """Overdue POs, short deliveries, lead-time drift, unreliable suppliers, demand spikes and drops,
    phantom and negative stock, stale counts and count mismatches known by --as-of."""
    from stockwarden.anomaly import detect_anomalies  # scipy.stats: imported when the command runs, not at start-up

    ds = open_dataset(dataset, db)
    date = parse_day(as_of, ds.last_date)
    found = detect_anomalies(ds, as_of=date, rules=load_rules(rules))
    write_frame(found, out)
    view = Table(title=f"Anomalies as of {date.date()}")
    for c in ("severity", "kind", "detail"):
        view.add_column(c)
    for row in found.head(show).itertuples(index=False):
        view.add_row(f"[{_STYLE.get(row.severity, '')}]{row.severity}[/]", str(row.kind), str(row.detail))
    console.print(view)
    counts = found.groupby("severity").size().to_dict() if len(found) else {}
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("critical", "warning", "info"))
    console.print(f"{len(found)} anomalies ({summary}) written to {out}")
