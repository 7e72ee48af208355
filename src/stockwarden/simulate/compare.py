"""Policies compared along their trade-off curves (interpolated, never extrapolated).

A policy swept over its knob draws a curve: stockout days (or fill rate, or turnover) against
average inventory value. Two policies are compared *at equal inventory* by reading both curves at
the same inventory value with linear interpolation between neighbouring knob values; outside the
range a curve covers there is no value (NaN), so no comparison is invented.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def curve_at(summary: pd.DataFrame, policy: str, *, x: str, y: str, at: float) -> float:
    """``y`` of ``policy``'s curve at ``x == at`` (linear interpolation; NaN outside the curve)."""
    c = summary.loc[summary["policy"] == policy, [x, y]].dropna().sort_values(x, kind="stable")
    if len(c) == 0 or not np.isfinite(at):
        return float("nan")
    xs, ys = c[x].to_numpy(float), c[y].to_numpy(float)
    if at < xs[0] - 1e-9 or at > xs[-1] + 1e-9:
        return float("nan")
    if len(c) == 1:
        return float(ys[0])
    # equal x values (a flat knob range): keep their mean so interpolation stays a function
    ux, inv = np.unique(xs, return_inverse=True)
    uy = np.bincount(inv, weights=ys) / np.bincount(inv)
    return float(np.interp(at, ux, uy))


def operating_point(summary: pd.DataFrame, policy: str, knob: float | str) -> pd.Series | None:
    """The summary row of ``policy`` at ``knob`` (None when absent)."""
    rows = summary.loc[(summary["policy"] == policy) & (summary["knob"].astype(str) == str(knob))]
    return None if rows.empty else rows.iloc[0]


def overlap_grid(summary: pd.DataFrame, a: str, b: str, *, x: str, points: int = 21) -> np.ndarray:
    """Values of ``x`` both curves cover (empty when they do not overlap)."""
    xa = summary.loc[summary["policy"] == a, x].astype(float)
    xb = summary.loc[summary["policy"] == b, x].astype(float)
    if xa.empty or xb.empty:
        return np.zeros(0)
    lo, hi = max(xa.min(), xb.min()), min(xa.max(), xb.max())
    return np.linspace(lo, hi, points) if hi > lo else np.zeros(0)


def reduction_at(summary: pd.DataFrame, ours: str, base: str, *, at: float, x: str, y: str) -> float:
    """``1 - ours(at) / base(at)``: the share of ``y`` (e.g. stockout days) ``ours`` removes at ``x == at``."""
    o = curve_at(summary, ours, x=x, y=y, at=at)
    b = curve_at(summary, base, x=x, y=y, at=at)
    return float(1.0 - o / b) if np.isfinite(o) and np.isfinite(b) and b > 0 else float("nan")


def compare_policies(
    summary: pd.DataFrame, *, ours: str = "stockwarden", knob: float | str | None = None
) -> dict[str, object]:
    """The issue's comparisons of ``ours`` with ``reorder_level``, ``textbook`` and ``hindsight``.

    Read at ``ours``'s operating point (its row at ``knob``, default: the middle of its curve) and,
    for the stockout comparisons, over every inventory value both curves cover (min, median, max).

    Returns:
        A JSON-ready dict: ``operating_point``, ``vs_reorder_level`` (``stockout_reduction``,
        ``turnover_gain``), ``vs_textbook`` (``stockout_reduction``), ``gap_closed`` (share of the
        textbook-hindsight gap in stockout days that ``ours`` closes), each with ``over_overlap``.
    """
    mine = summary.loc[summary["policy"] == ours].sort_values("avg_inventory_value")
    if mine.empty:
        return {"error": f"no {ours} rows in the summary"}
    row = operating_point(summary, ours, knob) if knob is not None else None
    if row is None:
        row = mine.iloc[len(mine) // 2]
    inv, fill = float(row["avg_inventory_value"]), float(row["fill_rate"])

    def over(base: str) -> dict[str, float | None]:
        grid = overlap_grid(summary, ours, base, x="avg_inventory_value")
        vals = np.array(
            [reduction_at(summary, ours, base, at=g, x="avg_inventory_value", y="stockout_days") for g in grid]
        )
        vals = vals[np.isfinite(vals)]
        if not len(vals):
            return {"min": None, "median": None, "max": None, "inventory_from": None, "inventory_to": None}
        return {
            "min": float(vals.min()),
            "median": float(np.median(vals)),
            "max": float(vals.max()),
            "inventory_from": float(grid[0]),
            "inventory_to": float(grid[-1]),
        }

    def clean(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    t_ours = curve_at(summary, ours, x="fill_rate", y="turnover", at=fill)
    t_base = curve_at(summary, "reorder_level", x="fill_rate", y="turnover", at=fill)
    tb = curve_at(summary, "textbook", x="avg_inventory_value", y="stockout_days", at=inv)
    hs = curve_at(summary, "hindsight", x="avg_inventory_value", y="stockout_days", at=inv)
    me = curve_at(summary, ours, x="avg_inventory_value", y="stockout_days", at=inv)
    gap = (tb - me) / (tb - hs) if np.isfinite(tb) and np.isfinite(hs) and tb - hs > 0 else float("nan")
    return {
        "operating_point": {
            "knob": row["knob"],
            "avg_inventory_value": inv,
            "fill_rate": fill,
            "stockout_days": int(row["stockout_days"]),
            "turnover": float(row["turnover"]),
        },
        "vs_reorder_level": {
            "stockout_reduction": clean(
                reduction_at(summary, ours, "reorder_level", at=inv, x="avg_inventory_value", y="stockout_days")
            ),
            "stockout_reduction_over_overlap": over("reorder_level"),
            "turnover_gain": clean(t_ours / t_base - 1.0) if np.isfinite(t_base) and t_base > 0 else None,
            "reorder_level_turnover_at_fill_rate": clean(t_base),
        },
        "vs_textbook": {
            "stockout_reduction": clean(
                reduction_at(summary, ours, "textbook", at=inv, x="avg_inventory_value", y="stockout_days")
            ),
            "stockout_reduction_over_overlap": over("textbook"),
        },
        "gap_closed": {
            "share": clean(gap),
            "textbook_stockout_days": clean(tb),
            "hindsight_stockout_days": clean(hs),
            "ours_stockout_days": clean(me),
        },
    }
