"""Stored assessments of runs: write a run's frame, read one back (a run id or the latest complete run).

Repositories take a session or engine and never commit: the daily run writes a run's assessments in
the same transaction as its ``assessments`` step record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stockwarden.domain.risk import ALL_ASSESSMENT_COLUMNS, ASSESSMENT_COLUMNS, ASSESSMENT_KINDS, EXTRA_COLUMNS
from stockwarden.errors import StoreError
from stockwarden.store import bulk
from stockwarden.store.alerts import RunRow
from stockwarden.store.assessments import assessments

LATEST = "latest"


def save_assessments(session: Session, run_id: int, frame: pd.DataFrame) -> int:
    """Store ``frame`` as the assessments of ``run_id``: every column of :data:`ALL_ASSESSMENT_COLUMNS`
    (the contract columns are required; an explanation column a frame lacks is stored empty).

    A run that is resumed writes its rows again: earlier rows of the same run are replaced.

    Returns:
        The number of rows stored.
    """
    missing = [c for c in ASSESSMENT_COLUMNS if c not in frame.columns]
    if missing:
        raise StoreError(f"the assessment to store lacks the columns {', '.join(missing)}")
    session.execute(sa.delete(assessments).where(assessments.c.run_id == run_id))
    out = frame.reindex(columns=list(ALL_ASSESSMENT_COLUMNS))
    for c in EXTRA_COLUMNS:
        if c not in frame.columns and ASSESSMENT_KINDS[c] == "int":
            out[c] = 0
    for c, kind in ASSESSMENT_KINDS.items():
        if kind == "text":
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        elif kind == "date":
            out[c] = pd.to_datetime(out[c])
        elif kind == "int":
            out[c] = out[c].astype(np.int64)
        else:
            out[c] = out[c].astype(float)
    bulk.write_frame(
        session.connection(), "assessments", out, ["run_id", *ALL_ASSESSMENT_COLUMNS], constants={"run_id": run_id}
    )
    return len(out)


def latest_assessed_run(session: Session) -> int | None:
    """The newest completed run that stored assessments (readers never see a run still in progress)."""
    has_rows = sa.exists().where(assessments.c.run_id == RunRow.id)
    return session.scalar(sa.select(sa.func.max(RunRow.id)).where(RunRow.status == "completed", has_rows))


def resolve_run(session: Session, run: int | str | None) -> int:
    """The run id meant by ``run`` (an id, ``"latest"`` or None for the latest).

    Raises:
        StoreError: no such run, or no run has stored assessments yet.
    """
    if run is None or (isinstance(run, str) and run.strip().lower() == LATEST):
        found = latest_assessed_run(session)
        if found is None:
            raise StoreError("no completed run has stored assessments yet; run `stockwarden run` first")
        return found
    try:
        run_id = int(run)
    except (TypeError, ValueError):
        raise StoreError(f"run {run!r} is neither a run id nor 'latest'") from None
    if session.get(RunRow, run_id) is None:
        raise StoreError(f"there is no run {run_id}")
    return run_id


def load_assessments(engine: Engine, run: int | str | None = LATEST) -> tuple[int, pd.DataFrame]:
    """The stored assessments of a run, as the frame ``assess`` produced (columns, kinds, urgency order).

    Returns:
        ``(run_id, frame)``.

    Raises:
        StoreError: see :func:`resolve_run`.
    """
    from stockwarden.risk.assess import sort_by_urgency

    with Session(engine) as s:
        run_id = resolve_run(s, run)
        query = sa.select(*(assessments.c[c] for c in ALL_ASSESSMENT_COLUMNS)).where(assessments.c.run_id == run_id)
        frame = pd.DataFrame(s.execute(query).all(), columns=list(ALL_ASSESSMENT_COLUMNS))
    return run_id, sort_by_urgency(typed(frame))


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Database values as the assessment's column kinds (dates as timestamps, missing text as None)."""
    out = frame.copy()
    for c, kind in ASSESSMENT_KINDS.items():
        if kind == "date":
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        elif kind == "int":
            out[c] = pd.to_numeric(out[c]).astype(np.int64)
        elif kind == "float":
            out[c] = pd.to_numeric(out[c]).astype(float)
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out
