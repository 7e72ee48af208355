"""Import speed: 1M sales rows + matching inventory and PO rows, into SQLite and PostgreSQL.

Generates a dataset folder in a temporary directory, imports it (first import: everything inserted),
then imports the same folder again (nothing changes), and prints rows/s for each. PostgreSQL is used
when ``STOCKWARDEN_TEST_PG_URL`` (or the CI default on 127.0.0.1:55432) is reachable. Writes
``benchmarks/out/import_speed.json``.

Target (issue 2): >= 100,000 rows/s into SQLite, and the second import at least as fast.

Usage: ``python benchmarks/import_speed.py [--sales-rows N] [--skip-postgres]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out" / "import_speed.json"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"


def generate(folder: Path, *, sales_rows: int = 1_000_000, seed: int = 0) -> dict[str, int]:
    """Write a dataset folder with ``sales_rows`` daily sales lines and matching counts and POs."""
    rng = np.random.default_rng(seed)
    n_loc = 4
    days = 500
    n_sku = max(1, sales_rows // (n_loc * days))
    folder.mkdir(parents=True, exist_ok=True)
    skus = np.array([f"SKU-{i:05d}" for i in range(n_sku)], dtype=object)
    locs = np.array([f"WH{j}" for j in range(n_loc)], dtype=object)
    sups = np.array([f"SUP-{k}" for k in range(10)], dtype=object)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    date_txt = np.array(dates.strftime("%Y-%m-%d"), dtype=object)
    pd.DataFrame({"location_id": locs, "name": [f"Warehouse {j}" for j in range(n_loc)], "kind": "warehouse"}).to_csv(
        folder / "locations.csv", index=False
    )
    pd.DataFrame(
        {"supplier_id": sups, "name": [f"Supplier {k}" for k in range(10)], "lead_time_days": rng.integers(3, 20, 10)}
    ).to_csv(folder / "suppliers.csv", index=False)
    pd.DataFrame(
        {
            "sku": skus,
            "name": [f"Item {s}" for s in skus],
            "category": "cat",
            "unit": "ea",
            "unit_cost": np.round(rng.uniform(1, 50, n_sku), 2),
            "pack_size": 6,
            "moq": 12,
            "supplier_id": sups[rng.integers(0, 10, n_sku)],
            "lead_time_days": 7,
        }
    ).to_csv(folder / "items.csv", index=False)
    # Sales: every (sku, location) has a row every day until sales_rows is reached.
    n_series = n_sku * n_loc
    total = min(sales_rows, n_series * days)
    idx = np.arange(total)
    series, day = idx // days, idx % days
    sales = pd.DataFrame(
        {
            "date": date_txt[day],
            "sku": skus[series // n_loc],
            "location_id": locs[series % n_loc],
            "qty": rng.poisson(5, total),
            "price": np.round(rng.uniform(1, 99, n_sku), 2)[series // n_loc],
            "on_promotion": (rng.random(total) < 0.05).astype(int),
        }
    )
    sales.to_csv(folder / "sales.csv", index=False)
    # Inventory: weekly counts per series.
    weeks = np.arange(0, days, 7)
    s_i, w_i = np.meshgrid(np.arange(n_series), weeks, indexing="ij")
    s_i, w_i = s_i.ravel(), w_i.ravel()
    inv = pd.DataFrame(
        {
            "date": date_txt[w_i],
            "sku": skus[s_i // n_loc],
            "location_id": locs[s_i % n_loc],
            "on_hand": rng.integers(0, 500, len(s_i)),
        }
    )
    inv.to_csv(folder / "inventory.csv", index=False)
    # Purchase orders: one line every 4 weeks per series; the last ones still open.
    po_days = np.arange(0, days, 28)
    s_p, d_p = np.meshgrid(np.arange(n_series), po_days, indexing="ij")
    s_p, d_p = s_p.ravel(), d_p.ravel()
    lead = rng.integers(3, 15, len(s_p))
    recv_day = d_p + lead
    received = recv_day < days
    order_dates = dates[d_p]
    po = pd.DataFrame(
        {
            "po_id": [f"PO-{i:07d}" for i in range(len(s_p))],
            "line_no": 1,
            "sku": skus[s_p // n_loc],
            "location_id": locs[s_p % n_loc],
            "qty": 120,
            "order_date": order_dates.strftime("%Y-%m-%d"),
            "promised_date": (order_dates + pd.Timedelta(days=7)).strftime("%Y-%m-%d"),
            "received_date": np.where(
                received, (order_dates + pd.to_timedelta(lead, unit="D")).strftime("%Y-%m-%d"), ""
            ),
            "received_qty": np.where(received, "120", ""),
            "status": np.where(received, "received", "open"),
        }
    )
    po.to_csv(folder / "purchase_orders.csv", index=False)
    return {
        "sales": len(sales),
        "inventory": len(inv),
        "purchase_orders": len(po),
        "items": n_sku,
        "locations": n_loc,
        "suppliers": 10,
    }


def _pg_admin_url() -> str:
    return os.environ.get("STOCKWARDEN_TEST_PG_URL", "").strip() or PG_DEFAULT


def _fresh_pg_database() -> tuple[str, str] | None:
    """Create an empty PostgreSQL database for the run: (url, name), or None when no server answers."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError:
        return None
    admin = make_url(_pg_admin_url())
    name = f"sw_bench_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable ({str(exc).splitlines()[0]}); skipping it")
        return None
    return admin.set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(_pg_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run_imports(url: str, folder: Path) -> list[dict[str, object]]:
    from stockwarden.store.db import make_engine, upgrade_database
    from stockwarden.store.repo import import_dataset

    engine = make_engine(url)
    upgrade_database(engine)
    runs = []
    for label in ("first import", "second import (no change)"):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = import_dataset(engine, folder)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rows = report.rows_read
        runs.append(
            {
                "run": label,
                "rows": rows,
                "seconds": round(seconds, 3),
                "rows_per_s": round(rows / seconds),
                "cpu_seconds": round(cpu, 3),
                "rows_per_cpu_s": round(rows / cpu),
                "inserted": sum(t.inserted for t in report.tables.values()),
                "updated": sum(t.updated for t in report.tables.values()),
                "unchanged": sum(t.unchanged for t in report.tables.values()),
            }
        )
    engine.dispose()
    return runs


def main() -> None:
    """Generate, import twice into SQLite and PostgreSQL, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    from stockwarden.ingest import read_dataset

    results: dict[str, object] = {
        "sales_rows": args.sales_rows,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="sw-import-bench-") as tmp:
        folder = Path(tmp) / "dataset"
        t0 = time.perf_counter()
        sizes = generate(folder, sales_rows=args.sales_rows)
        results["generated_rows"] = sizes
        print(f"generated {sum(sizes.values()):,} rows in {time.perf_counter() - t0:.1f} s: {sizes}")
        t0, c0 = time.perf_counter(), time.process_time()
        _, read = read_dataset(folder)
        read_s, read_cpu = time.perf_counter() - t0, time.process_time() - c0
        n_read = sum(r.n_read for r in read.results.values())
        read_row = {
            "run": "read + validate only",
            "rows": n_read,
            "seconds": round(read_s, 3),
            "rows_per_s": round(n_read / read_s),
            "cpu_seconds": round(read_cpu, 3),
            "rows_per_cpu_s": round(n_read / read_cpu),
        }
        results["read_and_validate"] = read_row
        rows: list[dict[str, object]] = [{"database": "(none)", **read_row}]
        sqlite_runs = _run_imports(f"sqlite:///{Path(tmp) / 'bench.db'}", folder)
        results["sqlite"] = sqlite_runs
        rows += [{"database": "sqlite", **r} for r in sqlite_runs]
        if not args.skip_postgres:
            pg = _fresh_pg_database()
            if pg is not None:
                try:
                    pg_runs = _run_imports(pg[0], folder)
                finally:
                    _drop_pg_database(pg[1])
                results["postgresql"] = pg_runs
                rows += [{"database": "postgresql", **r} for r in pg_runs]
    first: dict[str, int] = results["sqlite"][0]  # type: ignore[index]
    second: dict[str, int] = results["sqlite"][1]  # type: ignore[index]
    meets = first["rows_per_s"] >= 100_000
    as_fast = second["rows_per_s"] >= first["rows_per_s"]
    results["target"] = {
        "sqlite_rows_per_s_min": 100_000,
        "sqlite_first_meets_target": meets,
        "sqlite_second_at_least_as_fast": as_fast,
    }
    head = f"{'database':<11} {'run':<26} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'cpu s':>7} {'rows/cpu s':>11}"
    print("\n" + head)
    for r in rows:
        print(
            f"{r['database']:<11} {r['run']:<26} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_s']:>10,} "
            f"{r['cpu_seconds']:>7.2f} {r['rows_per_cpu_s']:>11,}"
        )
    print(
        "cpu s = CPU time of this process (PostgreSQL's own server work is not included); on a machine shared "
        "with other jobs, rows/cpu s approximates what the import reaches on an idle machine."
    )
    print(
        f"target >= 100,000 rows/s into SQLite: first import {'met' if meets else 'NOT met'}; "
        f"second import {'at least as fast' if as_fast else 'slower'}; load average {os.getloadavg()[0]:.1f}"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
