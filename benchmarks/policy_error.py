"""How exact are the reorder points, and how much Monte Carlo error is left? replay_dev as of 2016-03-25.

* computed levels (``protection_policy``, what the assessment uses) against a 20,000-path simulation of
  the same forecast and lead-time model (the reference);
* the old way, a 250-path simulation per seed: the spread of reorder points over 20 seeds;
* what is still simulated, the stockout probability: its spread over 20 seeds of ``risk.seed``.

Prints a table and writes ``benchmarks/out/policy_error.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.config import RiskRules, RulesConfig
from stockwarden.ingest.dataset import load_dataset
from stockwarden.risk.assess import assess_risk
from stockwarden.risk.daily import forecast_for, lead_times_for
from stockwarden.risk.inputs import build_frame, protection_demand
from stockwarden.risk.policy import protection_policy, simulated_policy

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "replay_dev"
AS_OF = pd.Timestamp("2016-03-25")
SEEDS = 20


def rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / b over rows with b >= 5 units (small levels are whole units: a relative error says little)."""
    keep = b >= 5
    return np.abs(a[keep] - b[keep]) / b[keep]


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"replay_dev not found at {DATA}")
    rules = RulesConfig()
    ds = load_dataset(DATA)
    fc = forecast_for(ds, as_of=AS_OF, rules=rules)
    lt = lead_times_for(ds, as_of=AS_OF, rules=rules)
    f, pmf = build_frame(ds.as_of(AS_OF), as_of=AS_OF, forecast=fc, lead_times=lt, rules=rules.risk, horizon_days=None)
    review = f["review_period_days"].to_numpy(np.int64)
    days = pmf.shape[1] - 1 + int(review.max())
    demand = protection_demand(fc, f["demand_row"].to_numpy(), days=days)
    common = {"lead_time_pmf": pmf, "review_period_days": review, "service_level": f["service_level"].to_numpy(float)}
    t0 = time.perf_counter()
    exact = protection_policy(daily_mean=demand.mean, size=demand.size, level_shape=demand.level_shape, **common)
    t_exact = time.perf_counter() - t0

    from dataclasses import replace

    model = replace(fc, mean=demand.mean, size=demand.size, level_shape=demand.level_shape)
    ref = simulated_policy(demand_paths=model.sample_paths(20_000, seed=99), seed=99, **common)
    small = np.array(
        [
            simulated_policy(demand_paths=model.sample_paths(250, seed=s), seed=s, **common).reorder_point
            for s in range(SEEDS)
        ]
    )
    spread = small.std(axis=0) / np.maximum(small.mean(axis=0), 1e-9)
    probs = np.array(
        [
            assess_risk(
                ds, as_of=AS_OF, forecast=fc, lead_times=lt, rules=rules.model_copy(update={"risk": RiskRules(seed=s)})
            )
            .sort_values(["sku", "location_id"])["stockout_probability"]
            .to_numpy()
            for s in range(SEEDS)
        ]
    )
    big = ref.reorder_point >= 5
    result = {
        "rows": len(f),
        "rows_with_reorder_point_ge_5": int(big.sum()),
        "computed_vs_20000_paths_rop_rel_error_median": float(np.median(rel(exact.reorder_point, ref.reorder_point))),
        "computed_vs_20000_paths_rop_rel_error_p95": float(
            np.quantile(rel(exact.reorder_point, ref.reorder_point), 0.95)
        ),
        "computed_vs_20000_paths_out_rel_error_median": float(np.median(rel(exact.order_up_to, ref.order_up_to))),
        "computed_rop_spread_over_seeds": 0.0,
        "old_250_paths_rop_cv_over_20_seeds_median": float(np.median(spread[big])),
        "old_250_paths_rop_cv_over_20_seeds_p95": float(np.quantile(spread[big], 0.95)),
        "stockout_probability_sd_over_20_seeds_median": float(np.median(probs.std(axis=0))),
        "stockout_probability_sd_over_20_seeds_max": float(probs.std(axis=0).max()),
        "computed_levels_seconds": round(t_exact, 3),
    }
    width = max(map(len, result))
    for k, v in result.items():
        print(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "policy_error.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
