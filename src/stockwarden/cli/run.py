"""``stockwarden run`` (the daily job on the database) and ``stockwarden schedule`` (run it daily).

Cron instead of ``schedule``::

    0 6 * * *  cd /srv/stockwarden && .venv/bin/stockwarden run --config stockwarden.toml >> var/run.log 2>&1 \
               && nice .venv/bin/stockwarden preview prepare >> var/run.log 2>&1
    */5 * * * * cd /srv/stockwarden && .venv/bin/stockwarden alerts deliver --config stockwarden.toml

(the second line retries failed notifications between daily runs; ``preview prepare`` replays the rules in
force over the last 13 weeks so the rules editor's preview of a draft is ready at once; ``schedule`` does both).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, err_console, fail, guarded
from stockwarden.cli.appctx import cli_context, use_rules_file
from stockwarden.cli.common import load_config
from stockwarden.errors import ConfigError, StockwardenError

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="stockwarden.toml with rules and [[notify.channels]] (default: ./stockwarden.toml if present)"
    ),
]


def parse_date(value: str | None, *, option: str) -> dt.date | None:
    """Parse ``YYYY-MM-DD``.

    Raises:
        ConfigError: naming the option when the value is not a date.
    """
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ConfigError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from exc


def execute_run(
    db: str | None,
    config: Path | None,
    as_of: dt.date | None,
    *,
    backend: str | None = None,
    scheduler: str | None = None,
    partitions: str | None = None,
) -> None:
    """Run the daily job once through ``services.runs.run_daily`` (the lock, the audit row, the rules in
    force) and print its summary (shared by ``run`` and ``schedule``).

    ``config``: ``--config``; its rules become the rules in force first when they differ (see
    :func:`~stockwarden.cli.appctx.use_rules_file`). ``backend`` / ``scheduler`` say where the run's
    partitions go (default: the environment's STOCKWARDEN_EXEC_BACKEND / STOCKWARDEN_DASK_SCHEDULER, else
    this machine). ``partitions`` (a count or ``auto``) runs the job partitioned (docs/scale.md); on Dask
    it always is.
    """
    from stockwarden.cli.forecast import forecast_backend
    from stockwarden.config import Settings
    from stockwarden.services.runs import run_daily

    settings = Settings()
    lower_priority(settings.run_nice)
    # "local" is also the setting's default, so it counts as unset: a scheduler alone then means dask
    name = backend or (settings.exec_backend if settings.exec_backend != "local" else None)
    where = forecast_backend(name, scheduler or settings.dask_scheduler, None)
    count = parse_partitions(partitions)
    with cli_context(db, config=config) as (ctx, actor):
        use_rules_file(ctx, actor, config)
        report = run_daily(
            ctx,
            actor=actor,
            as_of=as_of,
            backend=where,
            partitioned=partitions is not None,
            partitions=count,
            on_partition=_progress,
        )
    table = Table(title=f"run {report.run_id} as of {report.as_of} ({report.status}, rules {report.rules_version})")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("counts")
    for step in report.steps:
        note = " (done before)" if step.is_resumed else ""
        counts = ", ".join(f"{k}={v}" for k, v in step.counts.items() if v)
        table.add_row(step.name, f"{step.seconds:.2f}", counts + note)
    console.print(table)
    c = report.counts
    if report.status == "already_completed":
        console.print(
            f"nothing new: as of {report.as_of} with this data and these rules was already run "
            f"(run {report.run_id}); since then {c.get('alerts_escalated', 0)} escalated; messages: "
            f"{c.get('messages_enqueued', 0)} queued, {c.get('messages_sent', 0)} sent",
            highlight=False,
        )
    else:
        console.print(
            f"alerts: {c.get('alerts_opened', 0)} opened, {c.get('alerts_updated', 0)} updated, "
            f"{c.get('alerts_resolved', 0)} resolved, {c.get('alerts_escalated', 0)} escalated; "
            f"messages: {c.get('messages_enqueued', 0)} queued, {c.get('messages_sent', 0)} sent, "
            f"{c.get('messages_retrying', 0)} to retry, {c.get('messages_dead', 0)} dead",
            highlight=False,
        )
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def lower_priority(increment: int) -> None:
    """Lower this process's CPU priority by ``increment`` (Unix nice; once per process: a scheduler that
    runs every day does not sink further each time). The daily run is batch work; the API and the web app
    answer people and go first. Where priorities cannot be changed, nothing happens."""
    if increment <= 0 or _NICED:
        return
    try:
        os.nice(increment)
    except (AttributeError, OSError):  # not Unix, or not permitted
        return
    _NICED.append(increment)


_NICED: list[int] = []


def parse_partitions(value: str | None) -> int | None:
    """``--partitions``: a whole number >= 1, ``auto`` (about 10,000 SKU-locations each) or not given (None).

    Raises:
        ConfigError: naming the option when the value is neither.
    """
    if value is None or value.strip().lower() == "auto":
        return None
    try:
        count = int(value.strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError(f"--partitions {value!r} is neither a whole number of partitions (1 or more) nor 'auto'")
    return count


def _progress(outcome: Any) -> None:
    """One line per finished partition (stderr), so a long run shows where it is."""
    took = sum(outcome.seconds.values())
    note = " (done before)" if outcome.is_resumed else f" in {took:.1f} s on {outcome.worker}"
    err_console.print(
        f"partition {outcome.partition + 1}: {outcome.assessed:,} SKU-locations assessed{note}", highlight=False
    )


@app.command("run")
@guarded
def run_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="assessment date YYYY-MM-DD (default: last data day)")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="where the run's partitions run: local or dask (default: STOCKWARDEN_EXEC_BACKEND, local)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Dask scheduler address (default: STOCKWARDEN_DASK_SCHEDULER, a local cluster)"
        ),
    ] = None,
    partitions: Annotated[
        str | None,
        typer.Option(
            "--partitions",
            help="run in partitions that each load only their rows: a count, or auto (10,000 SKU-locations "
            "each); default: unpartitioned, or auto with --backend dask",
        ),
    ] = None,
) -> None:
    """Run the daily job: health, forecasts, anomalies, risk, alerts, order proposals, notifications."""
    day = parse_date(as_of, option="--as-of")
    try:
        execute_run(db, config, day, backend=backend, scheduler=scheduler, partitions=partitions)
    except StockwardenError:
        raise
    except Exception as exc:  # the daily job's boundary: one line, never a traceback
        raise fail(f"run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc


@app.command("schedule")
@guarded
def schedule_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    at: Annotated[str | None, typer.Option("--at", help="HH:MM local time (default: run.daily_at)")] = None,
) -> None:
    """Run the daily job every day at a fixed time (APScheduler), then prepare the rules editor's preview;
    retry due notifications every minute."""
    scheduler = build_scheduler(db, config, at=at)
    rules = load_config(config)
    console.print(
        f"stockwarden will run daily at {at or rules.run.daily_at} ({rules.notify.timezone}); Ctrl-C to stop",
        highlight=False,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        console.print("stopped")


def build_scheduler(db: str | None, config: Path | None, *, at: str | None = None) -> Any:
    """A blocking APScheduler with two jobs: ``daily-run`` at ``at`` (or ``run.daily_at``) in
    ``notify.timezone``, and ``deliver`` (due outbox messages) every minute.

    Raises:
        ConfigError: the time or the time zone is malformed.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    from stockwarden.alerts.notify.compose import parse_clock

    rules = load_config(config)
    clock = parse_clock(at or rules.run.daily_at, what="--at")
    try:
        trigger = CronTrigger(hour=clock.hour, minute=clock.minute, timezone=rules.notify.timezone)
    except Exception as exc:  # APScheduler raises plain errors for bad time zones
        raise ConfigError(f"notify.timezone {rules.notify.timezone!r}: {exc}") from exc

    def daily() -> None:
        try:
            execute_run(db, config, None)
            prepare_preview(db)
        except Exception as exc:  # keep the scheduler alive; the run record says what failed
            err_console.print(f"[bold red]error:[/] {str(exc).splitlines()[0] if str(exc) else exc!r}")

    def deliver() -> None:
        try:
            deliver_outbox(db, config)
        except Exception as exc:  # a bad network minute must not stop the scheduler
            err_console.print(f"[bold red]error:[/] delivery: {exc}")

    scheduler = BlockingScheduler(timezone=rules.notify.timezone)
    scheduler.add_job(daily, trigger, id="daily-run", max_instances=1, coalesce=True, misfire_grace_time=3600)
    scheduler.add_job(deliver, "interval", minutes=1, id="deliver", max_instances=1, coalesce=True)
    return scheduler


