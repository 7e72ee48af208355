"""What a partition's Dask task carries: its own partition, not the company-wide inputs every task shares."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd

from stockwarden.config import RulesConfig
from stockwarden.partitioned import PartitionJob, _Shared
from stockwarden.store.partition import Partition


def _job() -> PartitionJob:
    return PartitionJob(
        db_url="postgresql+psycopg://u@db/sw",
        part=Partition(index=3, count=100, locations=("S003",), skus=None, n_series=10_000),
        plan="100:loc",
        run_key="2026-12-03:abc:1",
        as_of=dt.date(2026, 12, 3),
        rules=RulesConfig(),
        lead_times={"pmfs": np.zeros((10_000, 120))},  # stands in for the ~60 MB model of 10,000 SKUs
        supplier_anomalies=pd.DataFrame({"kind": ["lead_time_drift"] * 500, "supplier_id": ["SUP-1"] * 500}),
        exported=pd.DataFrame({"po_id": ["SW-1"] * 200, "sku": ["A"] * 200}),
    )


def test_the_task_of_a_partition_leaves_the_shared_inputs_out() -> None:
    job = _job()
    task = _Shared.strip(job)
    assert task.lead_times is None
    assert task.supplier_anomalies.empty and list(task.supplier_anomalies.columns) == ["kind", "supplier_id"]
    assert task.exported.empty
    assert (task.part, task.plan, task.run_key, task.as_of) == (job.part, job.plan, job.run_key, job.as_of)
    assert len(pickle.dumps(task)) < len(pickle.dumps(job)) / 100


def test_a_worker_puts_the_shared_inputs_back_as_they_were() -> None:
    job = _job()
    restored = _Shared.of(job).into(_Shared.strip(job))
    assert restored.lead_times is job.lead_times
    pd.testing.assert_frame_equal(restored.supplier_anomalies, job.supplier_anomalies)
    pd.testing.assert_frame_equal(restored.exported, job.exported)
    assert restored.part == job.part
