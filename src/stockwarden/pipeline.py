"""The daily run: the only module that wires I/O (database, notifiers, clock) to the pure steps.

``run_pipeline`` runs, on the database::

    load -> health -> forecast -> leadtimes -> anomalies -> assess     (pure, recomputed when needed)
         -> assessments -> alerts -> proposals -> compose             (effects, one transaction each)
         -> deliver                                                   (outbox, every run)

**One run per (as_of, data, rules).** The run key is the as-of date, a fingerprint of the data known
at that date (with exported orders) and the rules hash. A completed key is not run again: running
twice for the same date and data recomputes nothing and composes nothing new from the data; only the
passing of time is applied (``tick``: escalations, snoozes that end today) and messages still due in
the outbox are delivered.

**Resumable.** Each effect step commits its changes together with its ``run_steps`` row, so after a
kill the database holds exactly the steps that completed; the next run with the same key skips them
and recomputes only the pure steps it still needs (deterministic for a given seed). The proposals
step writes through ``store.order_repo.save_proposals`` (its own transaction, idempotent), so a kill
between that commit and the step row only repeats a no-op. Messages are composed from the run's
handling-log lines under unique idempotency keys, and delivered through the outbox
(:mod:`stockwarden.alerts.notify.outbox` documents the one at-least-once window).

Each step of another package is called through one small function below (``_forecast``, ``_assess``,
...) so the wiring reads top to bottom.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from stockwarden.alerts.build import build_signals
from stockwarden.alerts.lifecycle import reconcile_alerts, tick_alerts
from stockwarden.alerts.notify.base import AppriseNotifier, Notifier, check_channels
from stockwarden.alerts.notify.compose import OrderHint, compose_messages
from stockwarden.alerts.notify.outbox import deliver_due
from stockwarden.config import RulesConfig
from stockwarden.domain.alert import AlertState
from stockwarden.errors import StockwardenError
from stockwarden.ingest.dataset import Dataset
from stockwarden.store import alert_repo, runs
from stockwarden.store.assessment_repo import save_assessments
from stockwarden.store.outbox import SqlOutbox, enqueue_messages

log = structlog.get_logger(__name__)

PURE_STEPS = ("health", "forecast", "leadtimes", "anomalies", "assess")
EFFECT_STEPS = ("assessments", "alerts", "proposals", "compose")


class RunFailed(StockwardenError):
    """Raised when a step of the daily run fails; the run is recorded as failed and can be resumed.

    Attributes:
        step: the step that failed.
        run_id: the run record.
    """

    def __init__(self, message: str, *, step: str, run_id: int | None) -> None:
        super().__init__(message)
        self.step = step
        self.run_id = run_id


@dataclass(frozen=True, slots=True)
class StepReport:
    """One step of a run: seconds taken, counts, and whether an earlier attempt had done it."""

    name: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    is_resumed: bool = False


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a run did.

    Attributes:
        run_id: the run record.
        as_of: the assessment date.
        status: ``completed`` or ``already_completed`` (nothing re-run for the same date and data).
        rules_version: hash of the rules used.
        data_hash: fingerprint of the data known at ``as_of``.
        attempts: how many times this run was started (more than 1 after a resume).
        steps: step reports in order.
        counts: totals (alerts opened/updated/resolved/escalated, messages enqueued/sent, ...).
        warnings: degraded steps (e.g. an optional step not available).
    """

    run_id: int
    as_of: dt.date
    status: str
    rules_version: str
    data_hash: str
    attempts: int
    steps: tuple[StepReport, ...]
    counts: dict[str, int]
    warnings: tuple[str, ...] = ()


