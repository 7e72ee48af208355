"""The Dask backend: same contract as local, exact with one shard, stable sharding, clear errors."""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tests.factories_forecast import make_forecast_dataset, poisson_matrix

from stockwarden.domain.demand import DAILY_COLUMNS, SERIES_COLUMNS
from stockwarden.errors import ForecastError
from stockwarden.forecast import distributed as distributed_backend
from stockwarden.forecast.distributed import DaskBackend, default_shard_count, shard_of, shard_seed, split_history
from stockwarden.forecast.engine import forecast_demand
from stockwarden.forecast.history import build_demand_history
from stockwarden.ingest.dataset import Dataset

pytestmark = pytest.mark.distributed  # dask[distributed] is in the test extra: these must run in CI

AS_OF = "2024-04-29"  # day 120 of the factory's panels


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """An in-process cluster (threads, no ports to other processes) for the whole module."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},  # not the default 8787: other clusters may hold it
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def ds() -> Dataset:
    rates = np.linspace(0.3, 6.0, 12)
    promotions = pd.DataFrame(
        {
            "sku": ["S001", "S007"],
            "location_id": ["L1", "L1"],
            "start_date": pd.to_datetime(["2024-05-01", "2024-05-02"]),
            "end_date": pd.to_datetime(["2024-05-03", "2024-05-04"]),
        }
    )
    return make_forecast_dataset(poisson_matrix(12, 150, rate=rates, seed=3), promotions=promotions)


@pytest.fixture(scope="module")
def local_fast(ds: Dataset) -> object:
    return forecast_demand(ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5)


def test_one_shard_on_dask_is_identical_to_the_local_forecast(ds: Dataset, scheduler: str, local_fast) -> None:
    fc = forecast_demand(
        ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5, backend=DaskBackend(scheduler=scheduler, shards=1)
    )
    pd.testing.assert_frame_equal(fc.daily, local_fast.daily)
    pd.testing.assert_frame_equal(fc.series, local_fast.series)
    np.testing.assert_array_equal(fc.mean, local_fast.mean)
    np.testing.assert_array_equal(fc.size, local_fast.size)
    np.testing.assert_array_equal(fc.level_shape, local_fast.level_shape)
    assert fc.as_of == local_fast.as_of and fc.dates.equals(local_fast.dates)


def test_sharded_statistical_forecasts_keep_series_order_columns_and_per_series_means(
    ds: Dataset, scheduler: str
) -> None:
    local = forecast_demand(ds, as_of=AS_OF, horizon_days=7, mode="stats")
    fc = forecast_demand(
        ds, as_of=AS_OF, horizon_days=7, mode="stats", backend=DaskBackend(scheduler=scheduler, shards=3)
    )
    assert list(fc.daily.columns) == list(local.daily.columns)
    assert list(fc.series.columns) == list(SERIES_COLUMNS)
    pd.testing.assert_frame_equal(fc.daily[["sku", "location_id", "date"]], local.daily[["sku", "location_id", "date"]])
    # statistical models are fitted series by series: sharding cannot change their means or choice
    np.testing.assert_allclose(fc.mean, local.mean)
    assert (fc.series["model"] == local.series["model"]).all()
    q = fc.daily[["p5", "p25", "p50", "p75", "p95"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert fc.sample_paths(10, seed=1).shape == (12, 10, 7)


def test_two_shards_with_the_global_model_stay_valid_and_close_to_local(
    ds: Dataset, scheduler: str, local_fast
) -> None:
    fc = forecast_demand(
        ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5, backend=DaskBackend(scheduler=scheduler, shards=2)
    )
    assert list(fc.daily.columns[: len(DAILY_COLUMNS)]) == list(DAILY_COLUMNS)
    pd.testing.assert_frame_equal(fc.series[["sku", "location_id"]], local_fast.series[["sku", "location_id"]])
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all()
    # each LightGBM sees half of the series: per-series levels move a little, the picture does not
    per_series, per_series_local = fc.mean.mean(axis=1), local_fast.mean.mean(axis=1)
    assert np.corrcoef(per_series, per_series_local)[0, 1] > 0.95
    assert per_series.sum() == pytest.approx(per_series_local.sum(), rel=0.15)


def test_the_same_input_seed_and_shards_give_the_same_forecast(ds: Dataset, scheduler: str) -> None:
    backend = DaskBackend(scheduler=scheduler, shards=3)
    a = forecast_demand(ds, as_of=AS_OF, horizon_days=5, mode="fast", seed=2, backend=backend)
    b = forecast_demand(ds, as_of=AS_OF, horizon_days=5, mode="fast", seed=2, backend=backend)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    np.testing.assert_array_equal(a.sample_paths(5, seed=0), b.sample_paths(5, seed=0))


def test_a_private_local_cluster_is_started_when_no_scheduler_is_given(ds: Dataset) -> None:
    local = forecast_demand(ds, as_of=AS_OF, horizon_days=3, mode="stats")
    fc = forecast_demand(
        ds, as_of=AS_OF, horizon_days=3, mode="stats", backend=DaskBackend(n_workers=1, processes=False)
    )
    np.testing.assert_allclose(fc.mean, local.mean)


def test_a_series_always_goes_to_the_shard_of_the_crc32_of_its_key() -> None:
    skus = np.array([f"S{i:03d}" for i in range(400)], dtype=object)
    locs = np.array(["L1", "L2"] * 200, dtype=object)
    shard = shard_of(skus, locs, n_shards=4)
    assert shard[0] == zlib.crc32(b"S000|L1") % 4
    np.testing.assert_array_equal(shard, shard_of(skus, locs, n_shards=4))
    counts = np.bincount(shard, minlength=4)
    assert counts.min() > 60  # all shards used, roughly balanced
    assert (shard_of(skus, locs, n_shards=1) == 0).all()


def test_by_default_there_is_one_shard_per_worker_thread_but_no_small_shard() -> None:
    assert default_shard_count(40_000, threads=4) == 4
    assert default_shard_count(12_000, threads=4) == 2  # 6,000 series each, not 3,000
    assert default_shard_count(3_000, threads=4) == 1
    assert default_shard_count(50, threads=8, min_series=10) == 5


def test_a_small_data_set_is_one_shard_by_default_and_so_equals_local(ds: Dataset, scheduler: str, local_fast) -> None:
    fc = forecast_demand(ds, as_of=AS_OF, horizon_days=7, mode="fast", seed=5, backend=DaskBackend(scheduler=scheduler))
    pd.testing.assert_frame_equal(fc.daily, local_fast.daily)


def test_shard_zero_keeps_the_seed_and_other_shards_get_distinct_derived_seeds() -> None:
    assert shard_seed(7, 0) == 7
    seeds = [shard_seed(7, k) for k in range(1, 6)]
    assert len(set(seeds)) == 5 and 7 not in seeds
    assert seeds == [shard_seed(7, k) for k in range(1, 6)]
    assert shard_seed(8, 1) != shard_seed(7, 1)
    assert all(0 <= s < 2**31 for s in seeds)


def test_each_shard_is_sent_only_its_own_rows_and_promotions(ds: Dataset) -> None:
    hist = build_demand_history(ds, as_of=AS_OF)
    parts = split_history(hist, ds, n_shards=3)
    keys = [set(zip(p.history["sku"], p.history["location_id"], strict=True)) for p in parts]
    assert sum(len(p.history) for p in parts) == len(hist)
    assert sum(len(k) for k in keys) == len(set().union(*keys)) == 12  # every series in exactly one shard
    for p in parts:
        assert set(p.promotions["sku"]) <= set(p.history["sku"])
    assert sum(len(p.promotions) for p in parts) == 2


def test_an_unreachable_scheduler_is_a_clear_forecast_error(ds: Dataset) -> None:
    with pytest.raises(ForecastError, match=r"cannot connect to the Dask scheduler at 'tcp://127\.0\.0\.1:1'"):
        forecast_demand(
            ds,
            as_of=AS_OF,
            horizon_days=3,
            mode="stats",
            backend=DaskBackend(scheduler="tcp://127.0.0.1:1", connect_timeout_s=0.5),
        )


def test_a_scheduler_without_workers_is_a_clear_forecast_error(ds: Dataset) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=0, processes=False, dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"}
    ) as empty:
        backend = DaskBackend(scheduler=empty.scheduler_address, shards=2, connect_timeout_s=0.3)
        with pytest.raises(ForecastError, match="has no workers"):
            forecast_demand(ds, as_of=AS_OF, horizon_days=3, mode="stats", backend=backend)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("killed", "most often out of memory"),
        ("import", "install the same stockwarden version on every worker"),
    ],
)
def test_a_failing_worker_is_a_clear_forecast_error(
    ds: Dataset, scheduler: str, monkeypatch: pytest.MonkeyPatch, failure: str, message: str
) -> None:
    from distributed import KilledWorker

    def broken_shard(*args: object, **kwargs: object) -> None:
        if failure == "killed":
            raise KilledWorker("_forecast_shard-0", SimpleNamespace(address="tcp://worker:1"), 3)
        raise ModuleNotFoundError("No module named 'stockwarden'")

    monkeypatch.setattr(distributed_backend, "_forecast_shard", broken_shard)
    with pytest.raises(ForecastError, match=message):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, mode="stats", backend=DaskBackend(scheduler=scheduler))


def test_a_malformed_scheduler_address_is_a_clear_forecast_error(ds: Dataset) -> None:
    with pytest.raises(ForecastError, match="like tcp://host:8786"):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, backend=DaskBackend(scheduler="not-an-address"))


def test_an_unknown_backend_names_the_available_ones(ds: Dataset) -> None:
    with pytest.raises(ForecastError, match="'spark'; available: local, dask"):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, backend="spark")


def test_without_dask_installed_the_error_says_how_to_install_it(ds: Dataset, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` raise ImportError
    with pytest.raises(ForecastError, match=r"pip install 'stockwarden\[dask\]'"):
        forecast_demand(ds, as_of=AS_OF, horizon_days=3, backend="dask")


@pytest.mark.parametrize("bad", [{"shards": 0}, {"n_workers": 0}, {"threads_per_worker": 0}])
def test_impossible_cluster_options_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ForecastError, match=">= 1"):
        DaskBackend(**bad)
