"""Use-cases of the daily run: run it (one at a time), start it in the background, follow its progress,
list the history with step timings.

**One run at a time.** A run holds the ``daily-run`` lock (table ``run_locks``) with a lease of
:data:`LEASE` that is renewed after every step; a second start while the lease is live is refused with
``Conflict`` (409). A crashed run stops renewing, so its lease expires and the next start takes over.
**Readers see the last complete run**: assessments are read from the newest *completed* run.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import Conflict, NotFound
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.store.app_tables import RunLockRow
from stockwarden.store.runs import RunRecord
from stockwarden.store.user_repo import utc

LOCK_NAME = "daily-run"
LEASE = dt.timedelta(minutes=30)


def acquire_lock(ctx: AppContext, *, holder: str, lease: dt.timedelta = LEASE) -> None:
    """Take the daily-run lock, or take it over when the holder's lease has expired.

    Raises:
        Conflict: another run holds a live lease.
    """
    now = ctx.now()
    with session_scope(ctx) as s:
        taken = s.execute(  # type: ignore[attr-defined]
            sa.update(RunLockRow)
            .where(RunLockRow.name == LOCK_NAME, RunLockRow.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=now + lease)
        ).rowcount
        if taken:
            return
        row = s.get(RunLockRow, LOCK_NAME)
        if row is not None:
            until = utc(row.expires_at)
            raise Conflict(
                f"a daily run is already going ({row.holder}, since {utc(row.acquired_at):%Y-%m-%d %H:%M} UTC); "
                f"its lease ends at {until:%H:%M} UTC unless renewed"
            )
    try:
        with session_scope(ctx) as s:
            s.add(RunLockRow(name=LOCK_NAME, holder=holder, acquired_at=now, expires_at=now + lease))
    except IntegrityError:
        raise Conflict("a daily run started at the same moment; try again later") from None


def renew_lock(ctx: AppContext, *, holder: str, lease: dt.timedelta = LEASE) -> None:
    """Extend the lease (called after each step)."""
    with session_scope(ctx) as s:
        s.execute(
            sa.update(RunLockRow)
            .where(RunLockRow.name == LOCK_NAME, RunLockRow.holder == holder)
            .values(expires_at=ctx.now() + lease)
        )


def release_lock(ctx: AppContext, *, holder: str) -> None:
    """Give the lock back (only its holder can)."""
    with session_scope(ctx) as s:
        s.execute(sa.delete(RunLockRow).where(RunLockRow.name == LOCK_NAME, RunLockRow.holder == holder))


def lock_status(ctx: AppContext) -> dict[str, Any] | None:
    """The live lock, when a run holds one."""
    with read_scope(ctx) as s:
        row = s.get(RunLockRow, LOCK_NAME)
        if row is None or utc(row.expires_at) < ctx.now():
            return None
        return {"holder": row.holder, "acquired_at": utc(row.acquired_at), "expires_at": utc(row.expires_at)}


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_large(ctx: AppContext) -> bool:
    """True when the company has more SKU-locations than ``settings.partition_above`` (0: never)."""
    if ctx.settings.partition_above <= 0:
        return False
    from stockwarden.store.partition import load_master

    skus, locations = load_master(ctx.engine)
    return len(skus) * len(locations) > ctx.settings.partition_above


def run_daily(
    ctx: AppContext,
    *,
    actor: Actor,
    as_of: dt.date | None = None,
    on_progress: Callable[[str], None] | None = None,
    backend: Any = None,
    partitioned: bool = False,
    partitions: int | None = None,
    on_partition: Callable[[Any], None] | None = None,
) -> Any:
    """Run the daily job now with the rules in force (one at a time); returns the pipeline's RunReport.

    Args:
        as_of: the assessment date (default: the last data day).
        on_progress: called with each step's name as it completes (unpartitioned run).
        backend: where the work runs: None / ``"local"`` (this process), ``"dask"`` (a private local
            cluster) or a ``DaskBackend``. Anything but local runs partitioned.
        partitioned: run in partitions that each load only their own rows (docs/scale.md); a company with
            more SKU-locations than ``settings.partition_above`` always is.
        partitions: how many partitions (default: about 10,000 SKU-locations each).
        on_partition: called with each partition's outcome as it finishes.

    Raises:
        Conflict: a run is already going. RunFailed: a step failed (the run resumes next time).
        PermissionDenied: the actor may not start runs.
    """
    from stockwarden.services.rules import current_rules

    require(actor, Permission.RUNS_START)
    version, rules = current_rules(ctx)
    is_local = backend is None or backend == "local"
    partitioned = partitioned or partitions is not None or not is_local or _is_large(ctx)
    holder = _holder()
    acquire_lock(ctx, holder=holder)
    try:
        with session_scope(ctx) as s:
            record(
                s,
                actor,
                action="run.start",
                object_type="run",
                object_id=None,
                after={
                    "as_of": as_of,
                    "rules_version": version.id,
                    "rules_hash": version.rules_hash,
                    "partitioned": partitioned,
                },
                now=ctx.now(),
            )
        if partitioned:
            from stockwarden.partitioned import run_partitioned

            def partition_done(outcome: Any) -> None:
                renew_lock(ctx, holder=holder)
                if on_partition is not None:
                    on_partition(outcome)

            return run_partitioned(
                ctx.engine,
                as_of=as_of,
                config=rules,
                now=ctx.now(),
                partitions=partitions,
                backend="local" if backend is None else backend,
                notifier=ctx.notifier,
                on_partition=partition_done,
            ).run
        from stockwarden.pipeline import run_pipeline

        def step_done(name: str) -> None:
            renew_lock(ctx, holder=holder)
            if on_progress is not None:
                on_progress(name)

        return run_pipeline(
            ctx.engine,
            as_of=as_of,
            config=rules,
            now=ctx.now(),
            notifier=ctx.notifier,
            steps=None,
            on_step_done=step_done,
        )
    finally:
        release_lock(ctx, holder=holder)


@dataclass
class RunJob:
    """A run started in the background: its state and the steps done so far."""

    job_id: str
    state: str = "starting"
    steps_done: list[str] | None = None
    run_id: int | None = None
    error: str | None = None


def start_run(ctx: AppContext, *, actor: Actor, as_of: dt.date | None = None) -> RunJob:
    """Start the daily run in a background thread; follow it with :func:`get_job` or :func:`list_runs`.

    Raises:
        Conflict: a run is already going (checked before the thread starts).
    """
    require(actor, Permission.RUNS_START)
    if lock_status(ctx) is not None:
        raise Conflict("a daily run is already going; follow it with GET /api/v1/runs")
    job = RunJob(job_id=uuid.uuid4().hex[:12], steps_done=[])
    jobs: dict[str, RunJob] = ctx.cache.setdefault("run_jobs", {})
    jobs[job.job_id] = job

    def progress(name: str) -> None:
        assert job.steps_done is not None
        job.steps_done.append(name)
        job.state = f"running ({name} done)"

    def work() -> None:
        try:
            job.state = "running"
            report = run_daily(ctx, actor=actor, as_of=as_of, on_progress=progress)
            job.run_id, job.state = report.run_id, report.status
        except Exception as exc:  # the job's boundary: recorded, never raised into the server
            job.state, job.error = "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    threading.Thread(target=work, name=f"run-{job.job_id}", daemon=True).start()
    return job


def get_job(ctx: AppContext, job_id: str, *, actor: Actor) -> RunJob:
    """A background run started by this process."""
    require(actor, Permission.READ)
    job = ctx.cache.get("run_jobs", {}).get(job_id)
    if job is None:
        raise NotFound(f"run job {job_id!r} is not known to this server")
    return job  # type: ignore[no-any-return]


def list_runs(ctx: AppContext, *, actor: Actor, limit: int = 20, offset: int = 0) -> Page[RunRecord]:
    """Runs, newest first, with their steps and timings."""
    from stockwarden.store.alerts import RunRow
    from stockwarden.store.runs import get_run

    require(actor, Permission.READ)
    check_page(limit, offset)
    with read_scope(ctx) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(RunRow)) or 0
        ids = s.scalars(sa.select(RunRow.id).order_by(RunRow.id.desc()).limit(limit).offset(offset)).all()
        return Page([get_run(s, i) for i in ids], int(total))


def get_run(ctx: AppContext, run_id: int, *, actor: Actor) -> RunRecord:
    """One run with its steps (progress while it runs)."""
    from stockwarden.store.alerts import RunRow
    from stockwarden.store.runs import get_run as _get

    require(actor, Permission.READ)
    with read_scope(ctx) as s:
        if s.get(RunRow, run_id) is None:
            raise NotFound(f"run {run_id} does not exist")
        return _get(s, run_id)


__all__ = [
    "LEASE",
    "RunJob",
    "RunRecord",
    "acquire_lock",
    "get_job",
    "get_run",
    "list_runs",
    "lock_status",
    "release_lock",
    "renew_lock",
    "run_daily",
    "start_run",
]
