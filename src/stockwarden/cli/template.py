"""``stockwarden template DIR``: write empty import templates (CSV per table + an Excel workbook with notes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockwarden.cli.app import app, console, guarded
from stockwarden.ingest.template import write_templates


@app.command("template")
@guarded
def template(
    folder: Annotated[Path, typer.Argument(help="folder to write the templates into (created if needed)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite template files already in the folder")] = False,
) -> None:
    """Write empty import templates: a CSV per table with an example row, and an .xlsx workbook with notes."""
    paths = write_templates(folder, overwrite=force)
    console.print(f"Wrote {len(paths)} template files to [bold]{folder}[/]:")
    for p in paths:
        console.print(f"  {p.name}")
    console.print(
        "Replace the example rows with your data (sales and inventory are required), then run "
        f"[bold]stockwarden import {folder}[/]. The workbook's 'notes' sheet explains every column "
        "in English and Chinese.",
        highlight=False,
    )
