"""Runs: start one (in the background; one at a time), follow its progress, history with step timings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import ListOf, RunPublic, RunStarted, RunStartIn, RunStepPublic
from stockwarden.services import runs
from stockwarden.services.runs import RunRecord

router = APIRouter(tags=["runs"])


def run_public(r: RunRecord) -> RunPublic:
    """The API form of a run."""
    return RunPublic(
        run_id=r.run_id,
        as_of=r.as_of,
        status=r.status,
        attempts=r.attempts,
        started_at=r.started_at,
        finished_at=r.finished_at,
        rules_version=r.rules_version,
        error=r.error,
        counts=r.counts,
        steps=[
            RunStepPublic(
                name=s.name, started_at=s.started_at, finished_at=s.finished_at, seconds=s.seconds, counts=s.counts
            )
            for s in r.steps.values()
        ],
    )


@router.get("/runs", response_model=ListOf[RunPublic])
def list_runs(
    ctx: Ctx,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ListOf[RunPublic]:
    """Runs, newest first, with steps and timings (a running run shows the steps done so far)."""
    page = runs.list_runs(ctx, actor=actor, limit=limit, offset=offset)
    return ListOf(items=[run_public(r) for r in page.items], total=page.total)


@router.post("/runs", response_model=RunStarted, status_code=202)
def start_run(ctx: Ctx, actor: CurrentActor, body: RunStartIn | None = None) -> RunStarted:
    """Start the daily run in the background (409 while one is going)."""
    job = runs.start_run(ctx, actor=actor, as_of=(body or RunStartIn()).as_of)
    return RunStarted(job_id=job.job_id, state=job.state, follow="/api/v1/runs?limit=1")


@router.get("/runs/{run_id}", response_model=RunPublic)
def get_run(run_id: int, ctx: Ctx, actor: CurrentActor) -> RunPublic:
    """One run with its steps."""
    return run_public(runs.get_run(ctx, run_id, actor=actor))
