"""Run records: one per (as_of, data fingerprint, rules hash), with its completed steps.

A step's effects and its ``run_steps`` row are committed in one transaction, so after a kill the
steps recorded are exactly the steps whose effects are in the database; the next run with the same
key resumes after them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.store.alert_repo import utc
from stockwarden.store.alerts import RunRow, RunStepRow

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A completed step: when, how long, and its counts."""

    name: str
    started_at: dt.datetime
    finished_at: dt.datetime
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as stored."""

    run_id: int
    run_key: str
    as_of: dt.date
    data_hash: str
    rules_version: str
    status: str
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    counts: dict[str, int]
    steps: dict[str, StepRecord]


def make_run_key(as_of: dt.date, data_hash: str, rules_version: str) -> str:
    """The identity of a run: the same date, data and rules make the same run."""
    return f"{as_of.isoformat()}:{data_hash}:{rules_version}"


def start_run(
    session: Session, *, as_of: dt.date, data_hash: str, rules_version: str, now: dt.datetime
) -> tuple[RunRecord, bool]:
    """Find the run with this key or create it.

    Returns:
        The run (status ``running`` unless it had completed) and whether it had completed before.
    """
    key = make_run_key(as_of, data_hash, rules_version)
    row = session.scalars(sa.select(RunRow).where(RunRow.run_key == key)).one_or_none()
    if row is None:
        row = RunRow(
            run_key=key,
            as_of=as_of,
            data_hash=data_hash,
            rules_version=rules_version,
            status=RUNNING,
            attempts=1,
            started_at=utc(now),
            counts_json="{}",
        )
        session.add(row)
        session.flush()
        return get_run(session, row.id), False
    if row.status == COMPLETED:
        return get_run(session, row.id), True
    row.status, row.attempts, row.error = RUNNING, row.attempts + 1, None
    session.flush()
    return get_run(session, row.id), False


def record_step(
    session: Session,
    run_id: int,
    name: str,
    *,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    counts: dict[str, int],
) -> None:
    """Mark a step done (call inside the step's own transaction)."""
    session.merge(
        RunStepRow(
            run_id=run_id,
            name=name,
            started_at=utc(started_at),
            finished_at=utc(finished_at),
            seconds=(finished_at - started_at).total_seconds(),
            counts_json=json.dumps(counts),
        )
    )
    session.flush()


def finish_run(
    session: Session, run_id: int, *, status: str, now: dt.datetime, counts: dict[str, int], error: str | None = None
) -> None:
    """Close a run as completed or failed, with its counts.

    When an overlapping attempt of the same run completed it first, that record stands: a later attempt
    found the work done and did nothing, so its counts must not replace the ones of the attempt that did it.
    """
    row = session.get_one(RunRow, run_id)
    if row.status == COMPLETED:
        return
    row.status, row.finished_at, row.error = status, utc(now), error
    row.counts_json = json.dumps(counts, sort_keys=True)
    session.flush()


def get_run(session: Session, run_id: int) -> RunRecord:
    """One run with its steps."""
    row = session.get_one(RunRow, run_id)
    steps = {
        s.name: StepRecord(
            name=s.name,
            started_at=utc(s.started_at),
            finished_at=utc(s.finished_at),
            seconds=s.seconds,
            counts=json.loads(s.counts_json),
        )
        for s in session.scalars(
            sa.select(RunStepRow).where(RunStepRow.run_id == run_id).order_by(RunStepRow.started_at)
        )
    }
    return RunRecord(
        run_id=row.id,
        run_key=row.run_key,
        as_of=row.as_of,
        data_hash=row.data_hash,
        rules_version=row.rules_version,
        status=row.status,
        attempts=row.attempts,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at) if row.finished_at else None,
        error=row.error,
        counts=json.loads(row.counts_json),
        steps=steps,
    )


def list_runs(session: Session, *, limit: int = 20) -> list[RunRecord]:
    """The latest runs, newest first."""
    ids = session.scalars(sa.select(RunRow.id).order_by(RunRow.id.desc()).limit(limit)).all()
    return [get_run(session, i) for i in ids]
