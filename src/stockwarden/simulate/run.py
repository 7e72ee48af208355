"""Run several policies (and knob values) on one world and tabulate them."""

from __future__ import annotations

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


def run_policies(
    world: World,
    policies: Sequence[Policy],
    *,
    backorders: bool = False,
    shrink_rate: float = 0.0,
    progress: RunProgress | None = None,
) -> SimulationSet:
    """Simulate every policy on the same world (same demand, deliveries and shrink draws)."""
    results, rows, per = [], [], []
    for p in policies:
        label = f"{p.name}@{p.knob}"

        def day_done(done: int, label: str = label) -> None:
            if progress is not None:
                progress(label, done)

        r = simulate(world, p, backorders=backorders, shrink_rate=shrink_rate, progress=day_done)
        results.append(r)
        rows.append(summary_row(world, r))
        per.append(per_series_metrics(world, r))
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return SimulationSet(summary=summary, per_sku=pd.concat(per, ignore_index=True), results=tuple(results))
