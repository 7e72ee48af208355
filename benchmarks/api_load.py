"""API under load while a daily run executes.

Setup: a generated company with 5,000 SKUs at 6 locations (30,000 SKU-locations) imported into SQLite,
a first daily run (assessments, alerts), one admin and 16 warehouse users with tokens. Then:

* the server (``stockwarden serve``) runs on loopback in its own process;
* the next day's daily run is started in another process (``stockwarden run``, as the scheduler or cron
  starts it: at the lower CPU priority of ``STOCKWARDEN_RUN_NICE``, default 10) and keeps running;
* 16 client threads (keep-alive connections) send for a bounded minute a mix of assessment lists
  (50 rows, filtered by level / location / category, random page), SKU-location details and alert acks
  (each client acks alerts from its own disjoint pool).

Checked: p99 latency of lists and details (target < 300 ms), 0 errors (any non-2xx, except the 409 a
second ack of the same alert would get, which cannot happen with disjoint pools), and every ack
recorded exactly once (handling log and audit trail). Prints a table and writes
``benchmarks/out/api_load.json``.

Usage: python benchmarks/api_load.py [--skus 5000] [--locations 6] [--seconds 60] [--clients 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

OUT = Path(__file__).with_name("out")
RULES = '[run]\nforecast_mode = "stats"\n\n[risk]\nlearned_model = "never"\n\n[notify]\nchannels = []\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(tmp: Path, *, n_skus: int, n_locations: int, days: int) -> dict[str, object]:
    from stockwarden.config import Settings
    from stockwarden.domain.actor import Actor, Role, Via
    from stockwarden.ingest.sample import generate_company
    from stockwarden.services import auth, build_context, data, runs, users
    from stockwarden.store.repo import load_dataset_from_db

    (tmp / "stockwarden.toml").write_text(RULES, encoding="utf-8")
    folder = tmp / "company"
    t0 = time.perf_counter()
    generate_company(folder, n_skus=n_skus, n_locations=n_locations, days=days, seed=7)
    t_gen = time.perf_counter() - t0
    url = f"sqlite:///{tmp / 'bench.db'}"
    ctx = build_context(Settings(database_url=url), rules_file=tmp / "stockwarden.toml")
    root = Actor("bench", frozenset({Role.ADMIN}), via=Via.CLI)
    users.add_user(ctx, "admin", roles=["admin"], actor=root)
    admin = users.actor_of(users.get_user(ctx, "admin", actor=root))
    t0 = time.perf_counter()
    data.import_dataset(ctx, folder, actor=admin)
    t_import = time.perf_counter() - t0
    last = load_dataset_from_db(ctx.engine).last_date
    assert last is not None
    first_day = (last - dt.timedelta(days=1)).date()
    t0 = time.perf_counter()
    report = runs.run_daily(ctx, actor=admin, as_of=first_day)
    t_run = time.perf_counter() - t0
    tokens = {"admin": auth.create_token(ctx, "admin", actor=admin).secret}
    for i in range(16):
        users.add_user(ctx, f"wh{i}", roles=["warehouse"], actor=admin)
        tokens[f"wh{i}"] = auth.create_token(ctx, f"wh{i}", actor=admin).secret
    with ctx.engine.connect() as conn:
        n_series = conn.execute(
            sa.text("SELECT count(*) FROM assessments WHERE run_id = :r"), {"r": report.run_id}
        ).scalar()
        alert_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM alerts WHERE state IN ('open','escalated')"))]
        keys = [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT sku, location_id FROM assessments WHERE run_id = :r"), {"r": report.run_id}
            )
        ]
        locs = sorted({k[1] for k in keys})
        cats = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT category FROM items WHERE category IS NOT NULL"))]
    ctx.engine.dispose()
    return {
        "url": url,
        "tokens": tokens,
        "alert_ids": alert_ids,
        "keys": keys,
        "locations": locs,
        "categories": cats,
        "next_day": last.date(),
        "n_series": int(n_series or 0),
        "setup_s": {"generate": round(t_gen, 1), "import": round(t_import, 1), "first_run": round(t_run, 1)},
    }


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database, through SQLite's backup API.

    Not a file copy: this process may still hold connections to ``src`` (the daily run's partition engine
    of the set-up), and closing any other file handle on the database drops every POSIX lock the process
    holds on it, so another process may then reset the WAL under those connections (sqlite.org,
    "How To Corrupt An SQLite Database File", 2.2). A first set-up run read "database disk image is
    malformed" after the window that way.
    """
    import sqlite3
    from contextlib import closing

    dst.unlink(missing_ok=True)
    with closing(sqlite3.connect(src)) as source, closing(sqlite3.connect(dst)) as target:
        source.backup(target)


