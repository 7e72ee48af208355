"""The partitioned daily run gives the unpartitioned run's results, resumes where it died, and runs on Dask."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from stockwarden.config import NotifyChannel, NotifyRules, RulesConfig, RunRules
from stockwarden.errors import StockwardenError
from stockwarden.ingest.sample import generate_company
from stockwarden.partitioned import PartitionJob, run_partitioned
from stockwarden.pipeline import PipelineSteps, run_pipeline
from stockwarden.risk.assess import sort_by_urgency
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.partition_results import read_assessments
from stockwarden.store.repo import import_dataset

NOW = dt.datetime(2025, 10, 27, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_company(tmp_path_factory.mktemp("co"), seed=5, n_skus=24, n_locations=4, days=150)


def _db(folder: Path, path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    import_dataset(engine, folder)
    return engine


def _rules(tmp_path: Path) -> RulesConfig:
    return RulesConfig(
        run=RunRules(forecast_mode="stats", seed=3),
        notify=NotifyRules(channels=[NotifyChannel(name="file", url=f"file://{tmp_path}/n.log")]),
    )


def _effects(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """What a run leaves behind: alerts, proposal lines, messages, kept forecasts (ids and times left out)."""
    queries = {
        "alerts": "SELECT kind, sku, location_id, level, state, stockout_probability, reasons, suggested_order_qty "
        "FROM alerts ORDER BY kind, sku, location_id",
        "lines": "SELECT po_id, line_no, sku, location_id, supplier_id, status, qty, need_qty "
        "FROM order_proposal_lines ORDER BY po_id, line_no",
        "messages": "SELECT idempotency_key, channel, kind, title, body FROM outbox ORDER BY idempotency_key",
        "forecasts": "SELECT as_of, sku, location_id, demand_class, nb_size, mean_f32 FROM forecast_snapshots "
        "ORDER BY as_of, sku, location_id",
        "forecasts_kept": "SELECT counts_json FROM run_steps WHERE name = 'forecast'",
    }
    with engine.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in queries.items()}


def _unpartitioned(folder: Path, tmp_path: Path) -> tuple[pd.DataFrame, dict[str, list[tuple[Any, ...]]]]:
    engine = _db(folder, tmp_path / "whole.db")
    steps = PipelineSteps()
    captured: dict[str, pd.DataFrame] = {}
    assess = steps.assess

    def capture(*args: Any, **kwargs: Any) -> pd.DataFrame:
        captured["a"] = assess(*args, **kwargs)
        return captured["a"]

    steps.assess = capture
    run_pipeline(engine, as_of=None, config=_rules(tmp_path), now=NOW, steps=steps)
    return captured["a"], _effects(engine)


def _stored_assessment(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        key = conn.execute(sa.text("SELECT run_key, plan FROM run_partitions LIMIT 1")).one()
        frames = read_assessments(conn, run_key=key.run_key, plan=key.plan)
    return sort_by_urgency(pd.concat(frames, ignore_index=True))


def test_one_partition_is_exactly_the_unpartitioned_run(folder: Path, tmp_path: Path) -> None:
    """The company view, the partition load, company-wide supplier anomalies and lead times, the stitching
    and the effect steps change nothing: every column, alert, proposal line and message is the same."""
    want, want_effects = _unpartitioned(folder, tmp_path)
    engine = _db(folder, tmp_path / "parts.db")
    report = run_partitioned(engine, as_of=None, config=_rules(tmp_path), now=NOW, partitions=1)
    assert report.run.status == "completed"
    got = _stored_assessment(engine)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    assert _effects(engine) == want_effects


PER_SERIES_DATA = ["sku", "location_id", "as_of", "on_hand", "on_order", "lead_time_days", "lead_time_source"]


@pytest.mark.parametrize("partitions", [3, 6])  # whole locations (4 >= 3), hashed SKUs (6 > 4)
def test_several_partitions_agree_with_the_unpartitioned_run(folder: Path, tmp_path: Path, partitions: int) -> None:
    """Same series, same per-series data and lead times; the forecast's pooled calibration (ABC ranks, level
    uncertainty from the backtest sample) is made per partition, so probabilities move a little."""
    want, _ = _unpartitioned(folder, tmp_path)
    engine = _db(folder, tmp_path / "parts.db")
    report = run_partitioned(engine, as_of=None, config=_rules(tmp_path), now=NOW, partitions=partitions)
    assert report.run.status == "completed"
    assert len(report.partitions) == partitions
    got = _stored_assessment(engine)
    both = want.merge(got, on=["sku", "location_id"], suffixes=("", "_p"), validate="one_to_one")
    assert len(both) == len(want) == len(got)
    for c in PER_SERIES_DATA[2:]:
        pd.testing.assert_series_equal(both[c], both[f"{c}_p"], check_names=False, check_dtype=False, obj=c)
    moved = (both["stockout_probability"] - both["stockout_probability_p"]).abs()
    assert moved.median() <= 0.02
    assert (both["level"] == both["level_p"]).mean() >= 0.9


@pytest.fixture(scope="module")
def drifting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    """The company with one supplier delivering 9 days later for its last 50 days of orders (a lead-time
    drift and an unreliable supplier), and one of its SKU-locations never ordered: reached through its item."""
    folder = generate_company(tmp_path_factory.mktemp("drift"), seed=5, n_skus=24, n_locations=4, days=150)
    po = pd.read_csv(folder / "purchase_orders.csv", dtype=str)
    sup = po["supplier_id"].value_counts().index[0]
    ordered = pd.to_datetime(po["order_date"])
    late = (po["supplier_id"] == sup) & (ordered >= ordered.max() - pd.Timedelta(days=50)) & po["received_date"].notna()
    received = pd.to_datetime(po.loc[late, "received_date"]) + pd.Timedelta(days=9)
    po.loc[late, "received_date"] = received.dt.strftime("%Y-%m-%d")
    never = tuple(po.loc[po["supplier_id"] == sup, ["sku", "location_id"]].iloc[0])
    po = po.loc[~((po["sku"] == never[0]) & (po["location_id"] == never[1]))]
    po.to_csv(folder / "purchase_orders.csv", index=False)
    return folder, (str(never[0]), str(never[1]))


def _reached(assessment: pd.DataFrame, code: str) -> set[tuple[str, str]]:
    has = assessment["reasons"].astype(str).str.split(";").map(lambda codes: code in codes)
    return set(zip(assessment.loc[has, "sku"], assessment.loc[has, "location_id"], strict=True))


@pytest.mark.parametrize("partitions", [1, 3, 6])
def test_a_supplier_level_anomaly_reaches_the_same_sku_locations_in_every_partition(
    drifting: tuple[Path, tuple[str, str]], tmp_path: Path, partitions: int
) -> None:
    """The company-wide step lists only the supplier's ordered SKU-locations; each partition adds its own
    SKU-locations of the supplier's items: together exactly the unpartitioned run's."""
    folder, never_ordered = drifting
    want, want_effects = _unpartitioned(folder, tmp_path)
    engine = _db(folder, tmp_path / "parts.db")
    run_partitioned(engine, as_of=None, config=_rules(tmp_path), now=NOW, partitions=partitions)
    got = _stored_assessment(engine)
    for code in ("lead_time_drift", "supplier_late"):
        assert never_ordered in _reached(want, code)
        assert _reached(got, code) == _reached(want, code)
    if partitions == 1:
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
        assert _effects(engine) == want_effects


def _uninterrupted(folder: Path, tmp_path: Path, partitions: int) -> dict[str, list[tuple[Any, ...]]]:
    engine = _db(folder, tmp_path / "straight.db")
    run_partitioned(engine, as_of=None, config=_rules(tmp_path), now=NOW, partitions=partitions)
    return _effects(engine)


def _die_after_second(outcome: Any) -> None:
    """Kills a run as its second partition (index 1) is recorded."""
    if outcome.partition == 1:
        raise RuntimeError("killed")


def test_a_run_that_dies_in_partition_k_resumes_at_k(folder: Path, tmp_path: Path) -> None:
    want_effects = _uninterrupted(folder, tmp_path, 4)
    engine = _db(folder, tmp_path / "parts.db")
    rules = _rules(tmp_path)

    with pytest.raises(RuntimeError, match="killed"):
        run_partitioned(engine, as_of=None, config=rules, now=NOW, partitions=4, on_partition=_die_after_second)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM run_partitions")).scalar() == 2
        assert conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 0
    again = run_partitioned(engine, as_of=None, config=rules, now=NOW, partitions=4)
    assert [o.is_resumed for o in again.partitions] == [True, True, False, False]
    assert again.run.status == "completed"
    assert _effects(engine) == want_effects
    once_more = run_partitioned(engine, as_of=None, config=rules, now=NOW + dt.timedelta(hours=1), partitions=4)
    assert once_more.run.status == "already_completed"
    assert once_more.partitions == ()  # nothing recomputed, not even read back
    assert _effects(engine) == want_effects
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM run_partitions")).scalar() == 4


def test_each_partition_is_read_once_ahead_while_the_previous_one_computes(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import stockwarden.partitioned as partitioned

    reads: list[tuple[int, str]] = []
    real = partitioned.load_partition

    def recording(engine: sa.Engine, part: Any) -> Any:
        reads.append((part.index, threading.current_thread().name))
        return real(engine, part)

    monkeypatch.setattr(partitioned, "load_partition", recording)
    engine = _db(folder, tmp_path / "parts.db")
    rules = _rules(tmp_path)

    with pytest.raises(RuntimeError, match="killed"):
        run_partitioned(engine, as_of=None, config=rules, now=NOW, partitions=4, on_partition=_die_after_second)
    assert [i for i, _ in reads][:2] == [0, 1] and all(name.startswith("read-ahead") for _, name in reads)
    reads.clear()
    again = run_partitioned(engine, as_of=None, config=rules, now=NOW, partitions=4)
    assert again.run.status == "completed"
    assert sorted(i for i, _ in reads) == [2, 3]  # recorded partitions are not read again


def _kill_worker_once(job: PartitionJob) -> None:
    """Kills the worker process running partition 2, the first time only (the marker file remembers)."""
    marker = Path(os.environ["SW_TEST_KILL_MARKER"])
    if job.part.index == 1 and not marker.exists():
        marker.write_text("killed")
        os._exit(1)


@pytest.mark.distributed
def test_on_a_local_dask_cluster_a_lost_worker_is_retried_and_nothing_is_lost_or_doubled(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from stockwarden.forecast.distributed import DaskBackend

    want_effects = _uninterrupted(folder, tmp_path, 3)
    engine = _db(folder, tmp_path / "parts.db")
    marker = tmp_path / "killed.marker"
    monkeypatch.setenv("SW_TEST_KILL_MARKER", str(marker))
    backend = DaskBackend(n_workers=2, threads_per_worker=1, processes=True, connect_timeout_s=60)
    report = run_partitioned(
        engine,
        as_of=None,
        config=_rules(tmp_path),
        now=NOW,
        partitions=3,
        backend=backend,
        on_start=_kill_worker_once,
    )
    assert marker.exists()  # a worker did die
    assert report.run.status == "completed"
    assert sorted(o.partition for o in report.partitions) == [0, 1, 2]
    assert _effects(engine) == want_effects
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM run_partitions")).scalar() == 3


@pytest.mark.distributed
def test_an_unreachable_scheduler_is_one_clear_error(folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from stockwarden.forecast.distributed import DaskBackend

    engine = _db(folder, tmp_path / "parts.db")
    backend = DaskBackend(scheduler="tcp://127.0.0.1:9", connect_timeout_s=2)
    with pytest.raises(StockwardenError, match=r"cannot connect to the Dask scheduler at 'tcp://127.0.0.1:9'"):
        run_partitioned(engine, as_of=None, config=_rules(tmp_path), now=NOW, partitions=2, backend=backend)


def _database_unreachable(job: PartitionJob) -> None:
    from stockwarden.errors import StoreError

    raise StoreError(f"cannot read partition {job.part.label} from postgresql://db.internal/sw: connection refused")


@pytest.mark.distributed
def test_a_database_the_workers_cannot_reach_is_one_clear_error(folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from stockwarden.errors import StoreError
    from stockwarden.forecast.distributed import DaskBackend

    engine = _db(folder, tmp_path / "parts.db")
    backend = DaskBackend(n_workers=1, threads_per_worker=1, processes=False, connect_timeout_s=30)
    with pytest.raises(StoreError) as caught:
        run_partitioned(
            engine,
            as_of=None,
            config=_rules(tmp_path),
            now=NOW,
            partitions=2,
            backend=backend,
            on_start=_database_unreachable,
        )
    message = str(caught.value)
    assert message.startswith("partition ")
    assert "on a Dask worker: cannot read partition" in message
    assert "the workers must reach the database at the same address as this machine" in message
    assert "\n" not in message
