"""``stockwarden import`` and ``stockwarden rejects``: load a dataset folder, list what was put aside."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from stockwarden.cli.app import app, console, err_console, fail, guarded
from stockwarden.cli.appctx import cli_context, every
from stockwarden.cli.common import read_options, resolve_mapping
from stockwarden.config import load_rules
from stockwarden.errors import DatasetNotFound, InputError
from stockwarden.ingest.schema import TABLE_ORDER
from stockwarden.services.data import COUNT_KEYS, REJECT_COLUMNS, ImportReport, import_dataset, list_rejects
from stockwarden.services.data import ImportProgress as ProgressFn
from stockwarden.services.rules import current_rules

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL, else sqlite:///stockwarden.db)"),
]


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn]:
    """A Rich progress display driven by the import's ``progress(description, done, total)`` callback."""
    if not enabled:
        yield lambda _d, _c, _t: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("importing", total=1)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=max(total, 1))

        yield update


@app.command("import")
@guarded
def import_command(
    dataset: Annotated[Path, typer.Argument(help="dataset folder (sales and inventory files at least)")],
    db: DbOption = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="TOML file mapping your column names to ours, per file")
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json", help="write the import report as JSON to this file ('-' = stdout)")
    ] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="rules.toml (data-health checks, input limits in its ingest section)")
    ] = None,
    date_order: Annotated[
        str | None,
        typer.Option(
            "--date-order",
            help="order of day and month in dates like 05.03.2024: dmy (5 March) or mdy (May 3); "
            "without it such dates are rejected as ambiguous",
        ),
    ] = None,
    decimal_comma: Annotated[
        bool | None,
        typer.Option(
            "--decimal-comma/--decimal-point", help="numbers are written 1,5 and 1.234,5 (default: 1.5 and 1,234)"
        ),
    ] = None,
) -> None:
    """Import a dataset folder: validate every row, store the good ones, put the bad ones aside.

    Re-importing the same files changes nothing; a changed row updates its record (the previous values are
    kept in the history). Exit code 0 when the import ran (even with rejected rows), 2 when it could not run.
    """
    if not dataset.is_dir():
        raise DatasetNotFound(f"dataset folder {dataset} does not exist or is not a folder")
    column_mapping = resolve_mapping(mapping)
    to_stdout = json_report is not None and str(json_report) == "-"
    out = err_console if to_stdout else console
    with cli_context(db) as (ctx, actor):
        rules_config = load_rules(rules) if rules is not None else current_rules(ctx)[1]
        options = read_options(rules_config.ingest, date_order=date_order, decimal_comma=decimal_comma, mapping=mapping)
        with _progress(sys.stderr.isatty()) as progress:
            outcome = import_dataset(
                ctx,
                dataset,
                actor=actor,
                mapping=column_mapping,
                progress=progress,
                options=options,
                rules=rules_config,
            )
    report: ImportReport = outcome.details
    health = outcome.health
    warnings = health.warnings_json()
    _print_import(report, out)
    _print_health(health, out)
    if json_report is not None:
        payload = json.dumps(report.to_json(warnings), ensure_ascii=False, indent=2)
        if to_stdout:
            typer.echo(payload)
        else:
            try:
                json_report.write_text(payload + "\n", encoding="utf-8")
            except OSError as exc:
                raise fail(f"cannot write the JSON report to {json_report}: {exc.strerror or exc}") from None
            out.print(f"JSON report written to {json_report}", highlight=False)