@dataclass
class PipelineSteps:
    """The calls to other packages, replaceable in tests (each default is a small function below).

    ``load`` and ``fingerprint`` are replaced by the partitioned run (``stockwarden.partitioned``), which
    loads a company-wide view without the sales history and fingerprints the data from the import digests.
    """

    load: Callable[[Engine, dt.date | None], tuple[Dataset, dt.date]] = field(default_factory=lambda: load_day)
    fingerprint: Callable[[Dataset], str] = field(default_factory=lambda: fingerprint)
    health: Callable[..., list[str]] = field(default_factory=lambda: _health)
    forecast: Callable[..., Any] = field(default_factory=lambda: _forecast)
    lead_times: Callable[..., Any] = field(default_factory=lambda: _lead_times)
    anomalies: Callable[..., Any] = field(default_factory=lambda: _anomalies)
    assess: Callable[..., pd.DataFrame] = field(default_factory=lambda: _assess)
    proposals: Callable[..., dict[str, int]] = field(default_factory=lambda: _proposals)
    keep_forecast: Callable[[Connection, Any, dt.date], int] = field(default_factory=lambda: _keep_forecast)

    @classmethod
    def on_backend(cls, backend: Any) -> PipelineSteps:
        """The default steps with the forecast run on ``backend`` (``"local"``, ``"dask"`` or a ``DaskBackend``)."""
        return cls(forecast=functools.partial(_forecast, backend=backend))


# --- wiring: one small function per step of another package ---------------------------------------


def load_day(engine: Engine, as_of: dt.date | None) -> tuple[Dataset, dt.date]:
    """The database's dataset as known at the end of ``as_of`` (default: its newest date), with the
    orders stockwarden exported counted as open POs: what the run and every assessment of the database read."""
    from stockwarden.actions.export import merge_exported_orders
    from stockwarden.store.order_repo import exported_orders_as_pos
    from stockwarden.store.repo import load_dataset_from_db

    ds = load_dataset_from_db(engine)
    if as_of is None:
        last = ds.last_date
        if last is None:
            raise StockwardenError("the database holds no dated rows; give --as-of or import sales first")
        as_of = last.date()
    ds = merge_exported_orders(ds, exported_orders_as_pos(engine, as_of=as_of))
    return ds.as_of(pd.Timestamp(as_of)), as_of


def _health(ds: Dataset, *, as_of: dt.date, rules: RulesConfig) -> list[str]:
    """Data-health warnings that make results less reliable (one line each)."""
    from stockwarden.ingest.health import Severity, check_health

    report = check_health(ds, as_of=pd.Timestamp(as_of), rules=rules.health)
    return [w.message for w in report.warnings if w.severity is Severity.WARNING]


def _keep_forecast(conn: Connection, forecast: Any, day: dt.date) -> int:
    """Keep the run's forecast compactly, scored once the actuals arrive (``stockwarden quality``)."""
    from stockwarden.store.quality import keep_forecast

    return keep_forecast(conn, forecast, as_of=day)


def _forecast(ds: Dataset, *, as_of: dt.date, rules: RulesConfig, backend: Any = "local") -> Any:
    from stockwarden.risk.daily import forecast_for

    return forecast_for(ds, as_of=pd.Timestamp(as_of), rules=rules, backend=backend)


def _lead_times(ds: Dataset, *, as_of: dt.date, rules: RulesConfig) -> Any:
    from stockwarden.risk.daily import lead_times_for

    return lead_times_for(ds, as_of=pd.Timestamp(as_of), rules=rules)


def _anomalies(ds: Dataset, *, as_of: dt.date, forecast: Any, rules: RulesConfig) -> pd.DataFrame | None:
    from stockwarden.risk.daily import anomalies_for

    return anomalies_for(ds, as_of=pd.Timestamp(as_of), forecast=forecast, rules=rules)


def _assess(
    ds: Dataset, *, as_of: dt.date, forecast: Any, lead_times: Any, anomalies: pd.DataFrame | None, rules: RulesConfig
) -> pd.DataFrame:
    from stockwarden.risk.daily import assess_frame

    return assess_frame(
        ds, as_of=pd.Timestamp(as_of), forecast=forecast, lead_times=lead_times, anomalies=anomalies, rules=rules
    )


def _proposals(
    engine: Engine,
    assessment: pd.DataFrame,
    ds: Dataset,
    *,
    as_of: dt.date,
    rules: RulesConfig,
    now: dt.datetime,
    run_id: int,
) -> dict[str, int]:
    from stockwarden.actions.replenish import propose_orders
    from stockwarden.store.order_repo import save_proposals

    proposals = propose_orders(assessment, ds, as_of=as_of, rules=rules)
    saved = save_proposals(engine, proposals, now=now, rules=rules.orders, run_id=run_id)
    return {f"proposals_{k}": int(v) for k, v in saved.as_dict().items()}


