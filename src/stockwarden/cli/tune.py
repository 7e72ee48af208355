"""``stockwarden tune``: propose per-category thresholds and service levels; never applies them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from stockwarden.cli.app import app, console, fail, guarded
from stockwarden.cli.common import open_dataset
from stockwarden.config import load_rules


def _labels(ds, frame: pd.DataFrame, *, until: pd.Timestamp) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Backtest rows whose protection interval has passed, with their label (sales as the demand)."""
    from stockwarden.quality.effectiveness import label_protection_interval

    known = ds.as_of(until)
    f = frame.loc[pd.to_datetime(frame["as_of"]) + pd.to_timedelta(frame["horizon_days"], unit="D") <= until].copy()
    f["as_of"] = pd.to_datetime(f["as_of"])
    demand = known.sales.loc[known.sales["qty"] > 0, ["date", "sku", "location_id", "qty"]]
    po = known.purchase_orders
    receipts = po.loc[:, ["sku", "location_id", "order_date", "received_date"]].assign(
        received_qty=po["received_qty"].fillna(po["qty"])
    )
    return label_protection_interval(f, demand=demand, receipts=receipts)


def _false_alarm_marks(db: str | None) -> pd.DataFrame:
    """``sku, location_id, first_day, last_day`` of stored alerts a planner marked false alarm (empty without a DB)."""
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.quality import false_alarm_marks

    with cli_context(db) as (ctx, actor):
        return false_alarm_marks(ctx, actor=actor)


