"""Forecast speed: 30,000 series x 2 years of daily history (resampled real M5 series), 28-day horizon.

usage: python benchmarks/forecast_speed.py [--series 30000] [--days 730] [--mode fast] [--skip-families]
       python benchmarks/forecast_speed.py --backend dask [--workers 2] [--threads 1] [--shards N] --series 3000

Each synthetic series is a random 2-year window of a random ``../shared/data/m5_tiny`` series (seeded).
Times ``forecast_demand`` end to end (history with censoring check, classification, backtest window,
models, dispersion, quantiles) from an in-memory dataset, then each model family alone on the same panel
(the slow AutoETS on a 1,000-series sample) and reports series per second per core.
The machine is shared: the load average is recorded with the figures.
Writes ``benchmarks/out/forecast_speed.json``.

With ``--backend dask`` it times the same forecast on a Dask ``LocalCluster`` of ``--workers``
processes x ``--threads`` threads (cluster start-up, with the model libraries imported in every
worker as in a long-running cluster, timed apart), then the local backend (libraries imported) on the same
data, and writes ``benchmarks/out/forecast_speed_dask.json`` (series per second of each, speed-up,
and how far the sharded forecast moved from the local one).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.forecast.classify import compute_series_profile
from stockwarden.forecast.engine import forecast_demand
from stockwarden.forecast.features import add_event_features, build_future_exog, build_panel
from stockwarden.forecast.history import build_demand_history
from stockwarden.forecast.models import forecast_global, forecast_stats
from stockwarden.ingest.dataset import Dataset, empty_frame

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT.parent / "shared" / "data" / "m5_tiny" / "tiny_m5.csv.gz"
OUT = ROOT / "benchmarks" / "out"
AS_OF = pd.Timestamp("2024-12-31")


def make_dataset(n_series: int, days: int, seed: int = 0) -> Dataset:
    """Resample m5_tiny: each series = a random window of ``days`` days of a random real series."""
    m5 = pd.read_csv(TINY, usecols=["item_id", "store_id", "date", "value", "sell_price"], parse_dates=["date"])
    m5 = m5.sort_values(["store_id", "item_id", "date"])
    vals = m5["value"].to_numpy(dtype=float).reshape(-1, m5["date"].nunique())
    price = m5["sell_price"].to_numpy(dtype=float).reshape(vals.shape)
    rng = np.random.default_rng(seed)
    src = rng.integers(0, vals.shape[0], n_series)
    start = rng.integers(0, vals.shape[1] - days, n_series)
    idx = start[:, None] + np.arange(days)[None, :]
    qty = vals[src[:, None], idx]
    pr = price[src[:, None], idx]
    dates = pd.date_range(end=AS_OF, periods=days, freq="D")
    i, t = np.nonzero(qty)
    skus = np.array([f"SKU{k:05d}" for k in range(n_series)], dtype=object)
    sales = pd.DataFrame(
        {
            "date": dates.to_numpy()[t],
            "sku": skus[i],
            "qty": qty[i, t],
            "location_id": "STORE1",
            "price": pr[i, t],
            "on_promotion": 0.0,
        }
    )
    sales = pd.concat([empty_frame("sales"), sales], ignore_index=True)
    return Dataset(sales=sales, present=frozenset({"sales"}))


def _time(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=30_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--mode", default="fast")
    ap.add_argument("--skip-families", action="store_true")
    ap.add_argument("--backend", choices=("local", "dask"), default="local")
    ap.add_argument("--workers", type=int, default=2, help="dask: LocalCluster worker processes")
    ap.add_argument("--threads", type=int, default=1, help="dask: threads per worker")
    ap.add_argument("--shards", type=int, default=None, help="dask: shards (default: workers x threads)")
    a = ap.parse_args()
    if a.backend == "dask":
        compare_dask(a)
        return
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    ds, build_s = _time(lambda: make_dataset(a.series, a.days))
    print(f"dataset: {a.series} series x {a.days} days, {len(ds.sales):,} sale rows, built in {build_s:.1f}s")
    fc, total_s = _time(lambda: forecast_demand(ds, as_of=AS_OF, horizon_days=28, mode=a.mode, seed=0))
    load_after = os.getloadavg()
    report: dict = {
        "series": a.series,
        "days": a.days,
        "horizon_days": 28,
        "mode": a.mode,
        "cores": cores,
        "end_to_end_seconds": round(total_s, 1),
        "target_seconds": 300,
        "meets_target": total_s < 300,
        "series_per_second_per_core_end_to_end": round(a.series / total_s / cores, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "models": fc.series["model"].value_counts().to_dict(),
    }
    print(
        f"forecast_demand(mode={a.mode!r}) end to end: {total_s:.1f}s "
        f"({a.series / total_s / cores:.1f} series/s/core); load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    if not a.skip_families:
        hist = build_demand_history(ds, as_of=AS_OF)
        prof = compute_series_profile(hist)
        panel = add_event_features(build_panel(hist, prof), ds.events, prof)
        dates = pd.date_range(AS_OF + pd.Timedelta(days=1), periods=28)
        future = add_event_features(build_future_exog(panel, prof, ds.promotions, dates), ds.events, prof)
        fam: dict[str, dict[str, float]] = {}
        for name in ("seso", "ma28", "snaive", "croston_sba", "tsb", "adida", "imapa"):
            _, s = _time(lambda n=name: forecast_stats(panel, h=28, names=[n], n_jobs=cores))
            fam[name] = {
                "series": a.series,
                "seconds": round(s, 2),
                "series_per_s_per_core": round(a.series / s / cores, 1),
            }
        sample = panel.loc[panel["unique_id"] < 1000]
        _, s = _time(lambda: forecast_stats(sample, h=28, names=["ets"], n_jobs=cores))
        fam["ets (AutoETS, 1000-series sample)"] = {
            "series": 1000,
            "seconds": round(s, 2),
            "series_per_s_per_core": round(1000 / s / cores, 1),
        }
        _, s = _time(lambda: forecast_global(panel, future, h=28, n_jobs=cores, n_estimators=80, max_train_rows=60_000))
        fam["lgbm (global, 80 rounds, 60k rows, 1 thread)"] = {
            "series": a.series,
            "seconds": round(s, 2),
            "series_per_s_per_core": round(a.series / s, 1),
        }
        report["families"] = fam
        print(f"{'family':45s} {'series':>7s} {'seconds':>8s} {'series/s/core':>14s}")
        for k, v in fam.items():
            print(f"{k:45s} {v['series']:7d} {v['seconds']:8.1f} {v['series_per_s_per_core']:14.1f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forecast_speed.json").write_text(json.dumps(report, indent=1))


def _import_model_libraries() -> None:
    import lightgbm  # noqa: F401
    import mlforecast  # noqa: F401
    import statsforecast.models  # noqa: F401


def compare_dask(a: argparse.Namespace) -> None:
    """The forecast on a Dask LocalCluster vs the local backend, same data and seed; one run each."""
    from distributed import Client, LocalCluster

    from stockwarden.forecast.distributed import DaskBackend

    ds, _ = _time(lambda: make_dataset(a.series, a.days))
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=a.workers,
        threads_per_worker=a.threads,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    client = Client(cluster)
    client.run(_import_model_libraries)  # a running cluster has them loaded; ~6 s per cold process here
    start_s = time.perf_counter() - t0
    _import_model_libraries()  # the same for the local run
    try:
        backend = DaskBackend(client=client, shards=a.shards or a.workers * a.threads)
        dfc, dask_s = _time(
            lambda: forecast_demand(ds, as_of=AS_OF, horizon_days=28, mode=a.mode, seed=0, backend=backend)
        )
    finally:
        client.close()
        cluster.close()
    lfc, local_s = _time(lambda: forecast_demand(ds, as_of=AS_OF, horizon_days=28, mode=a.mode, seed=0))
    load_after = os.getloadavg()
    # yardstick for the shard effect: how much the local forecast moves with another seed alone
    other_seed = forecast_demand(ds, as_of=AS_OF, horizon_days=28, mode=a.mode, seed=1)
    total_local, total_dask = lfc.mean.sum(axis=1), dfc.mean.sum(axis=1)
    total_seed1 = other_seed.mean.sum(axis=1)
    report = {
        "series": a.series,
        "days": a.days,
        "horizon_days": 28,
        "mode": a.mode,
        "cores": os.cpu_count() or 1,
        "dask_workers": a.workers,
        "dask_threads_per_worker": a.threads,
        "shards": a.shards or a.workers * a.threads,
        "cluster_start_seconds": round(start_s, 1),
        "dask_seconds": round(dask_s, 1),
        "local_seconds": round(local_s, 1),
        "dask_series_per_second": round(a.series / dask_s, 1),
        "local_series_per_second": round(a.series / local_s, 1),
        "speedup_dask_vs_local": round(local_s / dask_s, 2),
        "same_series_order": bool(dfc.series[["sku", "location_id"]].equals(lfc.series[["sku", "location_id"]])),
        "horizon_total_relative_diff_median": round(
            float(np.median(np.abs(total_dask - total_local) / np.maximum(total_local, 1e-9))), 4
        ),
        "horizon_total_sum_ratio_dask_to_local": round(float(total_dask.sum() / total_local.sum()), 4),
        "horizon_total_relative_diff_median_local_seed1_vs_seed0": round(
            float(np.median(np.abs(total_seed1 - total_local) / np.maximum(total_local, 1e-9))), 4
        ),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(f"{'backend':28s} {'seconds':>8s} {'series/s':>9s}")
    print(f"{'local':28s} {local_s:8.1f} {a.series / local_s:9.1f}")
    label = f"dask {a.workers}x{a.threads} ({report['shards']} shards)"
    print(f"{label:28s} {dask_s:8.1f} {a.series / dask_s:9.1f}   (+{start_s:.1f}s cluster start)")
    print(
        f"speed-up {local_s / dask_s:.2f}x; median |28-day total dask - local| / local = "
        f"{report['horizon_total_relative_diff_median']} (local, another seed: "
        f"{report['horizon_total_relative_diff_median_local_seed1_vs_seed0']}); "
        f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forecast_speed_dask.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
