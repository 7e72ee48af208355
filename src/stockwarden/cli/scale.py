"""Commands for large companies: ``stockwarden sample`` (a sample company of any size, in parquet chunks)
and ``stockwarden import-bulk`` (the initial load of a large dataset folder into an empty database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from stockwarden.cli.app import app, console, err_console, fail, guarded

_COLUMNS = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())


@app.command("sample")
@guarded
def sample_command(
    folder: Annotated[Path, typer.Argument(help="where to write the dataset folder")],
    skus: Annotated[int, typer.Option("--skus", min=1, help="number of items")] = 1_000,
    locations: Annotated[int, typer.Option("--locations", min=1, max=9999, help="number of locations")] = 10,
    days: Annotated[int, typer.Option("--days", min=60, help="days of history")] = 400,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 0,
    block_series: Annotated[
        int, typer.Option("--block-series", min=1, help="SKU-locations simulated at a time (bounds memory)")
    ] = 10_000,
) -> None:
    """Write a sample company of SKUS x LOCATIONS SKU-locations as parquet, block by block (any size)."""
    from stockwarden.ingest.sample.large import generate_large_company

    with Progress(*_COLUMNS, console=err_console, transient=True) as bar:
        task = bar.add_task("generating", total=1)
        try:
            company = generate_large_company(
                folder,
                seed=seed,
                n_skus=skus,
                n_locations=locations,
                days=days,
                block_series=block_series,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except (ValueError, OSError) as exc:
            raise fail(f"cannot write the sample company to {folder}: {exc}") from None
    rows = ", ".join(f"{n} {k:,}" for n, k in company.rows.items())
    console.print(
        f"Wrote {company.n_series:,} SKU-locations ({skus:,} SKUs x {locations:,} locations, {days} days) "
        f"to {company.folder} in {company.n_blocks} blocks: {rows}.",
        highlight=False,
    )
    console.print(
        f"Load it with: stockwarden import-bulk {company.folder} --db postgresql+psycopg://...", highlight=False
    )


@app.command("import-bulk")
@guarded
def import_bulk_command(
    folder: Annotated[Path, typer.Argument(help="the dataset folder (large tables as parquet with row groups)")],
    db: Annotated[
        str | None,
        typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL, else sqlite:///stockwarden.db)"),
    ] = None,
) -> None:
    """Load a large dataset folder into an EMPTY database chunk by chunk (daily updates: stockwarden import)."""
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.data import bulk_import

    with cli_context(db) as (ctx, actor), Progress(*_COLUMNS, console=err_console, transient=True) as bar:
        task = bar.add_task("loading", total=1)
        report = bulk_import(
            ctx,
            folder,
            actor=actor,
            progress=lambda d, done, total: bar.update(task, description=d, completed=done, total=max(total, 1)),
        )
    for name, t in report.tables.items():
        console.print(
            f"{name:16s} read {t.read:>12,}  stored {t.inserted:>12,}  rejected {t.rejected:>8,}  "
            f"duplicates {t.duplicates:>8,}  ({report.chunks.get(name, 1)} chunk(s), "
            f"{report.seconds.get(name, 0):.1f} s)",
            highlight=False,
        )
    console.print(
        f"Loaded {report.rows:,} rows as import batch {report.batch_id}; indexes rebuilt in "
        f"{report.seconds.get('indexes', 0):.1f} s. See rejected rows with: stockwarden rejects",
        highlight=False,
    )
