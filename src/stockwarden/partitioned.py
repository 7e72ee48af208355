"""The partitioned daily run: memory bounded by a partition, not the company; on one machine or a Dask cluster.

``run_partitioned`` runs the same daily job as :func:`stockwarden.pipeline.run_pipeline`, cut in
partitions (``store.partition.plan_partitions``: whole locations, or hashed SKUs at every location)::

    company view (items, suppliers, POs, promotions; no sales or counts)
        -> lead times, supplier anomalies                        (company-wide, once)
    partition k = 1..n (in this process, or on Dask workers):
        load its rows -> data health -> forecast -> its anomalies -> assess   (risk.daily, as the run)
        -> its row in run_partitions (the checkpoint, assessment as parquet bytes)
    all partitions' assessments (compact: one row per SKU-location)
        -> the run's effect steps (assessments, alerts, proposals per supplier and PO, budgets,
           notifications, digests) exactly as the unpartitioned run does them

**Same results.** Supplier-level work (lead times, lead-time drift, unreliable suppliers, short
deliveries) is done once over the whole company; every per-series step sees exactly the rows the
unpartitioned run gives that series; the Monte Carlo uses common random numbers per row. So the
assessment equals the unpartitioned run's wherever the forecast of a series does not depend on the
other series: in ``stats`` mode. The LightGBM parts of ``fast`` and ``auto`` are global models trained
across the series of a partition (docs/scale.md, "What is global becomes global per partition").

**Resumable.** A partition's row is committed when it is done; a run that dies in partition *k*
(process killed, worker lost, database gone) is run again with the same command and date: the run key
(date, data fingerprint from the import digests, rules) is the same, the finished partitions are read
back, and the work resumes at the first unfinished one. The effect steps then run once, as in the
unpartitioned run (each commits with its step record), so nothing is lost or duplicated.

**On Dask** (``backend="dask"``): each partition is one task; workers read their rows from and write
their row to the shared database directly (the partition's assessment is small, but the rows it reads
are not: shipping them through the scheduler would cost more than reading them where they are used).
A task whose worker dies is re-run on another worker (Dask reschedules it; a partition's row is written
once, so a partition that finished before its worker died is not written twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import structlog
from sqlalchemy import Engine

from stockwarden.alerts.notify.base import Notifier
from stockwarden.config import RulesConfig
from stockwarden.errors import StockwardenError, StoreError
from stockwarden.ingest.dataset import Dataset
from stockwarden.pipeline import PipelineSteps, RunReport, run_pipeline
from stockwarden.store.db import make_engine
from stockwarden.store.partition import (
    Partition,
    last_date,
    load_company,
    load_master,
    load_partition,
    plan_partitions,
    store_fingerprint,
)
from stockwarden.store.partition_results import PartitionOutcome, get_outcome, read_assessments, record_outcome
from stockwarden.store.runs import make_run_key

log = structlog.get_logger(__name__)

SUPPLY_KINDS = frozenset({"short_delivery", "lead_time_drift", "supplier_unreliable"})
SUPPLIER_LEVEL = frozenset({"lead_time_drift", "supplier_unreliable"})  # records about a whole supplier
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}

# on_partition(outcome): called as each partition finishes (progress lines, fault injection in tests).
OnPartition = Callable[[PartitionOutcome], None]


@dataclass(frozen=True)
class PartitionJob:
    """What a partition needs (sent to a Dask worker as is: plain values, no connection).

    Attributes:
        db_url: the database, password included (workers connect themselves).
        part: the partition.
        plan: identity of the plan (partition count and shape), part of the checkpoint key.
        run_key: the run key (date, data fingerprint, rules).
        as_of: the assessment date.
        rules: the rules.
        lead_times: the company-wide lead-time model.
        supplier_anomalies: the company-wide supplier-level anomalies.
        exported: orders stockwarden exported, as open POs (merged like the unpartitioned run does).
        on_start: called with the job as the partition starts, where it runs (fault injection in tests;
            must be picklable for Dask).
    """

    db_url: str
    part: Partition
    plan: str
    run_key: str
    as_of: dt.date
    rules: RulesConfig
    lead_times: Any
    supplier_anomalies: pd.DataFrame
    exported: pd.DataFrame
    on_start: Callable[[PartitionJob], None] | None = None


@dataclass(frozen=True)
class PartitionedReport:
    """A partitioned run: the run's report, each partition's outcome, and the company-wide step times."""

    run: RunReport
    partitions: tuple[PartitionOutcome, ...]
    seconds: dict[str, float] = field(default_factory=dict)


def run_partitioned(
    engine: Engine,
    *,
    as_of: dt.date | None,
    config: RulesConfig,
    now: dt.datetime,
    partitions: int | None = None,
    max_series: int | None = None,
    backend: Any = "local",
    notifier: Notifier | None = None,
    on_partition: OnPartition | None = None,
    on_start: Callable[[PartitionJob], None] | None = None,
) -> PartitionedReport:
    """Run the daily job partition by partition (see the module docstring).

    Args:
        engine: a database at the newest schema, with imported data.
        as_of: the assessment date; None means the last date in the data.
        config: the rules.
        now: the wall-clock time (timezone-aware).
        partitions: how many partitions (default: about ``max_series`` SKU-locations each).
        max_series: SKU-locations per partition when ``partitions`` is not given (default 10,000).
        backend: ``"local"`` (partitions one after the other in this process), ``"dask"`` (a private
            local cluster) or a :class:`~stockwarden.forecast.distributed.DaskBackend`.
        notifier: how messages are sent (default: apprise).
        on_partition: called with each partition's outcome as it finishes.
        on_start: called as each partition starts, where it runs (see :class:`PartitionJob`).

    Returns:
        The run report and the partitions' outcomes.

    Raises:
        RunFailed: an effect step failed (the run resumes after it).
        StockwardenError: the data cannot be loaded, or a partition failed (the run resumes at it).
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    day = as_of if as_of is not None else last_date(engine)
    if day is None:
        raise StockwardenError("the database holds no dated rows; give --as-of or import sales first")
    skus, locations = load_master(engine)
    plan = plan_partitions(skus, locations, partitions=partitions, max_series=max_series)
    plan_id = _plan_id(plan)
    company, exported = _company_view(engine, day)
    data_hash = _fingerprint(store_fingerprint(engine, day), exported)
    run_key = make_run_key(day, data_hash, config.version())
    seconds["company_load"] = time.perf_counter() - t0
    if _is_completed(engine, run_key):
        # Same date, data and rules: the pipeline only applies the passing of time and delivers.
        steps = PipelineSteps(load=lambda _engine, _as_of: (company, day), fingerprint=lambda _ds: data_hash)
        report = run_pipeline(engine, as_of=day, config=config, now=now, notifier=notifier, steps=steps)
        return PartitionedReport(run=report, partitions=(), seconds=seconds)

    started = time.perf_counter()
    from stockwarden.risk.daily import lead_times_for

    lead_times = lead_times_for(company, as_of=pd.Timestamp(day), rules=config)
    seconds["leadtimes"] = time.perf_counter() - started
    started = time.perf_counter()
    supplier_anomalies = _supplier_anomalies(company, day=day, rules=config)
    seconds["supplier_anomalies"] = time.perf_counter() - started

    jobs = [
        PartitionJob(
            db_url=engine.url.render_as_string(hide_password=False),
            part=p,
            plan=plan_id,
            run_key=run_key,
            as_of=day,
            rules=config,
            lead_times=lead_times,
            supplier_anomalies=supplier_anomalies,
            exported=exported,
            on_start=on_start,
        )
        for p in plan
    ]
    started = time.perf_counter()
    outcomes = _run_jobs(jobs, backend=backend, on_partition=on_partition)
    seconds["partitions"] = time.perf_counter() - started

    started = time.perf_counter()
    from stockwarden.risk.assess import sort_by_urgency

    with engine.connect() as conn:
        frames = read_assessments(conn, run_key=run_key, plan=plan_id)
    assessment = sort_by_urgency(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    seconds["gather"] = time.perf_counter() - started
    warnings = sorted({w for o in outcomes for w in o.warnings})
    n_anomalies = sum(o.anomalies for o in outcomes) + len(supplier_anomalies)

    kept = _forecasts_kept(engine, day)
    steps = PipelineSteps(
        load=lambda _engine, _as_of: (company, day),
        fingerprint=lambda _ds: data_hash,
        keep_forecast=lambda _conn, _fc, _day: kept,  # each partition kept its own (assess_partition)
        health=lambda _ds, **_kw: warnings,
        forecast=lambda _ds, **_kw: _Forecasted(sum(o.assessed for o in outcomes)),
        lead_times=lambda _ds, **_kw: lead_times,
        anomalies=lambda _ds, **_kw: _Counted(n_anomalies),
        assess=lambda _ds, **_kw: assessment,
    )
    report = run_pipeline(engine, as_of=day, config=config, now=now, notifier=notifier, steps=steps)
    return PartitionedReport(run=report, partitions=tuple(outcomes), seconds=seconds)


class _Forecasted:
    """Stands for the partitions' forecasts in the run's step report (``series`` counts them)."""

    def __init__(self, n: int) -> None:
        self.series = range(n)


class _Counted(list[None]):
    """Stands for the anomaly frame in the run's step report (its length is the count)."""

    def __init__(self, n: int) -> None:
        super().__init__([None] * n)


def _forecasts_kept(engine: Engine, day: dt.date) -> int:
    """The forecasts the partitions kept for ``day`` (resumed partitions' included)."""
    import sqlalchemy as sa

    from stockwarden.store.quality import forecast_snapshots

    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(forecast_snapshots.c.as_of == day)).scalar() or 0)


