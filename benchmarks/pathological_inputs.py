"""Pathological input files: how long the reader takes to read or refuse each shape (issue 16, case 11).

The shapes of the issue (a 10 MB line of 5 million empty fields, a normal header with a 5M-field row, many
columns, deep quoting, values spanning many lines...) are written to a temporary folder and read with
``read_raw_table`` + ``validate_table`` under the default limits. Prints the outcome (read / refused),
wall seconds and peak RSS growth per shape, and writes ``benchmarks/out/pathological_inputs.json``.

Target (issue 16): an over-limit file is refused in under a second; nothing runs for minutes or takes GBs.

Usage: ``python benchmarks/pathological_inputs.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "pathological_inputs.json"


def shapes() -> dict[str, tuple[str, bytes]]:
    """name -> (file extension, bytes)."""
    head = b"date,sku,qty\n"
    row = b"2024-01-01,A,1\n"
    return {
        "5M empty fields on one line (10 MB)": (".csv", b"," * 5_000_000 + b"\n"),
        "header + one 5M-field row": (".csv", head + row + b"," * 5_000_000 + b"\n"),
        "header + 900k-field row (under the byte limit)": (".csv", head + b"," * 900_000 + b"\n"),
        "100k columns in the header": (".csv", b",".join(b"c%d" % i for i in range(100_000)) + b"\n" + row),
        "1 MB value (just under the line limit)": (".csv", head + b"2024-01-01,A," + b"9" * 1_000_000 + b"\n"),
        "200k quote characters": (".csv", head + b"2024-01-01,A," + b'"' * 200_001 + b"\n"),
        "unclosed quote before 10k rows": (
            ".csv",
            head + b'"' + b"".join(b"2024-01-01,S%d,1\n" % i for i in range(10_000)),
        ),
        "one value spanning 50k lines": (".csv", head + b'2024-01-01,"' + b"x\n" * 50_000 + b'",1\n'),
        "20k multi-line values": (".csv", head + b'2024-01-01,"a\nb",1\n' * 20_000),
        "gzip bomb (100 MB of zeros)": (".csv.gz", gzip.compress(b"0" * 100_000_000)),
        "CSV renamed .xlsx": (".xlsx", head + row * 1000),
        "normal: 200k distinct good rows": (
            ".csv",
            head + b"".join(b"2024-01-01,SKU-%d,%d\n" % (i, i % 7) for i in range(200_000)),
        ),
    }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Read every shape, print a table, save JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="reads per shape (the best time is kept)")
    args = parser.parse_args()
    from stockwarden.errors import InputError
    from stockwarden.ingest.read import read_raw_table
    from stockwarden.ingest.validate import validate_table

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="sw-pathological-") as tmp:
        for name, (ext, data) in shapes().items():
            path = Path(tmp) / f"sales{ext}"
            path.write_bytes(data)
            best = float("inf")
            outcome = ""
            before = _rss_mb()
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                try:
                    res = validate_table(read_raw_table(path, "sales"))
                    outcome = f"read: {len(res.accepted)} accepted, {len(res.rejected)} put aside"
                except InputError as exc:
                    outcome = "refused: " + str(exc).split(": ", 1)[-1][:90]
                best = min(best, time.perf_counter() - t0)
            rows.append(
                {
                    "shape": name,
                    "bytes": len(data),
                    "seconds": round(best, 4),
                    "peak_rss_growth_mb": round(max(0.0, _rss_mb() - before), 1),
                    "outcome": outcome,
                }
            )
            path.unlink()
    width = max(len(str(r["shape"])) for r in rows)
    print(f"{'shape':<{width}}  {'bytes':>11}  {'seconds':>8}  {'+RSS MB':>8}  outcome")
    for r in rows:
        size, secs, rss = r["bytes"], r["seconds"], r["peak_rss_growth_mb"]
        print(f"{r['shape']!s:<{width}}  {size:>11,}  {secs:>8.3f}  {rss:>8}  {r['outcome']}")
    refused = [r for r in rows if str(r["outcome"]).startswith("refused")]
    slowest = max(float(r["seconds"]) for r in refused) if refused else 0.0  # type: ignore[arg-type]
    print(f"slowest refusal: {slowest:.3f} s (target: under 1 s)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
        "rows": rows,
        "slowest_refusal_seconds": slowest,
        "meets_target": slowest < 1.0,
    }
    OUT.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
