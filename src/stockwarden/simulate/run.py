"""Run several policies (and knob values) on one world and tabulate them.

With ``workers > 1`` the runs are spread over that many forked processes (each run is deterministic,
so the results do not depend on how many workers ran them).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from stockwarden.simulate.engine import Policy, SimulationResult, simulate
from stockwarden.simulate.metrics import SUMMARY_COLUMNS, per_series_metrics, summary_row
from stockwarden.simulate.world import World

RunProgress = Callable[[str, int], None]
"""Called with (``policy@knob``, days done in that run)."""


@dataclass(frozen=True)
class SimulationSet:
    """The results of every policy run: summary (one row each), per-SKU rows and the raw results."""

    summary: pd.DataFrame
    per_sku: pd.DataFrame
    results: tuple[SimulationResult, ...]


_FORKED: tuple[World, Sequence[Policy], bool, float] | None = None
"""What a forked worker simulates (set in the parent just before forking; never pickled)."""


def _run_forked(i: int) -> tuple[int, SimulationResult]:
    assert _FORKED is not None
    world, policies, backorders, shrink_rate = _FORKED
    return i, simulate(world, policies[i], backorders=backorders, shrink_rate=shrink_rate)


def run_policies(
    world: World,
    policies: Sequence[Policy],
    *,
    backorders: bool = False,
    shrink_rate: float = 0.0,
    progress: RunProgress | None = None,
    workers: int = 1,
) -> SimulationSet:
    """Simulate every policy on the same world (same demand, deliveries and shrink draws)."""
    global _FORKED
    results: list[SimulationResult | None] = [None] * len(policies)
    if workers > 1 and len(policies) > 1 and "fork" in multiprocessing.get_all_start_methods():
        _FORKED = (world, policies, backorders, shrink_rate)
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(policies))) as pool:
                for i, r in pool.imap_unordered(_run_forked, range(len(policies))):
                    results[i] = r
                    if progress is not None:
                        progress(f"{r.policy}@{r.knob}", world.n_days)
        finally:
            _FORKED = None
    else:
        for i, p in enumerate(policies):
            label = f"{p.name}@{p.knob}"

            def day_done(done: int, label: str = label) -> None:
                if progress is not None:
                    progress(label, done)

            results[i] = simulate(world, p, backorders=backorders, shrink_rate=shrink_rate, progress=day_done)
    done = [r for r in results if r is not None]
    summary = pd.DataFrame([summary_row(world, r) for r in done], columns=list(SUMMARY_COLUMNS))
    per = [per_series_metrics(world, r) for r in done]
    return SimulationSet(summary=summary, per_sku=pd.concat(per, ignore_index=True), results=tuple(done))
