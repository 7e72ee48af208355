"""``stockwarden demo``: a sample company, end to end, in under two minutes.

Generates the sample company (``ingest.sample``), imports it into a fresh database, shows what was
loaded (per-table summary and data warnings), then runs the daily pipeline (forecasts, lead times,
anomalies, risk, alerts, order proposals, notifications to a local file) and shows the risk table
sorted by urgency, the alerts and the proposed orders. Everything goes through the application layer
(``services``), as the local administrator: the demo's rules are saved as the rules in force, the
import and the run are audited like any other.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from stockwarden.cli.app import app, console, fail, guarded
from stockwarden.cli.appctx import cli_context
from stockwarden.cli.demo_view import (
    print_alerts,
    print_company,
    print_health,
    print_proposals,
    print_risk,
    print_run,
)
from stockwarden.config import NotifyRules, RulesConfig, RunRules
from stockwarden.domain.actor import Actor
from stockwarden.errors import ConfigError, StockwardenError
from stockwarden.ingest.sample import generate_company
from stockwarden.services import AppContext
from stockwarden.services.assessments import run_assessments
from stockwarden.services.data import ImportOutcome, import_dataset
from stockwarden.services.rules import rules_to_toml, save_rules
from stockwarden.services.runs import run_daily

DEFAULT_DIR = Path("demo_company")
DEFAULT_DB = "sqlite:///demo.db"
NOTIFICATIONS_FILE = "notifications.log"


@app.command("demo")
@guarded
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="where to write the sample company")] = DEFAULT_DIR,
    db: Annotated[str, typer.Option("--db", help="database URL; a SQLite file is recreated each time")] = DEFAULT_DB,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the sample company")] = 0,
    skus: Annotated[int, typer.Option("--skus", min=1, help="number of items")] = 300,
    locations: Annotated[
        int,
        typer.Option("--locations", min=1, max=9999, help="number of locations (large companies: stockwarden sample)"),
    ] = 3,
    days: Annotated[int, typer.Option("--days", min=60, help="days of history")] = 760,
    top: Annotated[int, typer.Option("--top", min=1, help="rows shown of the risk, alert and order tables")] = 15,
    reset: Annotated[bool, typer.Option("--reset", help="empty a non-SQLite --db database first")] = False,
    import_only: Annotated[bool, typer.Option("--import-only", help="stop after the import and data health")] = False,
    forecast_mode: Annotated[
        str,
        typer.Option(
            "--forecast-mode",
            help="stats (the daily run's default, the mode the warning quality is measured in), fast (one "
            "LightGBM blend) or auto (recursive + direct LightGBM; most accurate daily forecasts, slower)",
        ),
    ] = RunRules().forecast_mode,
) -> None:
    """Generate a sample company, import it into a fresh database and run the whole pipeline on it."""
    started = time.perf_counter()
    with _spinner() as step:
        step("generating the sample company")
        generate_company(folder, seed=seed, n_skus=skus, n_locations=locations, days=days)
        step("preparing a fresh database")
        _fresh_database(db, reset=reset)
    rules = _demo_rules(folder, forecast_mode=forecast_mode, seed=seed)
    with cli_context(db) as (ctx, actor):
        save_rules(ctx, rules_to_toml(rules), actor=actor, comment="the demo's rules (notifications to a local file)")
        outcome = _import(ctx, actor, folder)
        print_company(outcome.details.dataset, folder, seed=seed)
        print_health(outcome.details, outcome.health)
        if not import_only:
            _pipeline(ctx, actor, top=top, db=db, folder=folder)
    console.print(f"\nDemo finished in {time.perf_counter() - started:.1f} s.", highlight=False)
    _print_web_users(db)


def _print_web_users(db: str) -> None:
    """Create one demo user per role and say how to open the web app with them."""
    from stockwarden.services.context import build_context
    from stockwarden.web.demo_users import ensure_demo_users

    ctx = build_context(database_url=db)
    try:
        with ctx.engine.connect() as conn:
            import sqlalchemy as sa

            first = conn.execute(sa.text("SELECT min(location_id) FROM locations")).scalar()
        accounts = ensure_demo_users(ctx, first_location=first)
    finally:
        ctx.engine.dispose()
    console.print(
        f"\nOpen the web app: [bold]make serve[/] or [bold]stockwarden serve --db {db}[/], then "
        "http://127.0.0.1:8000/ (English / 简体中文). Demo users:",
        highlight=False,
    )
    for u in accounts:
        where = f" (sees {', '.join(u.locations)} only)" if u.locations else ""
        console.print(
            f"  {u.role:<10} user [bold]{u.username}[/]  password [bold]{u.password}[/]{where}", highlight=False
        )


def _spinner() -> Any:
    """A transient spinner; returns a context manager yielding ``step(description)``."""
    from contextlib import contextmanager

    @contextmanager
    def run() -> Any:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        ) as bar:
            task = bar.add_task("", total=None)
            yield lambda text: bar.update(task, description=text)

    return run()


def _fresh_database(db: str, *, reset: bool) -> None:
    """Make ``db`` an empty database: a SQLite file is deleted (recreated by the context).

    Raises:
        StoreError: when a non-SQLite database already holds data and ``reset`` was not asked for.
    """
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from stockwarden.errors import StoreError
    from stockwarden.store.db import make_engine

    url = db.strip()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"--db {url!r} is not a database URL (e.g. sqlite:///demo.db)") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        for extra in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{extra}").unlink(missing_ok=True)
        return
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        if tables and not reset:
            raise StoreError(
                f"{url.split('@')[-1]} is not empty ({len(tables)} tables); the demo needs a fresh "
                "database: use another one, or --reset to empty this one"
            )
        if tables:
            _drop_everything(engine)
    finally:
        engine.dispose()


def _drop_everything(engine: Any) -> None:
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(bind=engine)
    meta.drop_all(bind=engine)


def _import(ctx: AppContext, actor: Actor, folder: Path) -> ImportOutcome:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("importing", total=1)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=f"importing: {description}", completed=done, total=max(total, 1))

        return import_dataset(ctx, folder, actor=actor, progress=update)


def _demo_rules(folder: Path, *, forecast_mode: str, seed: int) -> RulesConfig:
    """Default rules, with notifications going to a local file next to the sample company.

    Raises:
        ConfigError: when ``forecast_mode`` is not a known mode.
    """
    log = (folder / NOTIFICATIONS_FILE).resolve()
    log.unlink(missing_ok=True)
    channel = {"name": "demo-file", "url": f"file://{log}", "levels": ["critical", "warning"]}
    try:
        run = RunRules.model_validate({"forecast_mode": forecast_mode, "seed": seed})
    except ValidationError as exc:
        raise ConfigError(f"--forecast-mode {forecast_mode!r}: choose fast, auto or stats") from exc
    return RulesConfig.model_validate({"notify": NotifyRules.model_validate({"channels": [channel]}), "run": run})


def _pipeline(ctx: AppContext, actor: Actor, *, top: int, db: str, folder: Path) -> None:
    """Run the daily job once (the rules in force: the demo's) and show risk, alerts and proposals."""
    names = (
        "health",
        "forecast",
        "leadtimes",
        "anomalies",
        "assess",
        "assessments",
        "alerts",
        "proposals",
        "compose",
        "deliver",
    )
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"daily run: {names[0]}", total=len(names))

            def done(name: str) -> None:
                nxt = names.index(name) + 1 if name in names else 0
                label = names[nxt] if nxt < len(names) else "finishing"
                bar.update(task, completed=nxt, description=f"daily run: {label}")

            report = run_daily(ctx, actor=actor, on_progress=done)
    except StockwardenError as exc:
        raise fail(f"the daily run failed: {exc}") from None
    except Exception as exc:  # the demo's boundary: one line, never a traceback
        raise fail(f"the daily run failed: {_one_line(exc)}") from exc
    try:
        print_run(report)
        print_risk(run_assessments(ctx, actor=actor, run=report.run_id)[1], top=top)
        print_alerts(ctx, actor, top=top)
        print_proposals(ctx, actor, top=top)
    except Exception as exc:  # a view that cannot be drawn must not end in a traceback either
        raise fail(f"the demo could not show the results: {_one_line(exc)}") from exc
    log = folder / NOTIFICATIONS_FILE
    sent = report.counts.get("messages_sent", 0)
    where = f"{log}" if log.exists() else f"{log} (nothing written)"
    console.print(f"\nNotifications: {sent} message(s) delivered to the local file channel: {where}", highlight=False)
    console.print(
        f"Explore further: [bold]stockwarden alerts list --db {db}[/], [bold]stockwarden proposals list --db {db}[/]",
        highlight=False,
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
