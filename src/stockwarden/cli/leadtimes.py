"""``stockwarden leadtimes``: the lead-time model as of a date, per supplier and supplier x SKU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from stockwarden.cli.app import app, console, fail, guarded
from stockwarden.cli.common import open_dataset
from stockwarden.config import load_rules
from stockwarden.errors import InputError
from stockwarden.forecast.leadtime import estimate_lead_times


def parse_as_of(value: str | None, default: pd.Timestamp | None) -> pd.Timestamp:
    """The ``--as-of`` date (default: the newest sales/inventory date of the dataset)."""
    if value is None:
        if default is None:
            raise InputError("the dataset has no sales or inventory dates; give --as-of YYYY-MM-DD")
        return pd.Timestamp(default).normalize()
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as exc:
        raise InputError(f"--as-of {value!r} is not a date (expected YYYY-MM-DD)") from exc


def write_frame(frame: pd.DataFrame, out: Path) -> None:
    """Write a result frame as CSV (default), Parquet (``.parquet``) or JSON records (``.json``)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".parquet":
            frame.to_parquet(out, index=False)
        elif suffix == ".json":
            frame.to_json(out, orient="records", date_format="iso", indent=1)
        else:
            frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None


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
    date = parse_as_of(as_of, ds.last_date)
    model = estimate_lead_times(ds, as_of=date, rules=load_rules(rules))
    table = model.table
    write_frame(table.round(4), out)
    view = Table(title=f"Lead times as of {date.date()} (suppliers)")
    for c in ("supplier_id", "po_count", "mean", "p50", "p90", "on time", "mean delay", "short", "source"):
        view.add_column(c)
    for row in table.loc[table["level"] == "supplier"].itertuples(index=False):
        view.add_row(str(row.supplier_id), str(row.po_count), f"{row.mean_lead_time_days:.1f}",
                     f"{row.p50_lead_time_days:.0f}", f"{row.p90_lead_time_days:.0f}", f"{row.on_time_rate:.0%}",
                     f"{row.mean_delay_days:+.1f}", f"{row.short_delivery_rate:.0%}", str(row.source))
    console.print(view)
    console.print(f"{len(table)} rows written to {out}")