def prepared_world(tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    """The set-up company in ``tmp``: made now, or copied from ``--keep`` (where it is kept for next time)."""
    keep: Path | None = args.keep
    sizes = f"{args.skus}x{args.locations}x{args.days}"
    saved = keep / f"world-{sizes}.json" if keep is not None else None
    if saved is None or not saved.is_file():
        print(f"setup: {args.skus} SKUs x {args.locations} locations, {args.days} days ...", flush=True)
        world = setup(tmp, n_skus=args.skus, n_locations=args.locations, days=args.days)
        if keep is not None and saved is not None:
            keep.mkdir(parents=True, exist_ok=True)
            _copy_sqlite(tmp / "bench.db", keep / f"bench-{sizes}.db")
            saved.write_text(json.dumps(world, default=str), encoding="utf-8")
        return world
    print(f"setup: copied from {keep}", flush=True)
    (tmp / "stockwarden.toml").write_text(RULES, encoding="utf-8")
    _copy_sqlite(keep / f"bench-{sizes}.db", tmp / "bench.db")
    world = json.loads(saved.read_text(encoding="utf-8"))
    world["url"] = f"sqlite:///{tmp / 'bench.db'}"
    world["keys"] = [tuple(k) for k in world["keys"]]
    world["next_day"] = dt.date.fromisoformat(str(world["next_day"]))
    return world


def start_server(url: str, port: int, tmp: Path, *, workers: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("stockwarden")
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--db",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(tmp / "stockwarden.toml"),
            "--workers",
            str(workers),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    for _ in range(900):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start; see {tmp / 'server.log'}")


def client(
    base: str,
    token: str,
    *,
    seed: int,
    until: float,
    keys: list[tuple[str, str]],
    locations: list[str],
    categories: list[str],
    acks: list[int],
    out: dict[str, list[float]],
    errors: list[str],
    acked: list[int],
) -> None:
    rng = random.Random(seed)
    levels = ["critical", "warning", "watch", "ok"]
    pool = list(acks)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        while time.perf_counter() < until:
            roll = rng.random()
            if roll < 0.1 and pool:
                kind, alert_id = "ack", pool.pop()
                req = ("POST", f"/api/v1/alerts/{alert_id}/ack", {"comment": "load test"})
            elif roll < 0.4:
                kind = "detail"
                sku, loc = rng.choice(keys)
                req = ("GET", f"/api/v1/skus/{sku}/locations/{loc}", None)
            else:
                kind = "list"
                params = {"limit": 50, "offset": rng.choice([0, 0, 50, 100, 500])}
                pick = rng.random()
                if pick < 0.4:
                    params["level"] = rng.choice(levels)
                elif pick < 0.7:
                    params["location"] = rng.choice(locations)
                elif categories:
                    params["category"] = rng.choice(categories)
                req = ("GET", "/api/v1/assessments", params)
            t0 = time.perf_counter()
            try:
                if req[0] == "GET":
                    r = http.get(req[1], params=req[2])
                else:
                    r = http.post(req[1], json=req[2])
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code >= 300:
                    errors.append(f"{req[0]} {req[1]}: {r.status_code} {r.text[:120]}")
                else:
                    out.setdefault(kind, []).append(ms)
                    if kind == "ack":
                        acked.append(alert_id)
            except httpx.HTTPError as exc:
                errors.append(f"{req[0]} {req[1]}: {type(exc).__name__} {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--locations", type=int, default=6)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: one per core)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="folder that keeps the set-up database (after the first run) between measurements; a copy is used",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        world = prepared_world(tmp, args)
        print(
            f"setup done: {world['n_series']} SKU-locations assessed, {len(world['alert_ids'])} live alerts, "
            f"{world['setup_s']}",
            flush=True,
        )
        port = free_port()
        server = start_server(str(world["url"]), port, tmp, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        runner = None
        try:
            tokens = world["tokens"]
            keys = world["keys"]
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=120
            ) as warm:
                for sku, loc in keys[:12]:  # the first calls of every worker import and cache what they need
                    warm.get(f"/api/v1/skus/{sku}/locations/{loc}")
                    warm.get("/api/v1/assessments", params={"limit": 50})
            runner = subprocess.Popen(  # the daily run as the scheduler starts it (nice: STOCKWARDEN_RUN_NICE)
                [
                    str(Path(sys.executable).with_name("stockwarden")),
                    "run",
                    "--db",
                    str(world["url"]),
                    "--as-of",
                    world["next_day"].isoformat(),
                    "--config",
                    str(tmp / "stockwarden.toml"),
                ],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=(tmp / "run.log").open("wb"),
            )
            time.sleep(3.0)  # the run is loading and forecasting
            alert_ids = list(world["alert_ids"])
            random.Random(0).shuffle(alert_ids)
            pools = [alert_ids[i :: args.clients] for i in range(args.clients)]
            out: dict[str, list[float]] = {}
            errors: list[str] = []
            acked: list[int] = []
            until = time.perf_counter() + args.seconds
            threads = [
                threading.Thread(
                    target=client,
                    args=(base, tokens[f"wh{i}"]),
                    kwargs={
                        "seed": i,
                        "until": until,
                        "keys": keys,
                        "locations": world["locations"],
                        "categories": world["categories"],
                        "acks": pools[i],
                        "out": out,
                        "errors": errors,
                        "acked": acked,
                    },
                )
                for i in range(args.clients)
            ]
            load_before = os.getloadavg()[0]
            print(f"window: {args.clients} clients for {args.seconds:.0f} s (load {load_before:.1f})", flush=True)
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            load_after = os.getloadavg()[0]
            run_still_going = runner.poll() is None
            runner.wait(timeout=3600)
            run_rc = runner.returncode
        finally:
            if runner is not None and runner.poll() is None:
                runner.kill()
            server.terminate()
            server.wait(timeout=30)
        engine = sa.create_engine(str(world["url"]))
        with engine.connect() as conn:
            logged = dict(
                conn.execute(
                    sa.text("SELECT alert_id, count(*) FROM alert_log WHERE action = 'acknowledged' GROUP BY alert_id")
                ).all()
            )
            audited = dict(
                conn.execute(
                    sa.text("SELECT object_id, count(*) FROM audit_log WHERE action = 'alert.ack' GROUP BY object_id")
                ).all()
            )
        engine.dispose()
        exactly_once = all(logged.get(a) == 1 and audited.get(str(a)) == 1 for a in acked) and len(logged) == len(acked)
        rows = []
        result: dict[str, object] = {
            "sku_locations": world["n_series"],
            "clients": args.clients,
            "server_workers": args.workers,
            "seconds": round(wall, 1),
            "load_average_1min": [round(load_before, 1), round(load_after, 1)],
            "cpus": os.cpu_count(),
            "setup_s": world["setup_s"],
            "run_executing_during_window": run_still_going,
            "run_nice": int(os.environ.get("STOCKWARDEN_RUN_NICE", "10")),
            "run_exit_code": run_rc,
            "errors": len(errors),
            "error_examples": errors[:5],
            "acks": len(acked),
            "acks_recorded_exactly_once": exactly_once,
        }
        print(
            f"\n{'kind':8s} {'requests':>9s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}"
        )
        for kind in ("list", "detail", "ack"):
            lat = np.array(out.get(kind, []))
            if not len(lat):
                continue
            p50, p95, p99 = np.percentile(lat, [50, 95, 99])
            rows.append(
                {
                    "kind": kind,
                    "n": len(lat),
                    "rps": round(len(lat) / wall, 1),
                    "p50_ms": round(p50, 1),
                    "p95_ms": round(p95, 1),
                    "p99_ms": round(p99, 1),
                    "max_ms": round(float(lat.max()), 1),
                }
            )
            print(f"{kind:8s} {len(lat):9d} {len(lat) / wall:7.1f} {p50:8.1f} {p95:8.1f} {p99:8.1f} {lat.max():8.1f}")
        result["latency"] = rows
        ok = all(r["p99_ms"] < 300 for r in rows if r["kind"] in ("list", "detail")) and not errors and exactly_once
        result["targets_met"] = ok
        print(
            f"\nerrors: {len(errors)}; acks: {len(acked)} (recorded exactly once: {exactly_once}); "
            f"daily run still executing at the end of the window: {run_still_going} (exit {run_rc})"
        )
        print(f"targets (p99 < 300 ms for lists and details, 0 errors, acks once): {'met' if ok else 'NOT met'}")
        OUT.mkdir(exist_ok=True)
        (OUT / "api_load.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"written {OUT / 'api_load.json'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