def _print_import(report: ImportReport, out: Any) -> None:
    out.print(f"Imported [bold]{report.source}[/] (batch {report.batch_id}, {report.seconds:.1f} s)", highlight=False)
    for t in report.tables.values():
        table = Table(title=f"{t.file} -> {t.table}", title_justify="left", box=box.SIMPLE_HEAD)
        for name in COUNT_KEYS:
            table.add_column(name, justify="right", no_wrap=True)
        counts = [str(v) for v in t.counts().values()]
        if t.rejected:
            counts[2] = f"[red]{t.rejected}[/]"
        table.add_row(*counts)
        out.print(table)
    n = len(report.rejects)
    if n:
        shown = report.rejects.head(10)
        out.print(f"[red]{n} row(s) put aside[/]; the first {len(shown)}:", highlight=False)
        for r in shown.itertuples(index=False):
            value = f" = {r.value!r}" if r.value != "" else ""
            out.print(escape(f"  {r.file} line {r.line}, {r.column or 'row'}{value}: {r.reason}"), highlight=False)
        out.print("See them all with [bold]stockwarden rejects[/].", highlight=False)
    else:
        out.print("No row was put aside.")
    for w in report.import_warnings():
        colour = "yellow" if w["severity"] == "warning" else "cyan"
        out.print(f"[{colour}]{w['severity']}[/] {w['code']}: {escape(w['message'])}", highlight=False)
        for g in w.get("groups", [])[:10]:
            key = ", ".join(f"{k}={v}" for k, v in g["key"].items())
            out.print(f"  {escape(key)}: {g['lines_before']} line(s) before, {g['lines_after']} after", highlight=False)


def _print_health(health: Any, out: Any) -> None:
    table = Table(title="Data health", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("table", "rows", "first date", "last date", "SKUs", "locations"):
        table.add_column(col, justify="left" if col in ("table", "first date", "last date") else "right")
    for t in health.tables:
        if not t.is_present and not t.rows:
            continue
        d = t.to_dict()
        table.add_row(t.table, str(t.rows), d["first_date"] or "", d["last_date"] or "", str(t.skus), str(t.locations))
    out.print(table)
    for w in health.warnings:
        colour = "yellow" if str(w.severity) == "warning" else "cyan"
        out.print(f"[{colour}]{w.severity}[/] {w.code}: {w.message}", highlight=False)


@app.command("rejects")
@guarded
def rejects_command(
    table: Annotated[str | None, typer.Option("--table", help="only this dataset table (e.g. sales)")] = None,
    db: DbOption = None,
    all_batches: Annotated[bool, typer.Option("--all", help="every import, not only the latest")] = False,
    batch: Annotated[int | None, typer.Option("--batch", help="one import batch by its number")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="show at most this many rows (0 = all)")] = 200,
    json_out: Annotated[bool, typer.Option("--json", help="print the rows as JSON instead of a table")] = False,
) -> None:
    """List the rows put aside by imports (the latest import by default), with file, line and reason."""
    if table is not None and table not in TABLE_ORDER:
        raise InputError(f"--table {table!r} is not a dataset table (tables: {', '.join(TABLE_ORDER)})")
    with cli_context(db, read_only=True) as (ctx, actor):
        rows = pd.DataFrame(
            every(list_rejects, ctx, actor=actor, table=table, batch_id=batch, all_batches=all_batches),
            columns=["batch_id", *REJECT_COLUMNS],
        )
    if json_out:
        typer.echo(json.dumps(rows.to_dict(orient="records"), ensure_ascii=False, indent=2, default=int))
        return
    scope = "all imports" if all_batches else (f"import batch {batch}" if batch is not None else "the latest import")
    if rows.empty:
        console.print(f"No rows were put aside in {scope}" + (f" for table {table}." if table else "."))
        return
    shown = rows if limit == 0 else rows.head(limit)
    out = Table(title=f"Rows put aside ({len(rows)} in {scope})")
    for col in ("batch", "table", "file", "line", "column", "value", "reason"):
        out.add_column(col, justify="right" if col in ("batch", "line") else "left", overflow="fold")
    for r in shown.itertuples(index=False):
        cells = (str(r.batch_id), r.table, r.file, str(r.line), r.column or "", r.value or "", r.reason)
        out.add_row(*(escape(str(c)) for c in cells))
    console.print(out)
    if len(shown) < len(rows):
        console.print(f"... and {len(rows) - len(shown)} more (use --limit 0 to see all).")
