"""Order-proposal speed (issue 6): proposing, storing and exporting for many SKU-locations.

A synthetic assessment of N SKU-locations (40 suppliers, 3 locations, random positions around the reorder
point) is turned into proposals with the default rules and with every option on (EOQ, cover cap,
supplier minimums, a budget); the proposals are then saved to a fresh SQLite database twice (the second
save is the idempotent re-run), all drafts approved and exported.

Run: ``.venv/bin/python benchmarks/proposals_speed.py [N]`` (default 30000); writes
benchmarks/out/proposals_speed.json. Timings are on a shared 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.actions.approval import Actor
from stockwarden.actions.replenish import propose_orders
from stockwarden.config import RulesConfig
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.store import order_repo
from stockwarden.store.db import make_engine, upgrade_database

OUT = Path(__file__).resolve().parent / "out"
AS_OF = dt.date(2024, 4, 15)


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, Dataset]:
    """An assessment of ``n`` SKU-locations and the item master behind it."""
    rng = np.random.default_rng(seed)
    n_items = max(n // 3, 1)
    skus = np.array([f"SKU-{i:06d}" for i in range(n_items)])
    items = pd.DataFrame(
        {
            "sku": skus,
            "name": skus,
            "category": "cat",
            "unit": "ea",
            "unit_cost": rng.choice([0.5, 2.0, 9.9, 40.0], n_items),
            "pack_size": rng.choice([1.0, 6.0, 12.0], n_items),
            "moq": rng.choice([0.0, 24.0, 48.0], n_items),
            "supplier_id": [f"SUP-{i % 40:02d}" for i in range(n_items)],
            "lead_time_days": rng.choice([3.0, 7.0, 14.0], n_items),
            "service_level": 0.95,
            "shelf_life_days": np.nan,
        }
    ).astype(empty_frame("items").dtypes.to_dict())
    rows = np.arange(n)
    rop = rng.uniform(10, 100, n)
    assessment = pd.DataFrame(
        {
            "as_of": AS_OF.isoformat(),
            "sku": skus[rows % n_items],
            "location_id": [f"WH{r // n_items + 1}" for r in rows],
            "level": "warning",
            "stockout_probability": rng.uniform(0, 1, n),
            "expected_stockout_date": "2024-04-30",
            "days_of_cover": rng.uniform(0, 30, n),
            "on_hand": rng.uniform(0, 150, n),
            "on_order": rng.uniform(0, 50, n),
            "reorder_point": rop,
            "safety_stock": 5.0,
            "order_up_to": rop * 2,
            "suggested_order_qty": 0.0,
            "reasons": "below_reorder_point",
            "mean_daily_forecast": rng.uniform(0, 10, n),
            "expected_short": rng.uniform(0, 20, n),
        }
    )
    return assessment, Dataset(items=items)


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(n: int) -> dict[str, object]:
    assessment, ds = synthetic(n)
    full = RulesConfig.model_validate(
        {
            "orders": {
                "use_eoq": True,
                "max_cover_days": 60,
                "default_min_order_value": 500.0,
                "budget": 100_000.0,
                "approver_roles": {"director": 1e12},
            }
        }
    )
    plain = RulesConfig.model_validate({"orders": {"approver_roles": {"director": 1e12}}})
    results: dict[str, object] = {"n_assessed": n}
    ps_full, t_full = timed(lambda: propose_orders(assessment, ds, as_of=AS_OF, rules=full))
    ps, t_plain = timed(lambda: propose_orders(assessment, ds, as_of=AS_OF, rules=plain))
    results.update(
        propose_default_s=round(t_plain, 2),
        lines=len(ps.lines),
        orders=len(ps.orders),
        propose_all_options_s=round(t_full, 2),
        lines_all_options=len(ps_full.lines),
        cut_by_budget=len(ps_full.cut_lines),
    )
    now = dt.datetime(2024, 4, 15, 6, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade_database(engine)
        s1, t_save = timed(lambda: order_repo.save_proposals(engine, ps, now=now, rules=plain.orders))
        s2, t_resave = timed(lambda: order_repo.save_proposals(engine, ps, now=now, rules=plain.orders))
        assert s2.created == 0 and s2.updated == 0, s2
        ids = [ln.proposal_id for ln in order_repo.list_proposal_lines(engine)]
        _, t_approve = timed(
            lambda: order_repo.approve_proposals(
                engine, ids, actor=Actor("bench", "director"), now=now, rules=plain.orders
            )
        )
        res, t_export = timed(
            lambda: order_repo.export_proposals(
                engine,
                order_date=AS_OF,
                now=now,
                actor=Actor("bench"),
                rules=plain.orders,
                deliver=lambda f: f.to_csv(Path(tmp) / "po.csv", index=False),
            )
        )
        pos, t_feedback = timed(lambda: order_repo.exported_orders_as_pos(engine, as_of=AS_OF))
        engine.dispose()
    results.update(
        save_first_s=round(t_save, 2),
        created=s1.created,
        save_again_s=round(t_resave, 2),
        approve_all_s=round(t_approve, 2),
        export_s=round(t_export, 2),
        exported=res.n_exported,
        exported_as_pos_s=round(t_feedback, 2),
        exported_pos_rows=len(pos),
    )
    return results


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    res = main(n)
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "proposals_speed.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