def prepare_preview(db: str | None) -> None:
    """After the daily run: replay the rules in force over the recent weeks and keep it, so that the rules
    editor's preview of a draft is ready at once (``services.preview.prepare_preview``)."""
    from stockwarden.services.preview import prepare_preview as prepare

    with cli_context(db) as (ctx, actor):
        status = prepare(ctx, actor=actor)
    console.print(f"rules preview prepared: {status.total} checkpoints in {status.seconds} s", highlight=False)


def deliver_outbox(db: str | None, config: Path | None) -> int:
    """Deliver the outbox messages that are due with the channels of ``--config`` (default: the rules in
    force); returns how many were sent."""
    from stockwarden.services.outbox import deliver_due

    rules = load_config(config) if config is not None else None
    with cli_context(db) as (ctx, actor):
        report = deliver_due(ctx, actor=actor, rules=rules)
    if report.sent or report.retrying or report.dead:
        console.print(f"messages: {len(report.sent)} sent, {len(report.retrying)} to retry, {len(report.dead)} dead")
    return len(report.sent)


@app.command("runs")
@guarded
def runs_cmd(
    limit: Annotated[int, typer.Option("--limit", help="most runs shown")] = 10,
    db: DbOpt = None,
) -> None:
    """List the latest daily runs: status, attempts, rules hash and seconds per step."""
    from stockwarden.services.runs import list_runs

    with cli_context(db, read_only=True) as (ctx, actor):
        records = list_runs(ctx, actor=actor, limit=limit).items
    if not records:
        console.print("no runs yet (stockwarden run)")
        return
    table = Table()
    for col in ("run", "as of", "status", "attempts", "started (UTC)", "rules", "steps (s)", "error"):
        table.add_column(col, overflow="fold")
    for r in records:
        steps = " ".join(f"{name}={rec.seconds:.1f}" for name, rec in r.steps.items())
        table.add_row(
            str(r.run_id),
            r.as_of.isoformat(),
            r.status,
            str(r.attempts),
            f"{r.started_at:%Y-%m-%d %H:%M}",
            r.rules_version,
            steps,
            r.error or "",
        )
    console.print(table)
