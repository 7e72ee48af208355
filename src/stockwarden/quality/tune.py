"""Tuning: per-category warning thresholds and service levels proposed from the company's own history (pure).

Thresholds: a row of a backtest is *warned* when ``stockout_probability >= warning_probability`` or
``p_order_window >= order_now_probability`` (the assessment's warning rule). For each category both
thresholds are scaled by one factor from :data:`SCALES` (clipped to 1), chosen on the *fit* checkpoints
(the earlier ones) as the lowest factor (most stockouts caught) whose precision reaches
``target_precision``, or the lowest whose alerts per week stay within ``alerts_per_week``. Labels are
whether stock ran out within the protection interval had nothing new been ordered; rows a planner
marked ``false_alarm`` count as label 0 (they count against). The choice is then reported on the
later *report* checkpoints, before and after.

Service levels: from a ``simulate --sweep --policy stockwarden`` run's ``per_sku.csv``, per category the
lowest service level whose demand-weighted fill rate reaches ``fill_rate`` (the highest swept when
none does).

Nothing here changes the rules in force: :func:`propose_rules` returns a new :class:`RulesConfig`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import RiskThresholds, RulesConfig

SCALES: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5)


def split_checkpoints(frame: pd.DataFrame, *, fit_share: float = 0.6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(fit, report)``: the earlier ``fit_share`` of checkpoints and the later rest."""
    dates = np.sort(frame["as_of"].unique())
    if len(dates) < 2:
        return frame, frame.iloc[:0]
    cut = dates[max(1, int(len(dates) * fit_share))] if len(dates) > 1 else dates[-1]
    return frame.loc[frame["as_of"] < cut], frame.loc[frame["as_of"] >= cut]


def thresholds_of(rules: RulesConfig, category: str) -> RiskThresholds:
    """The thresholds in force for a category."""
    return rules.risk.thresholds_by_category.get(category, rules.risk.thresholds)


def warned(frame: pd.DataFrame, *, rules: RulesConfig, scale: dict[str, float] | None = None) -> np.ndarray:
    """Which rows the warning rule flags, with each category's thresholds scaled by ``scale`` (default 1)."""
    cats = frame["category"].fillna("").astype(str).to_numpy()
    out = np.zeros(len(frame), dtype=bool)
    p = frame["stockout_probability"].to_numpy(float)
    pw = frame["p_order_window"].to_numpy(float) if "p_order_window" in frame else np.zeros(len(frame))
    for c in np.unique(cats):
        t = thresholds_of(rules, c)
        s = (scale or {}).get(c, 1.0)
        m = cats == c
        out[m] = (p[m] >= min(t.warning_probability * s, 1.0)) | (pw[m] >= min(t.order_now_probability * s, 1.0))
    return out


def measure(frame: pd.DataFrame, flags: np.ndarray) -> dict[str, float | int | None]:
    """Precision, recall and alerts per week of ``flags`` against ``frame['label']``."""
    y = frame["label"].to_numpy(int)
    weeks = max(frame["as_of"].nunique(), 1) * 1.0 if len(frame) else 1.0
    tp = int((flags & (y == 1)).sum())
    return {
        "rows": len(frame),
        "warnings": int(flags.sum()),
        "precision": tp / int(flags.sum()) if flags.sum() else None,
        "recall": tp / int((y == 1).sum()) if (y == 1).any() else None,
        "warnings_per_checkpoint": float(flags.sum()) / weeks,
    }


def choose_scales(
    fit: pd.DataFrame,
    *,
    rules: RulesConfig,
    target_precision: float | None = None,
    alerts_per_week: float | None = None,
    checkpoints_per_week: float = 1.0,
) -> dict[str, float]:
    """Per category, the threshold factor meeting the target on the fit rows (1.0 when none can)."""
    out: dict[str, float] = {}
    cats = fit["category"].fillna("").astype(str)
    n_weeks = max(fit["as_of"].nunique() / checkpoints_per_week, 1e-9)
    for c in sorted(cats.unique()):
        g = fit.loc[cats == c]
        chosen = None
        for s in SCALES:
            flags = warned(g, rules=rules, scale={c: s})
            m = measure(g, flags)
            if target_precision is not None:
                if m["precision"] is not None and m["precision"] >= target_precision:
                    chosen = s
                    break
            elif alerts_per_week is not None and flags.sum() / n_weeks <= alerts_per_week:
                chosen = s
                break
        out[c] = chosen if chosen is not None else (SCALES[-1] if alerts_per_week is not None else 1.0)
    return out


def choose_service_levels(per_sku: pd.DataFrame, items: pd.DataFrame, *, fill_rate: float) -> dict[str, float]:
    """Per category the lowest swept service level whose fill rate reaches ``fill_rate``.

    Args:
        per_sku: ``per_sku.csv`` of a ``simulate --sweep --policy stockwarden`` run.
        items: the dataset's items (``sku, category``).
        fill_rate: the target share of demand served from stock.
    """
    p = per_sku.loc[per_sku["policy"] == "stockwarden"].copy()
    p = p.loc[pd.to_numeric(p["knob"], errors="coerce").notna()]
    p["knob"] = p["knob"].astype(float)
    p["category"] = p["sku"].map(items.drop_duplicates("sku").set_index("sku")["category"]).fillna("")
    p["served"] = p["fill_rate"] * p["demand_units"]
    g = p.groupby(["category", "knob"]).agg(served=("served", "sum"), demand=("demand_units", "sum")).reset_index()
    g["fill"] = g["served"] / g["demand"].where(g["demand"] > 0)
    out = {}
    for c, grp in g.groupby("category"):
        grp = grp.sort_values("knob")
        ok = grp.loc[grp["fill"] >= fill_rate]
        out[str(c)] = float(ok["knob"].iloc[0] if len(ok) else grp["knob"].iloc[-1])
    return out


def propose_rules(
    rules: RulesConfig, *, scales: dict[str, float], service_levels: dict[str, float] | None = None
) -> RulesConfig:
    """A new rules config with the per-category thresholds (and service levels); ``rules`` is untouched."""
    by_cat = dict(rules.risk.thresholds_by_category)
    for c, s in scales.items():
        if not c:
            continue
        t = thresholds_of(rules, c)
        by_cat[c] = t.model_copy(
            update={
                "warning_probability": round(min(t.warning_probability * s, 1.0), 4),
                "order_now_probability": round(min(t.order_now_probability * s, 1.0), 4),
            }
        )
    update: dict[str, object] = {"thresholds_by_category": by_cat}
    if service_levels:
        update["service_level_by_category"] = {
            **rules.risk.service_level_by_category,
            **{c: float(v) for c, v in service_levels.items() if c},
        }
    return rules.model_copy(update={"risk": rules.risk.model_copy(update=update)})
