"""Results of the partitions of a partitioned daily run, one row per (run key, partition plan, partition).

A partition writes its row when it has assessed its SKU-locations; the row is the checkpoint of the
run: a run that dies in partition *k* finds the rows of the partitions before (and any other finished
one) and resumes with the rest. The assessment frame of the partition is stored as parquet bytes
(typed, compact: about 100 bytes per SKU-location), so the company-wide steps read back exactly what
the partition computed. Rows of a plan are written once: a partition retried after its row was
committed (a worker lost after writing) finds the row and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.store.base import Base
from stockwarden.store.tables import ID_TYPE


class PartitionResultRow(Base):
    """One finished partition of a run."""

    __tablename__ = "run_partitions"
    __table_args__ = (sa.UniqueConstraint("run_key", "plan", "partition", name="uq_run_partitions_key"),)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(sa.String(120))
    plan: Mapped[str] = mapped_column(sa.String(40))
    partition: Mapped[int] = mapped_column(sa.Integer)
    n_series: Mapped[int] = mapped_column(sa.Integer)
    assessed: Mapped[int] = mapped_column(sa.Integer)
    anomalies: Mapped[int] = mapped_column(sa.Integer)
    assessment: Mapped[bytes] = mapped_column(sa.LargeBinary)
    warnings_json: Mapped[str] = mapped_column(sa.Text)
    seconds_json: Mapped[str] = mapped_column(sa.Text)
    worker: Mapped[str] = mapped_column(sa.Text)
    finished_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


RUN_PARTITIONS = cast(sa.Table, PartitionResultRow.__table__)


@dataclass(frozen=True, slots=True)
class PartitionOutcome:
    """What one partition did (the frame itself stays in the database until the company-wide steps).

    Attributes:
        partition: 0-based index in the plan.
        n_series: SKU-locations in the partition (plan's upper bound).
        assessed: rows of its assessment.
        anomalies: anomalies found in it (company-wide supplier anomalies not counted).
        warnings: data-health warnings of its rows.
        seconds: wall time per step (``load``, ``health``, ``forecast``, ``anomalies``, ``assess``, ``write``).
        cpu_seconds: processor time per step (user + system, of the process and of the forecast's child
            processes): what the step costs, less moved by other work on a shared machine (not stored).
        worker: where it ran (host:pid, or the Dask worker address).
        is_resumed: an earlier attempt had finished it; nothing was recomputed.
    """

    partition: int
    n_series: int
    assessed: int
    anomalies: int
    warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    is_resumed: bool = False
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as parquet bytes (dtypes kept)."""
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False)
    return buf.getvalue()


def bytes_frame(data: bytes) -> pd.DataFrame:
    """The frame :func:`frame_bytes` wrote."""
    return pd.read_parquet(io.BytesIO(data))


def get_outcome(conn: Connection, *, run_key: str, plan: str, partition: int) -> PartitionOutcome | None:
    """The stored outcome of a partition, or None when it has not finished."""
    t = RUN_PARTITIONS
    row = conn.execute(
        sa.select(
            t.c.partition, t.c.n_series, t.c.assessed, t.c.anomalies, t.c.warnings_json, t.c.seconds_json, t.c.worker
        ).where(t.c.run_key == run_key, t.c.plan == plan, t.c.partition == partition)
    ).first()
    if row is None:
        return None
    return PartitionOutcome(
        partition=row.partition,
        n_series=row.n_series,
        assessed=row.assessed,
        anomalies=row.anomalies,
        warnings=tuple(json.loads(row.warnings_json)),
        seconds=json.loads(row.seconds_json),
        worker=row.worker,
        is_resumed=True,
    )


def record_outcome(
    conn: Connection, *, run_key: str, plan: str, outcome: PartitionOutcome, assessment: pd.DataFrame, now: dt.datetime
) -> bool:
    """Store a finished partition; False (and nothing written) when its row is already there."""
    if get_outcome(conn, run_key=run_key, plan=plan, partition=outcome.partition) is not None:
        return False
    conn.execute(
        RUN_PARTITIONS.insert().values(
            run_key=run_key,
            plan=plan,
            partition=outcome.partition,
            n_series=outcome.n_series,
            assessed=outcome.assessed,
            anomalies=outcome.anomalies,
            assessment=frame_bytes(assessment),
            warnings_json=json.dumps(list(outcome.warnings)),
            seconds_json=json.dumps(outcome.seconds),
            worker=outcome.worker,
            finished_at=now,
        )
    )
    return True


def read_assessments(conn: Connection, *, run_key: str, plan: str) -> list[pd.DataFrame]:
    """The stored assessment frames of a plan's partitions, in partition order."""
    t = RUN_PARTITIONS
    rows = conn.execute(
        sa.select(t.c.assessment).where(t.c.run_key == run_key, t.c.plan == plan).order_by(t.c.partition)
    )
    return [bytes_frame(r.assessment) for r in rows]


__all__ = [
    "RUN_PARTITIONS",
    "PartitionOutcome",
    "PartitionResultRow",
    "bytes_frame",
    "frame_bytes",
    "get_outcome",
    "read_assessments",
    "record_outcome",
]
