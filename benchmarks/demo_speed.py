"""Demo speed: ``stockwarden demo`` end to end, and the sample-company generator alone.

Runs the demo command in a subprocess in a temporary directory (as ``make demo`` does: a fresh SQLite
``demo.db``, the default 300 SKUs x 3 locations x 760 days), measuring wall time and the CPU time of the
process and its children; then times ``build_company`` / ``generate_company`` alone and summarises what
the generator made. Writes ``benchmarks/out/demo_speed.json``.

Target (issue 2): the demo finishes in under 2 minutes on a 2-core machine. The machine's load average
is printed too: on a shared machine wall time grows with it, CPU time does not.

Usage: ``python benchmarks/demo_speed.py [--skus N] [--days N] [--skip-demo]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "demo_speed.json"
TARGET_SECONDS = 120.0


def time_demo(skus: int, days: int) -> dict[str, float]:
    """Run ``stockwarden demo`` once in a fresh directory; wall and CPU seconds (process + children)."""
    exe = Path(sys.executable).with_name("stockwarden")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "demo", "--skus", str(skus), "--days", str(days)],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"demo failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1)}


def time_generator(skus: int, days: int) -> dict[str, object]:
    """Time the generator in memory and to CSV files, and describe the company it makes."""
    import numpy as np

    from stockwarden.ingest.sample import build_company, generate_company

    started = time.perf_counter()
    company = build_company(n_skus=skus, days=days)
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        generate_company(Path(tmp) / "co", n_skus=skus, days=days)
        write = time.perf_counter() - started
    t = company.tables
    po = t["purchase_orders"]
    received = po[po["status"] == "received"]
    late = (received["received_date"] - received["promised_date"]).dt.days
    last = company.dates[-1]
    open_po = po[po["status"] == "open"]
    zero_share = (company.demand == 0).mean(axis=1)
    inv = t["inventory"]
    return {
        "build_seconds": round(build, 2),
        "generate_and_write_seconds": round(write, 2),
        "rows": {name: len(frame) for name, frame in t.items()},
        "series": int(company.demand.shape[0]),
        "intermittent_series_share": round(float((zero_share > 1 - 1 / 1.32).mean()), 3),
        "promotion_sales_share": round(float(t["sales"]["on_promotion"].mean()), 3),
        "fill_rate": round(float(t["sales"]["qty"].sum() / company.demand.sum()), 3),
        "stockout_count_share": round(float((inv["on_hand"] == 0).mean()), 3),
        "late_delivery_share_by_supplier": {
            k: round(float(v), 3) for k, v in (late > 0).groupby(received["supplier_id"]).mean().items()
        },
        "short_delivery_share": round(float((received["received_qty"] < received["qty"]).mean()), 3),
        "open_po_lines": len(open_po),
        "overdue_po_lines_14d": int(((last - open_po["promised_date"]).dt.days > 14).sum()),
        "mean_daily_demand": round(float(np.mean(company.demand)), 2),
    }


def main() -> None:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--days", type=int, default=760)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    gen = time_generator(args.skus, args.days)
    result: dict[str, object] = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(load, 2),
        "skus": args.skus,
        "days": args.days,
        "generator": gen,
    }
    print(
        f"generator: {gen['build_seconds']} s in memory, {gen['generate_and_write_seconds']} s with CSV files; "
        f"rows {gen['rows']}"
    )
    if not args.skip_demo:
        demo = time_demo(args.skus, args.days)
        result["demo"] = {**demo, "target_seconds": TARGET_SECONDS, "meets_target": demo["wall_seconds"] < 120}
        print(
            f"demo: {demo['wall_seconds']} s wall, {demo['cpu_seconds']} s CPU (target < {TARGET_SECONDS:.0f} s "
            f"wall; load average at start {load:.1f} on {os.cpu_count()} CPUs)"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
