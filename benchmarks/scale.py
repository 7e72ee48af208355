"""The daily run at scale: generate, import into PostgreSQL, run, at 10k ... 1M SKU-locations.

For each size: the sample company is generated in parquet chunks (``ingest.sample.large``), bulk-loaded
into a fresh PostgreSQL database (``store.bulkload``), and the daily run is run on it in each forecast
mode asked for. Every phase runs in its own process; a sampler records the peak resident memory (RSS) of
that process, of every process it starts (forecast processes, Dask workers) and of the PostgreSQL
server processes (backends include the shared buffers they touched), and the peak of all the
phase's processes together (proportional set size, so pages forked children share with their parent
count once). Prints a table and merges the figures into
``benchmarks/out/scale.json`` (one size at a time is fine: earlier sizes are kept); the growth
exponent between sizes is ``log(t2 / t1) / log(n2 / n1)`` (1 = linear).

Sizes (SKUs x locations): 10k = 1,000 x 10; 30k = 5,000 x 6 (the case of issue 15); 100k = 1,000 x
100; 300k = 3,000 x 100; 1m = 10,000 x 100.

Usage::

    nice -n 10 python benchmarks/scale.py --sizes 10k,30k --modes fast,default \\
        --pg postgresql+psycopg://postgres@127.0.0.1:55433/postgres [--days 400] [--workdir /tmp/scale]
        [--run-args "--partitions 8"] [--max-rss-gb 20]

A phase whose memory passes ``--max-rss-gb`` (all its processes together) is stopped, and the size is
reported as not fitting, with the memory it had reached.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("out")
SIZES: dict[str, tuple[int, int]] = {
    "1k": (100, 10),  # a smoke test of the harness
    "10k": (1_000, 10),
    "30k": (5_000, 6),
    "100k": (1_000, 100),
    "300k": (3_000, 100),
    "1m": (10_000, 100),
}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:55433/postgres"


# --------------------------------------------------------------------------------------------- phases
def phase_generate(args: argparse.Namespace) -> dict[str, Any]:
    from stockwarden.ingest.sample.large import generate_large_company

    n_skus, n_loc = SIZES[args.size]
    company = generate_large_company(Path(args.folder), seed=0, n_skus=n_skus, n_locations=n_loc, days=args.days)
    return {"rows": company.rows, "blocks": company.n_blocks}


def phase_import(args: argparse.Namespace) -> dict[str, Any]:
    from stockwarden.store.bulkload import bulk_import
    from stockwarden.store.db import make_engine, upgrade_database

    engine = make_engine(args.db)
    upgrade_database(engine)
    report = bulk_import(engine, Path(args.folder))
    engine.dispose()
    return {
        "rows": report.rows,
        "tables": {n: t.counts() for n, t in report.tables.items()},
        "steps_s": {k: round(v, 2) for k, v in report.seconds.items()},
    }


def phase_run(args: argparse.Namespace) -> dict[str, Any]:
    from stockwarden.alerts.notify.base import AppriseNotifier
    from stockwarden.config import NotifyChannel, NotifyRules, RulesConfig, RunRules
    from stockwarden.pipeline import run_pipeline
    from stockwarden.store.db import make_engine, upgrade_database

    engine = make_engine(args.db)
    upgrade_database(engine)
    rules = RulesConfig(
        run=RunRules(forecast_mode=args.mode),
        notify=NotifyRules(channels=[NotifyChannel(name="file", url=f"file://{args.folder}/notifications.log")]),
    )
    now = dt.datetime.now(dt.UTC)
    if not args.partitions:
        report = run_pipeline(engine, as_of=None, config=rules, now=now, notifier=AppriseNotifier())
        engine.dispose()
        return {
            "status": report.status,
            "steps_s": {s.name: round(s.seconds, 2) for s in report.steps},
            "counts": {k: v for k, v in report.counts.items() if isinstance(v, int)},
        }
    from stockwarden.partitioned import run_partitioned

    backend: Any = "local"
    if args.backend == "dask":
        from stockwarden.forecast.distributed import DaskBackend

        backend = DaskBackend(n_workers=args.workers, threads_per_worker=1, connect_timeout_s=60)
    partitions = None if args.partitions == "auto" else int(args.partitions)
    finished: list[Any] = []

    class Sampled(Exception):
        """Raised after --sample-partitions partitions: the rest of the run is not measured."""

    def on_partition(outcome: Any) -> None:
        finished.append(outcome)
        if args.sample_partitions and len(finished) >= args.sample_partitions:
            raise Sampled

    started = time.perf_counter()
    try:
        done = run_partitioned(
            engine,
            as_of=None,
            config=rules,
            now=now,
            partitions=partitions,
            backend=backend,
            notifier=AppriseNotifier(),
            on_partition=on_partition,
        )
    except Sampled:
        engine.dispose()
        work = [sum(o.seconds.values()) for o in finished]
        return {
            "status": f"sampled {len(finished)} partitions, then stopped",
            "steps_s": {"before_partitions_and_sampled": round(time.perf_counter() - started, 2)},
            "partition_s": {
                "mean": round(sum(work) / len(work), 2),
                "max": round(max(work), 2),
                "sum": round(sum(work), 2),
                "per_step_mean": {
                    k: round(sum(o.seconds.get(k, 0.0) for o in finished) / len(finished), 2)
                    for k in finished[0].seconds
                },
                "series_per_partition": round(sum(o.n_series for o in finished) / len(finished)),
            },
        }
    wall = time.perf_counter() - started
    engine.dispose()
    per_step: dict[str, list[float]] = {}
    for o in done.partitions:
        for k, v in o.seconds.items():
            per_step.setdefault(k, []).append(v)
    work = [sum(o.seconds.values()) for o in done.partitions]
    return {
        "status": done.run.status,
        "partitions": len(done.partitions),
        "backend": args.backend,
        "steps_s": {
            **{k: round(v, 2) for k, v in done.seconds.items()},
            **{f"run.{s.name}": round(s.seconds, 2) for s in done.run.steps},
        },
        "partition_s": {
            "mean": round(sum(work) / max(len(work), 1), 2),
            "max": round(max(work, default=0.0), 2),
            "sum": round(sum(work), 2),
            "per_step_mean": {k: round(sum(v) / len(v), 2) for k, v in per_step.items()},
            "series_per_partition": round(sum(o.n_series for o in done.partitions) / max(len(work), 1)),
        },
        # processor seconds (user + system) per partition step: less moved by other work on the machine
        "partition_cpu_s": {
            k: round(sum(o.cpu_seconds.get(k, 0.0) for o in done.partitions) / max(len(done.partitions), 1), 2)
            for k in per_step
        },
        "wall_in_process_s": round(wall, 2),
        "counts": {k: v for k, v in done.run.counts.items() if isinstance(v, int)},
    }


PHASES = {"generate": phase_generate, "import": phase_import, "run": phase_run}


# --------------------------------------------------------------------------------------------- measuring
class Sampler(threading.Thread):
    """Peak RSS of a process, its descendants, and the PostgreSQL server's processes, sampled every 0.25 s."""

    def __init__(self, pid: int, pg_port: int | None, limit_bytes: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.pg_port = pg_port
        self.limit = limit_bytes
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self.over_limit = False
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        pg_root = _postmaster(self.pg_port) if self.pg_port else None
        while not self.stop.wait(0.25):
            try:
                root = psutil.Process(self.pid)
                procs = [("main", root)] + [(_role(p), p) for p in root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            if pg_root is not None:
                procs += [("postgres", p) for p in pg_root.children()]
            total = 0
            for role, p in procs:
                try:
                    rss = p.memory_info().rss
                    # forked children share their parent's pages: the total counts each page once (PSS)
                    shared_fairly = p.memory_full_info().pss if role != "postgres" else rss
                except psutil.Error:
                    continue
                key = f"{role}:{p.pid}" if role not in ("main",) else role
                self.peak[key] = max(self.peak.get(key, 0), rss)
                if role != "postgres":
                    total += shared_fairly
            self.peak_total = max(self.peak_total, total)
            if total > self.limit:
                self.over_limit = True
                for _role_name, p in procs[::-1]:
                    if _role_name != "postgres":
                        with contextlib.suppress(psutil.Error):
                            p.kill()
                return


def _role(p: Any) -> str:
    try:
        cmd = " ".join(p.cmdline())
    except Exception:
        return "child"
    if "distributed" in cmd or "dask" in cmd or "spawn" in cmd or "multiprocessing" in cmd:
        return "worker"
    return "child"


def _postmaster(port: int) -> Any:
    import psutil

    for p in psutil.process_iter(["cmdline", "name"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if p.info.get("name") in ("postgres", "postmaster") and f"-p {port}" in cmd:
            return p
    return None


def run_phase(name: str, argv: list[str], *, pg_port: int | None, limit_gb: float) -> dict[str, Any]:
    """Run one phase in a child process; its result plus wall time and peak memory per process."""
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    child = subprocess.Popen(
        [sys.executable, __file__, "_phase", name, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = Sampler(child.pid, pg_port, limit_gb * 2**30)
    sampler.start()
    out, err = child.communicate()
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    peaks = {k: round(v / 2**20) for k, v in sorted(sampler.peak.items())}
    pg = [v for k, v in peaks.items() if k.startswith("postgres")]
    result: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # 1-minute, at start and end
        "peak_mb": {
            "main": peaks.get("main", 0),
            "workers": {k: v for k, v in peaks.items() if k.startswith(("worker", "child"))},
            "all_processes_together": round(sampler.peak_total / 2**20),
            "postgres_largest_backend": max(pg) if pg else 0,
        },
    }
    if sampler.over_limit:
        result["error"] = f"stopped: its processes passed {limit_gb} GB together"
        return result
    if child.returncode != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        result["error"] = f"exit {child.returncode}: {lines[-1] if lines else ''}"
        return result
    result.update(json.loads(out.strip().splitlines()[-1]))
    return result


def _create_database(admin_url: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _db_size_mb(url: str) -> int:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return round(row[0] / 2**20) if row else 0


def growth(results: dict[str, Any], key: tuple[str, ...]) -> dict[str, float]:
    """Growth exponents of a figure between consecutive measured sizes."""
    points = []
    for size, (n_skus, n_loc) in SIZES.items():
        value: Any = results.get(size)
        if isinstance(value, dict) and isinstance(value.get(key[0]), dict) and "error" in value[key[0]]:
            continue  # a stopped or failed phase has no comparable time
        for k in key:
            value = value.get(k) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and value > 0:
            points.append((size, n_skus * n_loc, float(value)))
    return {
        f"{a[0]}->{b[0]}": round(math.log(b[2] / a[2]) / math.log(b[1] / a[1]), 2)
        for a, b in itertools.pairwise(points)
    }


def _modes(spec: str) -> list[str]:
    """The forecast modes named in ``--modes``, ``default`` read as the rules' default (``run.forecast_mode``)."""
    from stockwarden.config import RunRules

    default = RunRules().forecast_mode
    return [default if m.strip() == "default" else m.strip() for m in spec.split(",") if m.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,30k")
    parser.add_argument(
        "--modes",
        default="fast,default",
        help="forecast modes of the run: fast, stats, auto, or default (the rules default: run.forecast_mode)",
    )
    parser.add_argument("--pg", default=os.environ.get("STOCKWARDEN_SCALE_PG_URL", DEFAULT_PG))
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--workdir", default="/tmp/stockwarden-scale")
    parser.add_argument("--max-rss-gb", type=float, default=20.0)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the generated folder")
    parser.add_argument("--skip-import", action="store_true", help="reuse the loaded database")
    parser.add_argument("--out", default=str(OUT / "scale.json"))
    parser.add_argument(
        "--partitions", default="", help="run partitioned: a count, or 'auto' (10,000 SKU-locations each)"
    )
    parser.add_argument("--backend", default="local", choices=["local", "dask"], help="where partitions run")
    parser.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers (1 thread each)")
    parser.add_argument("--label", default="", help="suffix of the result keys (run_<mode><label>)")
    parser.add_argument(
        "--sample-partitions",
        type=int,
        default=0,
        help="stop a partitioned run after this many partitions (the company-wide steps before them and a "
        "sample of the partition cost, when the whole run would take hours)",
    )
    parser.add_argument("--report", action="store_true", help="print the stored figures as Markdown and stop")
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    if args.report:
        print(report(json.loads(Path(args.out).read_text())))
        return

    pg_port = make_url(args.pg).port
    out_path = Path(args.out)
    results: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("sizes", {})
    for size in args.sizes.split(","):
        if size not in SIZES:
            sys.exit(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        n_skus, n_loc = SIZES[size]
        folder = Path(args.workdir) / size
        entry: dict[str, Any] = {"skus": n_skus, "locations": n_loc, "series": n_skus * n_loc, "days": args.days}
        entry["load_average"] = os.getloadavg()[0]
        common = ["--size", size, "--folder", str(folder), "--days", str(args.days)]
        if not args.skip_generate:
            entry["generate"] = run_phase("generate", common, pg_port=None, limit_gb=args.max_rss_gb)
            _show(size, "generate", entry["generate"])
        db = make_url(args.pg).set(database=f"sw_scale_{size}").render_as_string(hide_password=False)
        if not args.skip_import:
            db = _create_database(args.pg, f"sw_scale_{size}")
            entry["import"] = run_phase("import", [*common, "--db", db], pg_port=pg_port, limit_gb=args.max_rss_gb)
            _show(size, "import", entry["import"])
        entry["db_size_mb"] = _db_size_mb(db)
        for mode in _modes(args.modes):  # --modes "": generate and import only
            # a run stores its results: each mode starts from the freshly loaded data (same as_of)
            _reset_run_tables(db)
            extra = ["--partitions", args.partitions, "--backend", args.backend, "--workers", str(args.workers)]
            extra += ["--sample-partitions", str(args.sample_partitions)]
            res = run_phase(
                "run", [*common, "--db", db, "--mode", mode, *extra], pg_port=pg_port, limit_gb=args.max_rss_gb
            )
            entry[f"run_{mode}{args.label}"] = res
            _show(size, f"run {mode}{args.label}", res)
        previous = results["sizes"].get(size, {})
        results["sizes"][size] = {**previous, **entry}
        results["growth"] = {
            "generate": growth(results["sizes"], ("generate", "wall_s")),
            "import": growth(results["sizes"], ("import", "wall_s")),
            **{
                f"run_{m}{label}": growth(results["sizes"], (f"run_{m}{label}", "wall_s"))
                for m in ("fast", "auto", "stats")
                for label in ("", "_partitioned", "_dask")
            },
        }
        OUT.mkdir(exist_ok=True)
        out_path.write_text(json.dumps(results, indent=2))
    print(json.dumps(results.get("growth", {}), indent=1))


def report(results: dict[str, Any]) -> str:
    """The figures of ``scale.json`` as a Markdown table (for docs/scale.md and the README)."""
    lines = [
        "| size | phase | wall | CPU | load average | peak main process | all processes | largest PostgreSQL backend "
        "| steps (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, entry in results.get("sizes", {}).items():
        for phase, res in entry.items():
            if not isinstance(res, dict) or "wall_s" not in res:
                continue
            peak = res.get("peak_mb", {})
            steps = ", ".join(f"{k} {v}" for k, v in res.get("steps_s", {}).items())
            if "partition_s" in res:
                ps = res["partition_s"]
                steps += (
                    f"; {res.get('partitions')} partitions of {ps['series_per_partition']:,} series, "
                    f"{ps['mean']} s each ({', '.join(f'{k} {v}' for k, v in ps['per_step_mean'].items())})"
                )
                if res.get("partition_cpu_s"):
                    cpu = res["partition_cpu_s"]
                    each = ", ".join(f"{k} {v}" for k, v in cpu.items())
                    steps += f"; CPU s per partition {sum(cpu.values()):.1f} ({each})"
            status = res.get("error", "")
            cpu_s = f"{res['cpu_s']:.0f} s" if "cpu_s" in res else ""
            load = "-".join(f"{x:.1f}" for x in res.get("load_average", []))
            lines.append(
                f"| {size} | {phase} | {res['wall_s']:.0f} s{' (' + status + ')' if status else ''} | "
                f"{cpu_s} | {load} | "
                f"{peak.get('main', 0):,} MB | {peak.get('all_processes_together', 0):,} MB | "
                f"{peak.get('postgres_largest_backend', 0):,} MB | {steps} |"
            )
    return "\n".join(lines)


def _reset_run_tables(db: str) -> None:
    """Empty what a daily run writes (runs, alerts, proposals, outbox ...), keeping the imported dataset."""
    import sqlalchemy as sa

    from stockwarden.store import load_table_modules
    from stockwarden.store.base import Base
    from stockwarden.store.db import make_engine
    from stockwarden.store.tables import BATCHES, DATASET_TABLES, DIGESTS, HISTORY, REJECTS

    load_table_modules()
    keep = {t.name for t in (*DATASET_TABLES.values(), BATCHES, DIGESTS, HISTORY, REJECTS)} | {"alembic_version"}
    engine = make_engine(db)
    with engine.begin() as conn:
        names = [t for t in sa.inspect(conn).get_table_names() if t not in keep and t in Base.metadata.tables]
        if names:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(names)} CASCADE")
    engine.dispose()


def _show(size: str, phase: str, res: dict[str, Any]) -> None:
    peak = res.get("peak_mb", {})
    steps = res.get("steps_s", {})
    text = " ".join(f"{k}={v}" for k, v in steps.items())
    status = res.get("error") or res.get("status", "ok")
    line = (
        f"{size:>5} {phase:<10} {res.get('wall_s', 0):8.1f} s  peak main {peak.get('main', 0):6d} MB, "
        f"all {peak.get('all_processes_together', 0):6d} MB, pg {peak.get('postgres_largest_backend', 0):5d} MB  "
        f"cpu {res.get('cpu_s', 0):.0f} s, load {res.get('load_average', '')}  {status}  {text}"
    )
    print(line, flush=True)


def _phase_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=list(PHASES))
    parser.add_argument("--size", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--db")
    parser.add_argument("--mode", default="fast")
    parser.add_argument("--partitions", default="")
    parser.add_argument("--backend", default="local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-partitions", type=int, default=0)
    args = parser.parse_args(argv)
    result = PHASES[args.phase](args)
    t = os.times()  # the phase's processor time, its finished child processes included
    result["cpu_s"] = round(t.user + t.system + t.children_user + t.children_system, 2)
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_phase":
        _phase_main(sys.argv[2:])
    else:
        main()
