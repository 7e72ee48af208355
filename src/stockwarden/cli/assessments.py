"""``stockwarden assessments export``: the risk table a run acted on, every column of ``assess``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import write_frame

assessments_app = typer.Typer(help="Stored assessments of the daily runs.", no_args_is_help=True)
app.add_typer(assessments_app, name="assessments")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]


@assessments_app.command("export")
@guarded
def export_command(
    out: Annotated[Path, typer.Option("--out", help="output file (.csv, .parquet or .json)")],
    db: DbOpt = None,
    run: Annotated[str, typer.Option("--run", help="run id, or latest (the newest completed run)")] = "latest",
) -> None:
    """Write the assessments a run stored: the same columns, values and order as `stockwarden assess`."""
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.assessments import run_assessments

    with cli_context(db, read_only=True) as (ctx, actor):
        run_id, frame = run_assessments(ctx, actor=actor, run=run)
    write_frame(frame, out)
    as_of = frame["as_of"].iloc[0].date() if len(frame) else "-"
    console.print(f"run {run_id} (as of {as_of}): {len(frame)} assessments written to {out}", highlight=False)