def fingerprint(ds: Dataset) -> str:
    """A short hash of every table of ``ds`` (values, columns and order)."""
    digest = hashlib.sha256()
    for name in ("items", "locations", "suppliers", "sales", "inventory", "purchase_orders", "promotions", "events"):
        frame = ds.table(name)
        digest.update(name.encode() + b"|" + "|".join(map(str, frame.columns)).encode())
        if len(frame):
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


# --- the run -------------------------------------------------------------------------------------


def run_pipeline(
    engine: Engine,
    *,
    as_of: dt.date | None,
    config: RulesConfig,
    now: dt.datetime,
    notifier: Notifier | None = None,
    steps: PipelineSteps | None = None,
    on_step_done: Callable[[str], None] | None = None,
) -> RunReport:
    """Run the daily job on the database (see the module docstring).

    Args:
        engine: a database at the newest schema, with imported data.
        as_of: the assessment date; None means the last date in the data.
        config: the rules (and notification channels).
        now: the wall-clock time (timezone-aware), for the log, escalation and quiet hours.
        notifier: how messages are sent (default: apprise).
        steps: replacements for the calls to other packages (tests).
        on_step_done: called with each step name after it completes (progress display, fault injection).

    Returns:
        The run report.

    Raises:
        RunFailed: a step failed; the run is recorded as failed and the next run resumes it.
        ConfigError: a notification channel is unusable (checked before anything runs).
        StockwardenError: the data cannot be loaded.
    """
    check_channels(config.notify.channels)
    calls = steps or PipelineSteps()
    notifier = notifier or AppriseNotifier()
    done_hook = on_step_done or (lambda _name: None)
    t0 = time.perf_counter()
    ds, day = calls.load(engine, as_of)
    rules_version = config.version()
    data_hash = calls.fingerprint(ds)
    load_seconds = time.perf_counter() - t0
    with Session(engine) as s, s.begin():
        record, was_completed = runs.start_run(s, as_of=day, data_hash=data_hash, rules_version=rules_version, now=now)
    run_id = record.run_id
    reports: list[StepReport] = [StepReport("load", load_seconds, {"skus": len(ds.items)})]
    warnings: list[str] = []
    if was_completed:
        # Same date, data and rules: nothing is recomputed. Only time moves on: escalations and
        # snoozes that end today, and messages that are due.
        started = time.perf_counter()
        orders = _order_hints(engine)
        with Session(engine) as s, s.begin():
            ticked = _tick_step(s, day=day, config=config, now=now, run_id=run_id, orders=orders)
        reports.append(StepReport("tick", time.perf_counter() - started, ticked))
        delivered = _deliver(engine, notifier, config=config, now=now)
        reports.append(delivered)
        return RunReport(
            run_id=run_id,
            as_of=day,
            status="already_completed",
            rules_version=rules_version,
            data_hash=data_hash,
            attempts=record.attempts,
            steps=tuple(reports),
            counts={**ticked, **delivered.counts},
        )

    done = dict(record.steps)
    results: dict[str, Any] = {}
    step = "load"
    try:
        if not all(name in done for name in EFFECT_STEPS):
            for step in PURE_STEPS:
                reports.append(
                    _pure_step(engine, run_id, step, calls, ds, day, config, results, warnings, _at(now, t0))
                )
                done_hook(step)
        step = "assessments"
        reports.append(
            _effect_step(
                engine,
                run_id,
                step,
                done,
                now=_at(now, t0),
                body=lambda s: {"assessments_stored": save_assessments(s, run_id, results["assess"])},
            )
        )
        done_hook(step)
        step = "alerts"
        reports.append(
            _effect_step(
                engine,
                run_id,
                step,
                done,
                now=_at(now, t0),
                body=lambda s: _alerts_step(
                    s,
                    results["assess"],
                    ds,
                    day=day,
                    config=config,
                    now=now,
                    run_id=run_id,
                    rules_version=rules_version,
                ),
            )
        )
        done_hook(step)
        step = "proposals"
        reports.append(
            _effect_step(
                engine,
                run_id,
                step,
                done,
                now=_at(now, t0),
                body=lambda _s: calls.proposals(
                    engine, results["assess"], ds, as_of=day, rules=config, now=now, run_id=run_id
                ),
            )
        )
        done_hook(step)
        step = "compose"
        orders = _order_hints(engine) if "compose" not in done else {}
        reports.append(
            _effect_step(
                engine,
                run_id,
                step,
                done,
                now=_at(now, t0),
                body=lambda s: _compose_step(s, day=day, config=config, now=now, run_id=run_id, orders=orders),
            )
        )
        done_hook(step)
        step = "deliver"
        reports.append(_deliver(engine, notifier, config=config, now=now))
        done_hook(step)
    except Exception as exc:
        reason = f"step {step}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        with Session(engine) as s, s.begin():
            runs.finish_run(s, run_id, status=runs.FAILED, now=now, counts={}, error=reason)
        log.error("run.failed", code="SW-E700", run_id=run_id, step=step, error=reason)
        raise RunFailed(reason, step=step, run_id=run_id) from exc

    counts: dict[str, int] = {}
    for rep in reports:
        for key, value in rep.counts.items():
            counts[key] = counts.get(key, 0) + value
    with Session(engine) as s, s.begin():
        runs.finish_run(s, run_id, status=runs.COMPLETED, now=now, counts=counts)
    return RunReport(
        run_id=run_id,
        as_of=day,
        status="completed",
        rules_version=rules_version,
        data_hash=data_hash,
        attempts=record.attempts,
        steps=tuple(reports),
        counts=counts,
        warnings=tuple(warnings),
    )