def _is_completed(engine: Engine, run_key: str) -> bool:
    from sqlalchemy import select

    from stockwarden.store.alerts import RunRow
    from stockwarden.store.runs import COMPLETED

    with engine.connect() as conn:
        status = conn.execute(select(RunRow.status).where(RunRow.run_key == run_key)).scalar()
    return status == COMPLETED


def _fingerprint(stored: str, exported: pd.DataFrame) -> str:
    """The data fingerprint of the run key: the import digests, and the orders stockwarden exported."""
    if exported.empty:
        return stored
    rows = pd.util.hash_pandas_object(exported.reset_index(drop=True), index=False).to_numpy().tobytes()
    return hashlib.sha256(stored.encode() + rows).hexdigest()[:16]


def _plan_id(plan: list[Partition]) -> str:
    shape = "sku" if plan and plan[0].skus is not None else "loc"
    return f"{len(plan)}:{shape}"


def _company_view(engine: Engine, day: dt.date) -> tuple[Dataset, pd.DataFrame]:
    from stockwarden.actions.export import merge_exported_orders
    from stockwarden.store.order_repo import exported_orders_as_pos

    exported = exported_orders_as_pos(engine, as_of=day)
    company = merge_exported_orders(load_company(engine), exported)
    return company.as_of(pd.Timestamp(day)), exported


