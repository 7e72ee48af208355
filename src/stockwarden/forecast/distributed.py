"""The Dask backend: the same forecasting engine, run shard by shard on a Dask cluster.

``forecast_demand(ds, ..., backend="dask")`` (or ``backend=DaskBackend(scheduler=..., shards=...)``)
lands here. The plan is deliberately simple:

1. the demand history is built once, on the calling machine (:func:`build_demand_history`);
2. every series (SKU-location) is put in one of ``shards`` shards by a stable hash of
   ``"<sku>|<location_id>"`` (CRC-32, the same in every process and on every machine), so a series
   always lands in the same shard whatever the cluster looks like;
3. each shard gets only its own history rows (plus the event calendar and the promotions of its
   SKUs), and is forecast on a worker by the local engine (``backend="local"``, one thread);
4. the shard forecasts are put back together in the order the local engine would use.

What is "global" becomes global per shard: the LightGBM model is trained across the series of its
shard, and the pooled parts of the distribution (level uncertainty from the backtest, the backtest
sample of at most ``BACKTEST_SAMPLE_SERIES`` series) are pooled per shard too. With thousands of
series per shard this loses almost nothing (a global model has long stopped learning from more
series by then); with a handful of series per shard it does, so keep shards large.

Seeds: shard 0 uses the caller's seed (so one shard reproduces ``backend="local"`` exactly), shard
``k`` a seed derived from ``(seed, k)`` with :class:`numpy.random.SeedSequence`. Shard membership,
seed and thread count do not depend on which worker runs a shard or when, so the same input, seed
and shard count give the same forecast.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stockwarden.domain.demand import DemandForecast
from stockwarden.errors import ForecastError
from stockwarden.forecast.engine import forecast_demand
from stockwarden.forecast.history import history_as_of
from stockwarden.ingest.dataset import Dataset

if TYPE_CHECKING:
    from distributed import Client

DASK_SCHEDULER_ENV = "STOCKWARDEN_DASK_SCHEDULER"
"""Environment variable the command line reads for the scheduler address."""
INSTALL_HINT = "install it with: pip install 'stockwarden[dask]'"
MIN_SERIES_PER_SHARD = 5000
"""Default smallest shard: each shard pays fixed costs (a backtest sample of up to 1,000 series, a
LightGBM fit on a capped number of rows) and pools its global model over its own series only, so
small data sets are not cut below this (an explicit ``shards`` is always obeyed)."""


@dataclass(frozen=True)
class DaskBackend:
    """Where and how to run the forecast on Dask.

    Attributes:
        scheduler: address of a running Dask scheduler (``tcp://host:8786``). ``None`` starts a
            private :class:`distributed.LocalCluster` on this machine for the call.
        shards: number of shards (default: one per worker thread in the cluster, but none smaller
            than ``min_series_per_shard`` series).
        min_series_per_shard: smallest default shard (see :data:`MIN_SERIES_PER_SHARD`).
        n_workers: workers of the local cluster (default: Dask's choice from the cores); ignored with
            a scheduler.
        threads_per_worker: threads per worker of the local cluster; ignored with a scheduler.
        processes: local cluster workers are processes (True) or threads of this process (False).
        connect_timeout_s: how long to wait for the scheduler, and for a first worker to join it.
        client: an already connected ``distributed.Client`` to use instead (it is not closed).

    Example:
        >>> fc = forecast_demand(ds, as_of="2016-03-01", horizon_days=28,
        ...                      backend=DaskBackend(scheduler="tcp://10.0.0.5:8786"))  # doctest: +SKIP
    """

    scheduler: str | None = None
    shards: int | None = None
    min_series_per_shard: int = MIN_SERIES_PER_SHARD
    n_workers: int | None = None
    threads_per_worker: int = 1
    processes: bool = True
    connect_timeout_s: float = 10.0
    client: Client | None = None

    def __post_init__(self) -> None:
        if self.shards is not None and (not isinstance(self.shards, int | np.integer) or self.shards < 1):
            raise ForecastError(f"shards must be a whole number >= 1, got {self.shards!r}")
        if self.n_workers is not None and self.n_workers < 1:
            raise ForecastError(f"n_workers must be >= 1, got {self.n_workers!r}")
        if self.threads_per_worker < 1:
            raise ForecastError(f"threads_per_worker must be >= 1, got {self.threads_per_worker!r}")


@dataclass(frozen=True)
class ShardInput:
    """What one worker needs: its history rows, the calendar, its SKUs' promotions."""

    index: int
    history: pd.DataFrame
    events: pd.DataFrame | None
    promotions: pd.DataFrame | None


def forecast_distributed(
    ds: Dataset | None,
    *,
    backend: str | DaskBackend,
    as_of: pd.Timestamp | str,
    horizon_days: int,
    seed: int = 0,
    mode: str = "auto",
    history: pd.DataFrame | None = None,
) -> DemandForecast:
    """Forecast like :func:`~stockwarden.forecast.engine.forecast_demand`, shard by shard on Dask.

    Called by ``forecast_demand`` for ``backend="dask"`` or a :class:`DaskBackend`; the arguments
    mean the same there.

    Returns:
        The :class:`~stockwarden.domain.demand.DemandForecast`, series in the local engine's order.

    Raises:
        ForecastError: dask is not installed, the scheduler cannot be reached or has no workers,
            nothing to forecast, or a shard failed.
    """
    spec = backend if isinstance(backend, DaskBackend) else _backend_named(backend)
    dist = _import_distributed()
    day = pd.Timestamp(as_of).normalize()
    history = history_as_of(ds, history, day)
    with _open_client(spec, dist) as client:
        threads = _worker_threads(client, timeout_s=spec.connect_timeout_s)  # also: fail fast without workers
        n_series = len(history[["sku", "location_id"]].drop_duplicates())
        n_shards = spec.shards or default_shard_count(n_series, threads=threads, min_series=spec.min_series_per_shard)
        inputs = split_history(history, ds, n_shards=n_shards)
        data = client.scatter(inputs, hash=False)  # each shard's rows go to one worker, not to all
        futures = [
            client.submit(
                _forecast_shard,
                part,
                as_of=day,
                horizon_days=horizon_days,
                seed=shard_seed(seed, shard.index),
                mode=mode,
                pure=False,
            )
            for part, shard in zip(data, inputs, strict=True)
        ]
        try:
            parts = client.gather(futures)
        except ImportError as exc:
            raise ForecastError(
                f"a Dask worker cannot import stockwarden ({exc}); install the same stockwarden version on every worker"
            ) from exc
        except dist.KilledWorker as exc:
            raise ForecastError(
                f"Dask workers died while forecasting a shard ({exc}); most often out of memory: give the "
                "workers more memory or use more shards"
            ) from exc
        except OSError as exc:  # CommClosedError and friends: the scheduler went away mid-run
            raise ForecastError(f"lost the connection to the Dask cluster while forecasting: {exc}") from exc
    return combine_forecasts(parts, order=_series_order(history))


def split_history(history: pd.DataFrame, ds: Dataset | None, *, n_shards: int) -> list[ShardInput]:
    """Cut the history into the non-empty shards (by :func:`shard_of`), each with what it needs."""
    series_no = history.groupby(["sku", "location_id"], sort=False, dropna=False).ngroup().to_numpy()
    keys = history[["sku", "location_id"]].drop_duplicates()  # same order as ngroup(sort=False)
    shard = shard_of(keys["sku"].to_numpy(), keys["location_id"].to_numpy(), n_shards=n_shards)
    row_shard = shard[series_no]
    out = []
    for k in np.unique(shard):
        rows = history.loc[row_shard == k]
        events = promotions = None
        if ds is not None:
            events = ds.events
            promotions = ds.promotions.loc[ds.promotions["sku"].isin(rows["sku"].unique())]
        out.append(ShardInput(index=int(k), history=rows, events=events, promotions=promotions))
    return out


def default_shard_count(n_series: int, *, threads: int, min_series: int = MIN_SERIES_PER_SHARD) -> int:
    """One shard per worker thread, but no shard under ``min_series`` series (and at least one)."""
    return max(1, min(threads, n_series // max(min_series, 1)))


def shard_of(skus: np.ndarray, location_ids: np.ndarray, *, n_shards: int) -> np.ndarray:
    """Shard of each series: CRC-32 of ``"<sku>|<location_id>"`` modulo ``n_shards`` (stable everywhere)."""
    codes = [zlib.crc32(f"{s}|{loc}".encode()) for s, loc in zip(skus, location_ids, strict=True)]
    return np.asarray(codes, dtype=np.int64) % n_shards


def shard_seed(seed: int, shard: int) -> int:
    """Seed of shard ``shard``: ``seed`` itself for shard 0, else one derived from ``(seed, shard)``."""
    if shard == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(shard)]).generate_state(1)[0] >> 1)


def combine_forecasts(parts: Sequence[DemandForecast], *, order: pd.DataFrame) -> DemandForecast:
    """One forecast from shard forecasts, series in ``order`` (``sku, location_id`` rows).

    Raises:
        ForecastError: when the shards disagree on the dates or do not cover ``order`` exactly.
    """
    if not parts:
        raise ForecastError("no shard produced a forecast")
    dates, h = parts[0].dates, parts[0].horizon_days
    if any(not p.dates.equals(dates) for p in parts):
        raise ForecastError("shard forecasts have different dates; this is a bug, please report it")
    series = pd.concat([p.series for p in parts], ignore_index=True)
    got = pd.MultiIndex.from_frame(series[["sku", "location_id"]])
    want = pd.MultiIndex.from_frame(order[["sku", "location_id"]])
    pos = got.get_indexer(want)
    if len(got) != len(want) or (pos < 0).any() or not got.is_unique:
        raise ForecastError(
            f"shard forecasts cover {len(got)} series, expected the {len(want)} of the history; this is a bug"
        )
    daily = pd.concat([p.daily for p in parts], ignore_index=True)
    rows = (pos[:, None] * h + np.arange(h)[None, :]).ravel()
    return DemandForecast(
        daily=daily.iloc[rows].reset_index(drop=True),
        series=series.iloc[pos].reset_index(drop=True),
        dates=dates,
        mean=np.concatenate([p.mean for p in parts])[pos],
        size=np.concatenate([p.size for p in parts])[pos],
        level_shape=np.concatenate([p.level_shape for p in parts])[pos],
        as_of=parts[0].as_of,
    )


def _forecast_shard(
    shard: ShardInput, *, as_of: pd.Timestamp, horizon_days: int, seed: int, mode: str
) -> DemandForecast:
    """Runs on a worker: the local engine on one shard, one thread (parallelism comes from shards)."""
    ds = None
    if shard.events is not None and shard.promotions is not None:
        ds = Dataset(events=shard.events, promotions=shard.promotions)
    return forecast_demand(
        ds, as_of=as_of, horizon_days=horizon_days, seed=seed, mode=mode, history=shard.history, n_jobs=1
    )


def _series_order(history: pd.DataFrame) -> pd.DataFrame:
    """The series in the local engine's order (sorted by sku, location_id, as its profile is)."""
    keys = history[["sku", "location_id"]].drop_duplicates()
    return keys.sort_values(["sku", "location_id"]).reset_index(drop=True)


def _backend_named(name: str) -> DaskBackend:
    if name != "dask":
        raise ForecastError(f"unknown or unavailable distributed backend {name!r}; available: dask")
    return DaskBackend()


def _import_distributed() -> ModuleType:
    try:
        import distributed
    except ImportError as exc:
        raise ForecastError(
            f"the Dask backend needs dask[distributed], which is not installed; {INSTALL_HINT}"
        ) from exc
    return distributed


@contextmanager
def _open_client(spec: DaskBackend, dist: ModuleType) -> Iterator[Client]:
    """A client on the given scheduler, or on a private LocalCluster closed on exit."""
    if spec.client is not None:
        yield spec.client
        return
    timeout = f"{spec.connect_timeout_s}s"
    if spec.scheduler:
        try:
            client = dist.Client(spec.scheduler, timeout=timeout, set_as_default=False)
        except (OSError, ValueError) as exc:
            raise ForecastError(
                f"cannot connect to the Dask scheduler at {spec.scheduler!r}: {exc}. Check the address "
                f"(like tcp://host:8786), that the scheduler is running and reachable from here, or leave "
                f"{DASK_SCHEDULER_ENV} / --scheduler unset to start a local cluster"
            ) from exc
        try:
            yield client
        finally:
            client.close()
        return
    cluster = dist.LocalCluster(
        n_workers=spec.n_workers,
        threads_per_worker=spec.threads_per_worker,
        processes=spec.processes,
        dashboard_address=None,  # no dashboard; its HTTP server (health routes) on a free port, not 8787
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    try:
        client = dist.Client(cluster, timeout=timeout, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _worker_threads(client: Client, *, timeout_s: float) -> int:
    """Total worker threads, after waiting (up to ``timeout_s``) for a first worker."""
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except TimeoutError as exc:
        raise ForecastError(
            f"the Dask scheduler at {client.scheduler.address} has no workers; start some with "
            "`dask worker <scheduler address>`"
        ) from exc
    return max(1, sum(client.nthreads().values()))
