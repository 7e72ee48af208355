"""``stockwarden leadtimes``: the lead-time model as of a date, per supplier and supplier x SKU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import open_dataset, parse_day, write_frame
from stockwarden.config import load_rules
from stockwarden.forecast.leadtime import estimate_lead_times


@app.command("leadtimes")
@guarded
def leadtimes_command(
    out: Annotated[Path, typer.Option("--out", help="output file (.csv, .parquet or .json)")],
    dataset: Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="date of the estimate (default: newest data)")] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="rules.toml (section [leadtime])")] = None,
) -> None:
    """Lead times learnt from PO history: per supplier and supplier x SKU, PO count, mean/p50/p90 lead
    time, on-time rate, mean delay and short-delivery rate (only POs received by --as-of)."""
    ds = open_dataset(dataset, db)
    date = parse_day(as_of, ds.last_date)
    model = estimate_lead_times(ds, as_of=date, rules=load_rules(rules))
    table = model.table
    write_frame(table.round(4), out)
    view = Table(title=f"Lead times as of {date.date()} (suppliers)")
    for c in ("supplier_id", "po_count", "mean", "p50", "p90", "on time", "mean delay", "short", "source"):
        view.add_column(c)
    for row in table.loc[table["level"] == "supplier"].itertuples(index=False):
        view.add_row(
            str(row.supplier_id),
            str(row.po_count),
            f"{row.mean_lead_time_days:.1f}",
            f"{row.p50_lead_time_days:.0f}",
            f"{row.p90_lead_time_days:.0f}",
            f"{row.on_time_rate:.0%}",
            f"{row.mean_delay_days:+.1f}",
            f"{row.short_delivery_rate:.0%}",
            str(row.source),
        )
    console.print(view)
    console.print(f"{len(table)} rows written to {out}")