def _at(now: dt.datetime, t0: float) -> dt.datetime:
    """The run's clock for step records: ``now`` plus the time elapsed since the run started."""
    return now + dt.timedelta(seconds=time.perf_counter() - t0)


def _pure_step(
    engine: Engine,
    run_id: int,
    step: str,
    calls: PipelineSteps,
    ds: Dataset,
    day: dt.date,
    config: RulesConfig,
    results: dict[str, Any],
    warnings: list[str],
    now: dt.datetime,
) -> StepReport:
    started = time.perf_counter()
    counts: dict[str, int] = {}
    if step == "health":
        problems = calls.health(ds, as_of=day, rules=config)
        warnings.extend(f"data: {p}" for p in problems)
        counts = {"health_warnings": len(problems)}
    elif step == "forecast":
        results[step] = calls.forecast(ds, as_of=day, rules=config)
        counts = {"series": len(getattr(results[step], "series", ()))}
    elif step == "leadtimes":
        results[step] = calls.lead_times(ds, as_of=day, rules=config)
    elif step == "anomalies":
        results[step] = calls.anomalies(ds, as_of=day, forecast=results["forecast"], rules=config)
        counts = {"anomalies": len(results[step]) if results[step] is not None else 0}
    else:
        results[step] = calls.assess(
            ds,
            as_of=day,
            forecast=results["forecast"],
            lead_times=results["leadtimes"],
            anomalies=results.get("anomalies"),
            rules=config,
        )
        counts = {"assessed": len(results[step])}
    seconds = time.perf_counter() - started
    with Session(engine) as s, s.begin():
        if step == "forecast":  # kept compactly and scored once the actuals arrive (stockwarden quality)
            counts["forecasts_kept"] = calls.keep_forecast(s.connection(), results[step], day)
        runs.record_step(
            s, run_id, step, started_at=now, finished_at=now + dt.timedelta(seconds=seconds), counts=counts
        )
    return StepReport(step, seconds, counts)