def _supplier_anomalies(company: Dataset, *, day: dt.date, rules: RulesConfig) -> pd.DataFrame:
    """The company's supply anomalies; a supplier-level record's ``affected`` lists the SKU-locations of the
    supplier's POs only: each partition adds its own SKU-locations of the supplier's items
    (:func:`_localise`). So no company-wide list of SKU-locations (a ``DISTINCT`` over every sale and count)
    is needed, and a partition does not walk every SKU-location of a large supplier."""
    from stockwarden.anomaly.detect import detect_anomalies

    no_keys = pd.DataFrame({"sku": pd.Series(dtype=object), "location_id": pd.Series(dtype=object)})
    return detect_anomalies(company, as_of=pd.Timestamp(day), rules=rules, kinds=SUPPLY_KINDS, series_keys=no_keys)


def _localise(supplier: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """The company's supply anomalies as the partition ``ds`` sees them: a supplier-level record reaches the
    partition's SKU-locations bought from the supplier (its POs and its items), exactly the part of the
    unpartitioned run's ``affected`` list that the partition assesses."""
    from stockwarden.anomaly.records import join_keys
    from stockwarden.anomaly.supply import supplier_keys

    level = supplier["kind"].isin(SUPPLIER_LEVEL).to_numpy() if len(supplier) else None
    if level is None or not level.any():
        return supplier
    keys = supplier_keys(ds)
    out = supplier.copy()
    out.loc[level, "affected"] = [join_keys(keys.get(sup, [])) for sup in out.loc[level, "supplier_id"]]
    return out


def assess_partition(
    job: PartitionJob, *, n_jobs: int | None = None, loaded: Dataset | None = None
) -> PartitionOutcome:
    """Load, assess and record one partition (in this process or on a Dask worker); idempotent.

    ``n_jobs``: forecast threads/processes (default all cores; 1 on a Dask worker).
    ``loaded``: the partition's rows when they were read ahead (:func:`_read_ahead`); read here otherwise.

    Raises:
        StoreError: when the database cannot be read or written.
    """
    engine = _engine(job.db_url)
    with engine.connect() as conn:
        done = get_outcome(conn, run_key=job.run_key, plan=job.plan, partition=job.part.index)
    if done is not None:
        return done
    if job.on_start is not None:
        job.on_start(job)
    from stockwarden.actions.export import merge_exported_orders
    from stockwarden.anomaly.detect import detect_anomalies
    from stockwarden.ingest.health import Severity, check_health
    from stockwarden.risk.daily import assess_frame, forecast_for

    clock = _StepClock()
    day = pd.Timestamp(job.as_of)
    ds = loaded if loaded is not None else load_partition(engine, job.part)
    ds = merge_exported_orders(ds, _own(job.exported, job.part)).as_of(day)
    clock.lap("load")
    health = check_health(ds, as_of=day, rules=job.rules.health)
    warnings = tuple(w.message for w in health.warnings if w.severity is Severity.WARNING)
    clock.lap("health")
    forecast = forecast_for(ds, as_of=day, rules=job.rules, n_jobs=n_jobs)
    clock.lap("forecast")
    own = detect_anomalies(ds, as_of=day, forecast=forecast, rules=job.rules, kinds=_partition_kinds())
    anomalies = _merge_anomalies(own, _localise(job.supplier_anomalies, ds))
    clock.lap("anomalies")
    # exactly the unpartitioned run's assess step (pipeline._assess), on the partition's rows
    assessment = assess_frame(
        ds, as_of=day, forecast=forecast, lead_times=job.lead_times, anomalies=anomalies, rules=job.rules
    )
    clock.lap("assess")
    outcome = PartitionOutcome(
        partition=job.part.index,
        n_series=job.part.n_series,
        assessed=len(assessment),
        anomalies=len(own),
        warnings=warnings,
        seconds=clock.wall,
        worker=_worker_name(),
        cpu_seconds=clock.cpu,
    )
    from stockwarden.store.quality import keep_forecast

    with engine.begin() as conn:  # the partition's results and its kept forecast, together or not at all
        recorded = record_outcome(
            conn,
            run_key=job.run_key,
            plan=job.plan,
            outcome=outcome,
            assessment=assessment,
            now=dt.datetime.now(dt.UTC),
        )
        if recorded:  # scored once the actuals arrive (stockwarden quality), as the unpartitioned run's
            keep_forecast(conn, forecast, as_of=job.as_of, locations=job.part.locations, skus=job.part.skus)
    clock.lap("write")
    return outcome


class _StepClock:
    """Wall and processor seconds per step (processor: this process and its finished child processes)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._t, self._c = time.perf_counter(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def lap(self, name: str) -> None:
        t, c = time.perf_counter(), self._cpu()
        self.wall[name] = round(t - self._t, 3)
        self.cpu[name] = round(c - self._c, 3)
        self._t, self._c = t, c


def _partition_kinds() -> frozenset[str]:
    from stockwarden.domain.supply import AnomalyKind

    return frozenset(k.value for k in AnomalyKind) - SUPPLY_KINDS


def _merge_anomalies(own: pd.DataFrame, supplier: pd.DataFrame) -> pd.DataFrame:
    """The partition's anomalies and the company's supplier anomalies, in ``detect_anomalies`` order."""
    frames = [f for f in (own, supplier) if len(f)]
    if not frames:
        return own
    both = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return (
        both.assign(_o=both["severity"].map(_SEVERITY_RANK))
        .sort_values(
            ["_o", "kind", "supplier_id", "sku", "location_id", "po_id", "detected_on"],
            kind="stable",
            na_position="first",
        )
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _own(exported: pd.DataFrame, part: Partition) -> pd.DataFrame:
    if exported.empty:
        return exported
    keep = exported["location_id"].isin(part.locations)
    if part.skus is not None:
        keep &= exported["sku"].isin(part.skus)
    return exported.loc[keep]


_ENGINES: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    """One engine per database and process (a Dask worker runs many partitions)."""
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _run_jobs(jobs: list[PartitionJob], *, backend: Any, on_partition: OnPartition | None) -> list[PartitionOutcome]:
    note = on_partition or (lambda _o: None)
    if backend in (None, "local"):
        outcomes = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as reader:
            ahead = reader.submit(_read_ahead, jobs[0]) if jobs else None
            for k, job in enumerate(jobs):
                try:
                    loaded = ahead.result() if ahead is not None else None
                    ahead = reader.submit(_read_ahead, jobs[k + 1]) if k + 1 < len(jobs) else None
                    outcome = assess_partition(job, loaded=loaded)
                except StockwardenError as exc:
                    raise StockwardenError(f"partition {job.part.label} failed: {exc}") from exc
                note(outcome)
                outcomes.append(outcome)
        return outcomes
    return _run_on_dask(jobs, backend=backend, note=note)


def _read_ahead(job: PartitionJob) -> Dataset | None:
    """The partition's rows, read in a background thread while the previous partition computes (the
    database works on its own core meanwhile); None when the partition is already recorded (a resumed run).

    Raises:
        StoreError: when the database cannot be read (raised where the partition is then assessed).
    """
    engine = _engine(job.db_url)
    with engine.connect() as conn:
        if get_outcome(conn, run_key=job.run_key, plan=job.plan, partition=job.part.index) is not None:
            return None
    return load_partition(engine, job.part)


def _run_on_dask(jobs: list[PartitionJob], *, backend: Any, note: OnPartition) -> list[PartitionOutcome]:
    """Each partition as one Dask task; outcomes in partition order.

    Errors are one line: an unreachable scheduler or one without workers (from the forecast backend's
    client), a partition that keeps failing (its exception, with the partition), workers that keep
    dying on a partition (Dask retried it on other workers first), a database the workers cannot reach.
    """
    from stockwarden.forecast.distributed import DaskBackend, _import_distributed, _open_client, _worker_threads

    spec = backend if isinstance(backend, DaskBackend) else DaskBackend()
    dist = _import_distributed()
    outcomes: dict[int, PartitionOutcome] = {}
    with _open_client(spec, dist) as client:
        _worker_threads(client, timeout_s=spec.connect_timeout_s)
        # What every partition shares is sent to each worker once, not inside each of the P tasks: the
        # lead-time model alone is ~60 MB at 10,000 SKUs, and the client would hold P copies of it.
        shared = client.scatter(_Shared.of(jobs[0]), broadcast=True) if jobs else None
        futures = {
            client.submit(
                _assess_on_worker,
                _Shared.strip(job),
                shared,
                key=f"partition-{job.run_key}-{job.plan}-{job.part.index}",
                retries=1,
            ): job
            for job in jobs
        }
        try:
            for future in dist.as_completed(list(futures), loop=client.loop):
                job = futures[future]
                try:
                    outcome = future.result()
                except dist.KilledWorker as exc:
                    raise StockwardenError(
                        f"partition {job.part.label}: Dask workers died running it ({exc}); most often out of "
                        "memory: give the workers more memory or use more partitions, then run again (finished "
                        "partitions are kept)"
                    ) from exc
                except StoreError as exc:
                    raise StoreError(
                        f"partition {job.part.label} on a Dask worker: {exc}; the workers must reach the "
                        "database at the same address as this machine (use a host name, not localhost, on a "
                        "cluster)"
                    ) from exc
                except ImportError as exc:
                    raise StockwardenError(
                        f"a Dask worker cannot import stockwarden ({exc}); install the same stockwarden "
                        "version on every worker"
                    ) from exc
                except StockwardenError as exc:
                    raise StockwardenError(f"partition {job.part.label} failed: {exc}") from exc
                outcomes[job.part.index] = outcome
                note(outcome)
        except OSError as exc:  # CommClosedError and friends: the scheduler went away mid-run
            raise StockwardenError(
                f"lost the connection to the Dask cluster during the run: {exc}; run again to resume "
                "(finished partitions are kept)"
            ) from exc
    return [outcomes[j.part.index] for j in jobs]


@dataclass(frozen=True)
class _Shared:
    """The company-wide inputs every partition job of a run carries (the same objects in each)."""

    lead_times: Any
    supplier_anomalies: pd.DataFrame
    exported: pd.DataFrame

    @staticmethod
    def of(job: PartitionJob) -> _Shared:
        return _Shared(job.lead_times, job.supplier_anomalies, job.exported)

    @staticmethod
    def strip(job: PartitionJob) -> PartitionJob:
        """The job without the shared inputs (they travel once per worker, see :func:`_run_on_dask`)."""
        return replace(
            job, lead_times=None, supplier_anomalies=job.supplier_anomalies.iloc[:0], exported=job.exported.iloc[:0]
        )

    def into(self, job: PartitionJob) -> PartitionJob:
        return replace(
            job, lead_times=self.lead_times, supplier_anomalies=self.supplier_anomalies, exported=self.exported
        )


def _assess_on_worker(job: PartitionJob, shared: _Shared) -> PartitionOutcome:
    """A partition on a Dask worker: one thread (the cluster's workers are the parallelism)."""
    return assess_partition(shared.into(job), n_jobs=1)


__all__ = ["PartitionJob", "PartitionedReport", "assess_partition", "run_partitioned"]
