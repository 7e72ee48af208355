"""Bulk-load speed and database size: ``stockwarden import-bulk`` of a generated company into a fresh
PostgreSQL database.

For each folder: creates an empty database on the server, brings it to the newest schema, loads the
folder with ``store.bulkload.bulk_import`` and records the wall time, rows/s, the loader's own step
times, the processor time of this process and of the server backend that ran the load (when the server
runs on this machine), the load average (``uptime``) before and after, and the size of ``sales``,
``inventory`` and ``purchase_orders``: heap, each index, bytes per row. The database is dropped
afterwards unless ``--keep``. Writes ``benchmarks/out/bulk_load.json`` (one entry per label; earlier
entries are kept).

Target (issue 15, the 1M load): >= 80,000 rows/s at 10k and 30k SKU-locations on a quiet machine.

Usage::

    python benchmarks/bulk_load.py --folder /tmp/stockwarden-scale/10k --label 10k \\
        --pg postgresql+psycopg://postgres@127.0.0.1:55433/postgres
    python benchmarks/bulk_load.py --generate 1000x10 --folder /tmp/bulk10k --label 10k   # generate first
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

OUT = Path(__file__).resolve().parent / "out" / "bulk_load.json"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
TABLES = ("sales", "inventory", "purchase_orders")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _cpu_seconds(pid: int) -> float | None:
    """User + system processor seconds of a local process (None when it is not readable here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sizes(engine: sa.Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            heap, total = conn.execute(
                sa.text("SELECT pg_relation_size(CAST(:t AS regclass)), pg_total_relation_size(CAST(:t AS regclass))"),
                {"t": table},
            ).one()
            indexes = conn.execute(
                sa.text(
                    "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = CAST(:t AS regclass) ORDER BY i.relname"
                ),
                {"t": table},
            ).all()
            per = max(rows, 1)
            out[table] = {
                "rows": rows,
                "total_mb": round(total / 1e6, 1),
                "heap_mb": round(heap / 1e6, 1),
                "bytes_per_row": round(total / per, 1),
                "heap_bytes_per_row": round(heap / per, 1),
                "indexes": {
                    name: {"mb": round(size / 1e6, 1), "bytes_per_row": round(size / per, 1)} for name, size in indexes
                },
            }
        out["database_mb"] = round(
            conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one() / 1e6, 1
        )
    return out


def measure(pg: str, folder: Path, *, db: str, keep: bool) -> dict[str, Any]:
    """Load ``folder`` into a new database ``db`` on the server of ``pg``; returns the figures."""
    from stockwarden.store.bulkload import bulk_import
    from stockwarden.store.db import make_engine, upgrade_database

    admin = make_engine(pg)
    url = pg.rsplit("/", 1)[0] + "/" + db
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        backend: dict[str, float | None] = {}
        begin = engine.begin

        def watched_begin() -> Any:  # the load runs in one transaction: watch the backend that runs it
            ctx = begin()
            conn = ctx.__enter__()
            pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            backend["pid"], backend["start"] = pid, _cpu_seconds(pid)

            class _Watch:
                def __enter__(self) -> Any:
                    return conn

                def __exit__(self, *exc: Any) -> Any:
                    backend["end"] = _cpu_seconds(pid)
                    return ctx.__exit__(*exc)

            return _Watch()

        engine.begin = watched_begin  # type: ignore[method-assign]
        load_before = _uptime()
        started, cpu = time.perf_counter(), time.process_time()
        report = bulk_import(engine, folder)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        load_after = _uptime()
        end, start = backend.get("end"), backend.get("start")
        server = round(end - start, 1) if end is not None and start is not None else None
        result = {
            "folder": str(folder),
            "rows": report.rows,
            "wall_s": round(wall, 1),
            "rows_per_s": round(report.rows / wall),
            "steps_s": {k: round(v, 1) for k, v in report.seconds.items()},
            "chunks": report.chunks,
            "cpu_s_this_process": round(cpu, 1),
            "cpu_s_server_backend": server,  # parallel index-build workers not included
            "uptime_before": load_before,
            "uptime_after": load_after,
            "sizes": _sizes(engine),
        }
    finally:
        engine.dispose()
        if not keep:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}"')
        admin.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True, help="a dataset folder (stockwarden sample writes one)")
    parser.add_argument("--label", required=True, help="the entry's name in the JSON (e.g. 10k)")
    parser.add_argument("--generate", help="generate the folder first: SKUSxLOCATIONS, e.g. 1000x10")
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--pg", default=os.environ.get("STOCKWARDEN_TEST_PG_URL", "").strip() or PG_DEFAULT)
    parser.add_argument("--db", default="sw_bulk_bench", help="database created (and dropped) on the server")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    folder = Path(args.folder)
    if args.generate:
        from stockwarden.ingest.sample.large import generate_large_company

        n_skus, n_loc = (int(x) for x in args.generate.lower().split("x"))
        started = time.perf_counter()
        generate_large_company(folder, seed=0, n_skus=n_skus, n_locations=n_loc, days=args.days)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    result = measure(args.pg, folder, db=args.db, keep=args.keep)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    results[args.label] = result
    out.write_text(json.dumps(results, indent=2))
    print(f"{args.label}: {result['rows']:,} rows in {result['wall_s']} s = {result['rows_per_s']:,} rows/s")
    print(f"  steps: {result['steps_s']}")
    print(f"  CPU: this process {result['cpu_s_this_process']} s, server backend {result['cpu_s_server_backend']} s")
    before, after = (result[k].split("load average: ")[-1] for k in ("uptime_before", "uptime_after"))
    print(f"  load: {before} -> {after}")
    sizes = result["sizes"]
    for table in TABLES:
        s = sizes[table]
        idx = ", ".join(f"{n} {v['bytes_per_row']}" for n, v in s["indexes"].items())
        what = f"{s['bytes_per_row']} B/row (heap {s['heap_bytes_per_row']}; {idx})"
        print(f"  {table}: {s['rows']:,} rows, {s['total_mb']:,} MB, {what}")
    print(f"  database: {sizes['database_mb']:,} MB")


if __name__ == "__main__":
    main()