def _effect_step(
    engine: Engine,
    run_id: int,
    step: str,
    done: dict[str, runs.StepRecord],
    *,
    body: Callable[[Session], dict[str, int]],
    now: dt.datetime,
) -> StepReport:
    if step in done:
        return StepReport(step, done[step].seconds, done[step].counts, is_resumed=True)
    started = time.perf_counter()
    wall = now
    with Session(engine) as s, s.begin():
        counts = body(s)
        seconds = time.perf_counter() - started
        runs.record_step(
            s, run_id, step, started_at=wall, finished_at=wall + dt.timedelta(seconds=seconds), counts=counts
        )
    return StepReport(step, seconds, counts)


def _alerts_step(
    session: Session,
    assessment: pd.DataFrame,
    ds: Dataset,
    *,
    day: dt.date,
    config: RulesConfig,
    now: dt.datetime,
    run_id: int,
    rules_version: str,
) -> dict[str, int]:
    signals = build_signals(assessment, items=ds.items, locations=ds.locations)
    live = alert_repo.get_live_alerts(session)
    changes = reconcile_alerts(live, signals, as_of=day, now=now, rules=config.alerts, rules_version=rules_version)
    counts = {"alerts_opened": 0, "alerts_updated": 0, "alerts_resolved": 0, "alerts_escalated": 0}
    alert_repo.save_alert_changes(session, changes, run_id=run_id)
    for change in changes:
        if change.before is None:
            counts["alerts_opened"] += 1
        elif change.after.state is AlertState.RESOLVED and change.before.state is not AlertState.RESOLVED:
            counts["alerts_resolved"] += 1
        elif change.after.state is AlertState.ESCALATED and change.before.state is not AlertState.ESCALATED:
            counts["alerts_escalated"] += 1
        elif change.entries:
            counts["alerts_updated"] += 1
    return counts


def _tick_step(
    session: Session,
    *,
    day: dt.date,
    config: RulesConfig,
    now: dt.datetime,
    run_id: int,
    orders: dict[tuple[str, str], OrderHint],
) -> dict[str, int]:
    changes = tick_alerts(alert_repo.get_live_alerts(session), now=now, rules=config.alerts)
    if not changes:
        return {"alerts_escalated": 0, "messages_enqueued": 0}
    before = alert_repo.last_log_id(session)
    alert_repo.save_alert_changes(session, changes, run_id=run_id)
    items = alert_repo.get_notify_items(session, run_id, after_log_id=before)
    batch = f":tick{min(it.log_id for it in items)}" if items else ""
    messages = compose_messages(
        items, rules=config.notify, now=now, as_of=day, run_id=run_id, batch=batch, orders=orders
    )
    escalated = sum(c.after.state is AlertState.ESCALATED for c in changes)
    return {"alerts_escalated": escalated, "messages_enqueued": enqueue_messages(session, messages, now=now)}


def _order_hints(engine: Engine) -> dict[tuple[str, str], OrderHint]:
    """The open order proposal of each SKU-location (drafts and approvals), for the messages."""
    from stockwarden.store.order_repo import list_proposal_lines

    lines = list_proposal_lines(engine, status=["draft", "approved", "changed"])
    return {
        (ln.sku, ln.location_id): OrderHint(qty=ln.qty, po_id=ln.po_id, order_by_date=ln.order_by_date) for ln in lines
    }


def _compose_step(
    session: Session,
    *,
    day: dt.date,
    config: RulesConfig,
    now: dt.datetime,
    run_id: int,
    orders: dict[tuple[str, str], OrderHint] | None = None,
) -> dict[str, int]:
    items = alert_repo.get_notify_items(session, run_id)
    messages = compose_messages(items, rules=config.notify, now=now, as_of=day, run_id=run_id, orders=orders)
    return {"notify_items": len(items), "messages_enqueued": enqueue_messages(session, messages, now=now)}


def _deliver(engine: Engine, notifier: Notifier, *, config: RulesConfig, now: dt.datetime) -> StepReport:
    started = time.perf_counter()
    report = deliver_due(SqlOutbox(engine), notifier, rules=config.notify, now=now)
    counts = {
        "messages_sent": len(report.sent),
        "messages_retrying": len(report.retrying),
        "messages_dead": len(report.dead),
    }
    return StepReport("deliver", time.perf_counter() - started, counts)
