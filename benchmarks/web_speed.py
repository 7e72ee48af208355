"""Web speed: server time of the risk list (50 rows, filtered and sorted) and of a SKU detail page, and the
overview's first render in Chromium, on N stored SKU-location assessments (default 30,000).

The database is made here: a migrated SQLite file with N assessments of one completed run, their items
and one alert per at-risk row (no forecasting needed). Prints a table and writes benchmarks/out/web_speed.json.
Targets (issue 13): risk list and detail < 300 ms server time; overview first render < 1.5 s.

``--preview`` measures the rules preview instead (``services.preview.compare_rules``): a sample company of
N SKU-locations (``generate_company``, ``--days`` of history, written once to a cache folder as Parquet),
13 weekly checkpoints replayed with the rules in force and a draft, first cold (forecasts made; this is
also what ``prepare_preview`` costs, done after the daily run), then warm (a second draft on the same data:
the forecasts and the in-force side come from the memory cache), then prepared (a threshold draft in a
process with nothing in memory, the in-force side read from the files the cold run kept: a planner opening
the editor after a restart).
Target: < 60 s. Writes benchmarks/out/web_preview.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

warnings.filterwarnings("ignore")
OUT = Path(__file__).parent / "out"


def build_db(path: Path, n: int) -> str:
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services import users
    from stockwarden.services.context import build_context

    url = f"sqlite:///{path}"
    ctx = build_context(database_url=url)
    rng = np.random.default_rng(0)
    n_loc = 6
    n_sku = n // n_loc
    skus = np.repeat([f"SKU-{i:06d}" for i in range(n_sku)], n_loc)
    locs = np.tile([f"LOC-{j}" for j in range(n_loc)], n_sku)
    p = rng.beta(0.4, 2.0, len(skus))
    level = np.select([p > 0.8, p > 0.5, p > 0.3], ["critical", "warning", "watch"], "ok")
    as_of = dt.date(2025, 10, 26)
    cats = np.array(["food", "home", "toys", "beauty", "apparel", "electronics", "spare parts"])
    frame = pd.DataFrame(
        {
            "run_id": 1,
            "as_of": as_of,
            "sku": skus,
            "location_id": locs,
            "level": level,
            "stockout_probability": p,
            "expected_stockout_date": [as_of + dt.timedelta(days=int(d)) for d in rng.integers(1, 60, len(skus))],
            "days_of_cover": rng.gamma(2, 10, len(skus)),
            "on_hand": rng.integers(0, 500, len(skus)).astype(float),
            "on_order": rng.integers(0, 200, len(skus)).astype(float),
            "reorder_point": rng.integers(10, 300, len(skus)).astype(float),
            "safety_stock": rng.integers(5, 100, len(skus)).astype(float),
            "order_up_to": rng.integers(100, 800, len(skus)).astype(float),
            "suggested_order_qty": 0.0,
            "reasons": "below_reorder_point",
            "expected_short": rng.gamma(1, 5, len(skus)),
            "category": cats[rng.integers(0, len(cats), len(skus))],
            "supplier_id": [f"SUP-{i % 20:02d}" for i in range(len(skus))],
            "demand_class": "smooth",
        }
    )
    now = dt.datetime.now(dt.UTC)
    with ctx.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, run_key, as_of, data_hash, rules_version, status, attempts, started_at, "
                "counts_json, finished_at) VALUES (1, 'bench', :d, 'x', 'y', 'completed', 1, :t, '{}', :t)"
            ),
            {"d": as_of, "t": now},
        )
        frame.to_sql("assessments", conn, if_exists="append", index=False, chunksize=5000)
        items = pd.DataFrame(
            {
                "id": range(1, n_sku + 1),
                "seq": 0,
                "row_hash": 0,
                "batch_id": 0,
                "line": range(2, n_sku + 2),  # the file line an import records (header is line 1)
                "sku": skus[::n_loc],
                "name": [f"Item {i}" for i in range(n_sku)],
                "category": frame["category"].to_numpy()[::n_loc],
                "unit_cost": rng.uniform(1, 100, n_sku),
                "supplier_id": frame["supplier_id"].to_numpy()[::n_loc],
            }
        )
        items.to_sql("items", conn, if_exists="append", index=False, chunksize=5000)
        risky = frame.loc[frame["level"].isin(["critical", "warning"])]
        alerts = pd.DataFrame(
            {
                "id": range(1, len(risky) + 1),
                "kind": "stockout_risk",
                "sku": risky["sku"].to_numpy(),
                "location_id": risky["location_id"].to_numpy(),
                "level": risky["level"].to_numpy(),
                "state": "open",
                "stockout_probability": risky["stockout_probability"].to_numpy(),
                "expected_stockout_date": risky["expected_stockout_date"].to_numpy(),
                "reasons": "below_reorder_point",
                "suggested_order_qty": 0.0,
                "category": risky["category"].to_numpy(),
                "roles": "planner",
                "opened_at": now,
                "updated_at": now,
                "first_as_of": as_of,
                "last_as_of": as_of,
                "notified_level": risky["level"].to_numpy(),
                "snooze_until_worse": False,
                "clear_runs": 0,
                "is_latched": False,
                "rules_version": "y",
            }
        )
        alerts.to_sql("alerts", conn, if_exists="append", index=False, chunksize=5000)
    users.add_user(ctx, "bench", password="bench-pass-1", roles=["planner"], actor=SYSTEM_ACTOR)
    ctx.engine.dispose()
    return url


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def preview_bench(n: int, days: int, mode: str, refit_every: int, weeks: int = 13) -> None:
    from stockwarden.config import RulesConfig
    from stockwarden.ingest.dataset import load_dataset
    from stockwarden.ingest.sample import generate_company
    from stockwarden.services.preview import compare_rules

    n_loc = 6
    folder = Path(tempfile.gettempdir()) / f"sw_preview_bench_{n}_{days}"
    t0 = time.perf_counter()
    if not (folder / "sales.parquet").exists():
        generate_company(folder, n_skus=n // n_loc, n_locations=n_loc, days=days, fmt="parquet")
    ds = load_dataset(folder)
    load_s = time.perf_counter() - t0
    current = RulesConfig.model_validate({"run": {"forecast_mode": mode}})
    draft = RulesConfig.model_validate(
        {"run": {"forecast_mode": mode}, "alerts": {"open_level": "critical"}, "risk": {"service_level": 0.97}}
    )
    draft2 = RulesConfig.model_validate(
        {"run": {"forecast_mode": mode}, "risk": {"thresholds": {"warning_probability": 0.6}}}
    )
    cache: dict[str, object] = {}
    disk = Path(tempfile.mkdtemp()) / "prepared"  # the in-force side kept on disk (services.preview.prepare_preview)
    steps: list[tuple[int, float]] = []

    def shown(done: int, total: int, day: str) -> None:
        steps.append((done, time.perf_counter() - t))
        print(f"  checkpoint {done}/{total} ({day}) at {steps[-1][1]:.1f} s", flush=True)

    print(f"data: {load_s:.1f} s; replaying the checkpoints", flush=True)
    t, cpu = time.perf_counter(), time.process_time()
    cold = compare_rules(
        ds,
        current,
        draft,
        weeks=weeks,
        refit_every=refit_every,
        cache=cache,
        cache_key="bench",
        progress=shown,
        disk=disk,
    )
    cold_s, cold_cpu = time.perf_counter() - t, time.process_time() - cpu
    t, cpu = time.perf_counter(), time.process_time()
    warm = compare_rules(ds, current, draft2, weeks=weeks, refit_every=refit_every, cache=cache, cache_key="bench")
    warm_s, warm_cpu = time.perf_counter() - t, time.process_time() - cpu
    # prepared ahead by the daily run, the server restarted since: nothing in memory, the checkpoints on disk
    t = time.perf_counter()
    prepared = compare_rules(
        ds, current, draft2, weeks=weeks, refit_every=refit_every, cache={}, cache_key="bench", disk=disk
    )
    prepared_s = time.perf_counter() - t
    result = {
        "n_sku_locations": cold.series,
        "checkpoints": len(cold.checkpoints),
        "history_days": days,
        "forecast_mode": mode,
        "refit_every": refit_every,
        "load_s": round(load_s, 1),
        "preview_cold_s": round(cold_s, 1),
        "preview_warm_s": round(warm_s, 1),
        "preview_cold_cpu_s": round(cold_cpu, 1),
        "preview_warm_cpu_s": round(warm_cpu, 1),
        "preview_prepared_after_restart_s": round(prepared_s, 1),
        "prepared_parts_s": prepared.timings,
        "cold_parts_s": cold.timings,
        "warm_parts_s": warm.timings,
        "first_progress_s": round(steps[0][1], 1) if steps else None,
        "alerts_per_week_in_force": round(cold.current_total.alerts_per_week, 1),
        "alerts_per_week_draft": round(cold.draft_total.alerts_per_week, 1),
        "load": os.getloadavg()[0],
    }
    print(f"{'measure':<34}{'value':>12}  target")
    for key, value in result.items():
        print(f"{key:<34}{value!s:>12}  {'< 60 s' if key.startswith('preview_') else ''}")
    OUT.mkdir(exist_ok=True)
    (OUT / "web_preview.json").write_text(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--preview", action="store_true", help="measure the rules preview (see the module)")
    parser.add_argument("--days", type=int, default=240, help="--preview: days of history")
    parser.add_argument("--mode", default="fast", help="--preview: run.forecast_mode of both rule sets")
    parser.add_argument("--refit-every", type=int, default=1, help="--preview: refit the forecast every N weeks")
    parser.add_argument("--weeks", type=int, default=13, help="--preview: weekly checkpoints replayed")
    args = parser.parse_args()
    if args.preview:
        preview_bench(args.n, args.days, args.mode, args.refit_every, args.weeks)
        return
    from fastapi.testclient import TestClient

    from stockwarden.services.context import build_context
    from stockwarden.web import create_web_app

    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    url = build_db(tmp / "bench.db", args.n)
    build_s = time.perf_counter() - t0
    app = create_web_app(build_context(database_url=url))
    client = TestClient(app)
    client.post("/login", data={"username": "bench", "password": "bench-pass-1"})
    first = timed(lambda: client.get("/risk"), 1)[0]  # builds the cached frame
    risk = timed(
        lambda: client.get("/risk?level=critical&level=warning&category=food&sort=value_at_risk&page=2"), args.repeat
    )
    detail = timed(lambda: client.get("/sku/SKU-000123/LOC-2"), args.repeat)
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.alerts import act_on_alert

    ctx = app.state.web.ctx
    after_ack = []
    for alert_id in range(1, 4):  # a planner acknowledges an alert, then the next page is drawn
        act_on_alert(ctx, alert_id, "ack", actor=SYSTEM_ACTOR)
        after_ack += timed(lambda: client.get("/risk?level=critical"), 1)
    overview = timed(lambda: client.get("/"), 5)
    render_ms = None
    chromium = Path("/usr/lib/chromium/chromium")
    if chromium.exists():
        import threading

        import uvicorn
        from playwright.sync_api import sync_playwright

        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8791, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = b.new_page()
            page.goto("http://127.0.0.1:8791/login")
            page.fill("#username", "bench")
            page.fill("#password", "bench-pass-1")
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_selector("[data-chart][data-rendered]")
            times = []
            for _ in range(5):
                t = time.perf_counter()
                page.goto("http://127.0.0.1:8791/")
                page.wait_for_function("document.querySelectorAll('[data-chart][data-rendered]').length === 3")
                times.append((time.perf_counter() - t) * 1000)
            render_ms = statistics.median(times)
            b.close()
        server.should_exit = True
    result = {
        "n_sku_locations": args.n,
        "build_db_s": round(build_s, 1),
        "risk_first_ms": round(first, 1),
        "risk_list_median_ms": round(statistics.median(risk), 1),
        "risk_list_p95_ms": round(sorted(risk)[int(0.95 * (len(risk) - 1))], 1),
        "detail_median_ms": round(statistics.median(detail), 1),
        "risk_list_after_ack_median_ms": round(statistics.median(after_ack), 1),
        "overview_server_median_ms": round(statistics.median(overview), 1),
        "overview_render_chromium_ms": None if render_ms is None else round(render_ms, 1),
        "load": os.getloadavg()[0],
    }
    print(f"{'measure':<34}{'value':>12}  target")
    for key, target in [
        ("risk_list_median_ms", "< 300 ms"),
        ("risk_list_p95_ms", "< 300 ms"),
        ("detail_median_ms", "< 300 ms"),
        ("risk_list_after_ack_median_ms", "(the list after an alert action)"),
        ("overview_server_median_ms", ""),
        ("overview_render_chromium_ms", "< 1500 ms"),
        ("risk_first_ms", "(first request: builds the cache)"),
    ]:
        print(f"{key:<34}{result[key]!s:>12}  {target}")
    OUT.mkdir(exist_ok=True)
    (OUT / "web_speed.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