@app.command("tune")
@guarded
def tune_command(
    out: Annotated[Path, typer.Option("--out", help="where to write the proposed rules (TOML)")],
    dataset: Annotated[str | None, typer.Argument(help="dataset folder; omit to use the database")] = None,
    target_precision: Annotated[
        float | None, typer.Option("--target-precision", min=0.0, max=1.0, help="warnings right at least this often")
    ] = None,
    alerts_per_week: Annotated[
        float | None, typer.Option("--alerts-per-week", min=0.0, help="at most this many warnings per category a week")
    ] = None,
    fill_rate: Annotated[
        float | None, typer.Option("--fill-rate", min=0.0, max=1.0, help="service levels reaching this fill rate")
    ] = None,
    simulation: Annotated[
        Path | None,
        typer.Option("--simulation", help="output folder of 'simulate --sweep --policy stockwarden' (for --fill-rate)"),
    ] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=8, help="weekly checkpoints of history to tune on")] = 52,
    db: Annotated[str | None, typer.Option("--db", help="database URL (feedback labels; data when no folder)")] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="rules.toml in force (never modified; default: the database's)")
    ] = None,
) -> None:
    """Choose per-category warning thresholds (and service levels) on earlier checkpoints, report them on later
    ones before and after, write the proposal to --out and, with a database, store it as a rules version
    awaiting approval ('stockwarden rules approve VERSION'). Nothing changes until a person approves it."""
    import tomli_w

    from stockwarden.cli.risk import run_backtest_on
    from stockwarden.quality.tune import (
        choose_scales,
        choose_service_levels,
        measure,
        propose_rules,
        split_checkpoints,
        warned,
    )

    if (target_precision is None) == (alerts_per_week is None):
        raise fail("give exactly one of --target-precision P or --alerts-per-week N")
    if fill_rate is not None and simulation is None:
        raise fail(
            "--fill-rate needs --simulation DIR: the output of 'stockwarden simulate ... --sweep --policy stockwarden'"
        )
    if rules is not None and out.resolve() == rules.resolve():
        raise fail(f"--out {out} is the rules file in force; tune only writes a proposal next to it")
    use_db = dataset is None or db is not None
    if rules is None and use_db:
        from stockwarden.cli.appctx import cli_context
        from stockwarden.services import rules as rules_service

        with cli_context(db) as (ctx, actor):
            _, cfg = rules_service.get_rules(ctx, actor=actor)
    else:
        cfg = load_rules(rules)
    ds = open_dataset(dataset, db)
    last = ds.last_date
    if last is None:
        raise fail("the dataset has no sales or inventory dates")
    horizon = int(cfg.risk.review_period_days) + 30
    end = last - pd.Timedelta(days=horizon)
    start = end - pd.Timedelta(weeks=weeks - 1)
    frame = run_backtest_on(ds, start=start, end=end, every_days=7, rules=cfg, warmup_days=0)
    if frame.empty:
        raise fail(f"no checkpoint could be assessed between {start.date()} and {end.date()}")
    labelled = _labels(ds, frame, until=last)
    marks = _false_alarm_marks(db) if dataset is None or db is not None else pd.DataFrame()
    if len(marks):
        m = labelled.reset_index().merge(marks, on=["sku", "location_id"])
        hit = m.loc[(m["as_of"] >= m["first_day"]) & (m["as_of"] <= m["last_day"]), "index"]
        labelled.loc[labelled.index.isin(hit), "label"] = 0
    fit, report = split_checkpoints(labelled)
    scales = choose_scales(fit, rules=cfg, target_precision=target_precision, alerts_per_week=alerts_per_week)
    levels = None
    if fill_rate is not None and simulation is not None:
        per_sku = simulation / "per_sku.csv"
        if not per_sku.is_file():
            raise fail(f"{per_sku} does not exist: run 'stockwarden simulate ... --sweep --policy stockwarden' first")
        levels = choose_service_levels(pd.read_csv(per_sku), ds.items, fill_rate=fill_rate)
    proposed = propose_rules(cfg, scales=scales, service_levels=levels)
    before = measure(report, warned(report, rules=cfg))
    after = measure(report, warned(report, rules=proposed))
    body = tomli_w.dumps(proposed.model_dump(mode="json", exclude_none=True))
    header = (
        f"# Proposed by 'stockwarden tune' on {dt.date.today().isoformat()} from {len(fit)} fit rows "
        f"(checkpoints before {report['as_of'].min().date() if len(report) else '-'}); "
        f"reported on {len(report)} later rows.\n"
        f"# Rules in force: version {cfg.version()}; this proposal: version {proposed.version()}.\n"
        "# Nothing changes until a person approves it and makes it the rules in force.\n"
    )
    out.write_text(header + body, encoding="utf-8")
    view = Table(title="Warnings on the later checkpoints (report set)")
    for c in ("", "warnings", "per checkpoint", "precision", "recall"):
        view.add_column(c)
    for name, m in (("rules in force", before), ("proposed", after)):
        view.add_row(
            name,
            str(m["warnings"]),
            f"{m['warnings_per_checkpoint']:.1f}",
            "-" if m["precision"] is None else f"{m['precision']:.2f}",
            "-" if m["recall"] is None else f"{m['recall']:.2f}",
        )
    console.print(view)
    console.print("threshold factor per category: " + ", ".join(f"{c or '(none)'} x{s:g}" for c, s in scales.items()))
    if levels:
        console.print("service level per category: " + ", ".join(f"{c} {v:g}" for c, v in levels.items()))
    console.print(f"proposal written to {out} (version {proposed.version()}); the rules in force are unchanged")
    if use_db:
        _store_proposal(db, header + body, comment=header.splitlines()[0].lstrip("# "))
    else:
        console.print("no database given (--db): the proposal is not stored for approval", highlight=False)


def _store_proposal(db: str | None, text: str, *, comment: str) -> None:
    """Store the proposal as a rules version awaiting approval (the rules in force do not change)."""
    from stockwarden.cli.appctx import cli_context
    from stockwarden.errors import InputError
    from stockwarden.services import rules as rules_service

    with cli_context(db) as (ctx, actor):
        try:
            version, changes = rules_service.propose_rules(ctx, text, actor=actor, comment=comment, source="tune")
        except InputError as exc:
            console.print(f"not stored for approval: {exc}", highlight=False)
            return
    console.print(
        f"stored as rules version {version.id}, awaiting approval ({len(changes)} setting(s) change): "
        f"stockwarden rules approve {version.id} | stockwarden rules reject {version.id}",
        highlight=False,
    )
