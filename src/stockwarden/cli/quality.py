"""``stockwarden quality``: alert effectiveness and forecast accuracy from the company's own history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.common import parse_day
from stockwarden.config import load_rules
from stockwarden.services.quality import DEFAULT_PERIOD_DAYS


def _pct(x: object) -> str:
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{float(x):.0%}"  # type: ignore[arg-type]


@app.command("quality")
@guarded
def quality_command(
    since: Annotated[
        str | None, typer.Option("--since", help=f"first day judged (default: {DEFAULT_PERIOD_DAYS} days back)")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the whole result as JSON")] = None,
    planners: Annotated[int, typer.Option("--planners", min=1, help="planners sharing the alerts")] = 1,
    days_ahead: Annotated[int, typer.Option("--days-ahead", min=1, help="forecast days scored per run")] = 28,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL)")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="rules.toml (review period, default lead time)")] = None,
) -> None:
    """How the stored alerts did against what happened (warned in time, effective, false alarms, lead time,
    alerts per week, feedback) and how accurate the kept forecasts were (WAPE, bias, pinball); both stored."""
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.quality import evaluate_quality

    cfg = load_rules(rules) if rules is not None else None
    day = parse_day(since, None, option="--since") if since is not None else None
    with cli_context(db, read_only=True) as (ctx, actor):
        ev = evaluate_quality(ctx, actor=actor, since=day, planners=planners, days_ahead=days_ahead, rules=cfg)
    start, until, result, scores, drops, trend = ev.start, ev.until, ev.result, ev.scores, ev.drops, ev.trend
    o: dict[str, Any] = result["overall"]  # type: ignore[assignment]
    view = Table(title=f"Alert effectiveness {start.date()} .. {until.date()}")
    for c in ("group", "stockouts", "warned in time", "≥1 day", "median lead d", "alerts", "effective", "false"):
        view.add_column(c)
    for g in [{"group_by": "all", "group": "all", **o}, *result["groups"]]:  # type: ignore[dict-item,misc]
        view.add_row(
            f"{g['group_by']}={g['group']}" if g["group_by"] != "all" else "all",
            str(g["episodes"]),
            _pct(g["warned_in_time"]),
            _pct(g["warned_1d"]),
            "-" if g["median_warning_lead_days"] is None else f"{g['median_warning_lead_days']:.1f}",
            str(g["alerts"]),
            _pct(g["effective"]),
            _pct(g["false_alarms"]),
        )
    console.print(view)
    console.print(
        f"{o['alerts_per_planner_per_week']:.1f} alerts per planner per week; feedback: {o['feedback_useful']} useful, "
        f"{o['feedback_false_alarm']} false alarm; {result['unlabelled_alerts']} alert(s) too recent to judge; "
        f"{len(trend)} stored snapshot(s)"
    )
    if len(scores):
        overall = scores.loc[scores["group_by"] == "all"].tail(8)
        ft = Table(title=f"Forecast accuracy ({days_ahead} days after each run)")
        for c in ("run", "series", "WAPE", "bias", "pinball"):
            ft.add_column(c)
        for r in overall.itertuples(index=False):
            ft.add_row(
                str(pd.Timestamp(r.as_of).date()), str(r.n_series), _pct(r.wape), _pct(r.bias), f"{r.pinball:.3f}"
            )
        console.print(ft)
    else:
        console.print("no kept forecast has all its days of actuals yet (the daily run keeps one per run)")
    if json_out is not None:
        payload = {
            **result,
            "forecast_scores": scores.assign(as_of=scores["as_of"].astype(str)).to_dict("records")
            if len(scores)
            else [],
            "forecast_accuracy_drops": drops.to_dict("records"),
            "trend": trend.assign(
                computed_at=trend["computed_at"].astype(str),
                period_start=trend["period_start"].astype(str),
                period_end=trend["period_end"].astype(str),
            ).to_dict("records")
            if len(trend)
            else [],
        }
        json_out.write_text(json.dumps(payload, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        console.print(f"written {json_out}")
