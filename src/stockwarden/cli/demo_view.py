"""Rich views of ``stockwarden demo``: the company, what was loaded, the risk table, alerts and orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich import box
from rich.markup import escape
from rich.table import Table

from stockwarden.cli.app import console
from stockwarden.domain.actor import Actor
from stockwarden.ingest.dataset import Dataset
from stockwarden.ingest.health import HealthReport
from stockwarden.services import AppContext

LEVEL_RANK = {"critical": 0, "warning": 1, "watch": 2, "ok": 3}
LEVEL_STYLE = {"critical": "bold red", "warning": "yellow", "watch": "cyan", "ok": "green"}


def _level(text: object) -> str:
    value = str(text)
    return f"[{LEVEL_STYLE.get(value, 'white')}]{value}[/]"


def _num(x: object, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return ""
    try:
        return f"{float(x):,.{digits}f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(x)


def _day(x: object) -> str:
    if x is None or (not isinstance(x, str) and pd.isna(x)):  # type: ignore[call-overload]
        return ""
    return str(pd.Timestamp(x).date())  # type: ignore[arg-type]


def print_company(ds: Dataset, folder: Path, *, seed: int) -> None:
    """One paragraph on the sample company."""
    items = ds.items
    cats = ", ".join(f"{c} ({n})" for c, n in items["category"].value_counts().sort_index().items())
    sups = ", ".join(f"{r.supplier_id} {int(r.lead_time_days)} d" for r in ds.suppliers.itertuples())
    locs = ", ".join(f"{r.location_id} ({r.kind})" for r in ds.locations.itertuples())
    first, last = ds.sales["date"].min(), ds.sales["date"].max()
    console.rule("[bold]The sample company")
    console.print(
        f"Written to [bold]{escape(str(folder))}[/] (seed {seed}): {len(items)} items in "
        f"{items['category'].nunique()} categories ({cats}); {len(ds.locations)} locations ({locs}); "
        f"{len(ds.suppliers)} suppliers with nominal lead times ({sups}); history {_day(first)} to {_day(last)}.",
        highlight=False,
    )


_LOAD_COLUMNS = (
    ("table", 15, True),
    ("file", 19, False),
    ("rows read", 9, True),
    ("accepted", 9, True),
    ("rejected", 8, True),
    ("first date", 10, True),
    ("last date", 10, True),
    ("SKUs", 4, False),
    ("locations", 9, False),
)


def print_health(report: Any, health: HealthReport) -> None:
    """The per-table summary of the import (counts + data-health summary) and the data warnings."""
    console.rule("[bold]What was loaded")
    shown = _fitting(_LOAD_COLUMNS)
    table = Table(
        box=box.SIMPLE_HEAD, title=f"import batch {report.batch_id}, {report.seconds:.1f} s", title_justify="left"
    )
    for col in shown:
        table.add_column(
            col, justify="left" if col in ("table", "file", "first date", "last date") else "right", no_wrap=True
        )
    summaries = {t.table: t for t in health.tables}
    for name, counts in report.tables.items():
        s = summaries[name]
        cells = {
            "table": name,
            "file": counts.file,
            "rows read": f"{counts.read:,}",
            "accepted": f"{counts.accepted:,}",
            "rejected": f"[red]{counts.rejected}[/]" if counts.rejected else "0",
            "first date": _day(s.first_date),
            "last date": _day(s.last_date),
            "SKUs": str(s.skus or ""),
            "locations": str(s.locations or ""),
        }
        table.add_row(*(cells[c] for c in shown))
    console.print(table)
    if not health.warnings:
        console.print("[green]No data warning.[/]")
        return
    console.print(f"[bold]Data warnings[/] as of {_day(health.as_of)}:", highlight=False)
    for w in health.warnings:
        colour = "yellow" if str(w.severity) == "warning" else "cyan"
        console.print(f"  [{colour}]{w.code}[/] ({w.table}): {w.message}", highlight=False)
        for example in w.examples[:3]:
            console.print(f"      {example}", highlight=False)


def print_run(report: Any) -> None:
    """The daily run's steps and timings."""
    console.rule(f"[bold]Daily run as of {report.as_of}")
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("counts")
    for step in report.steps:
        counts = ", ".join(f"{k}={v}" for k, v in step.counts.items() if v)
        table.add_row(step.name, f"{step.seconds:.1f}", counts)
    console.print(table)
    for warning in report.warnings:
        if not str(warning).startswith("data:"):  # the data warnings were shown with the import
            console.print(f"[yellow]note:[/] {warning}", highlight=False)


def sort_by_urgency(assessment: pd.DataFrame) -> pd.DataFrame:
    """Most urgent first: level, then stockout probability, then the earliest expected stockout."""
    frame = assessment.assign(
        _rank=assessment["level"].astype(str).map(LEVEL_RANK).fillna(len(LEVEL_RANK)),
        _date=pd.to_datetime(assessment["expected_stockout_date"], errors="coerce"),
    )
    frame = frame.sort_values(
        ["_rank", "stockout_probability", "_date", "sku", "location_id"],
        ascending=[True, False, True, True, True],
        na_position="last",
        kind="stable",
    )
    return frame.drop(columns=["_rank", "_date"]).reset_index(drop=True)


def short_reasons(reasons: object, *, keep: int = 3) -> str:
    """The first ``keep`` reason codes, and how many more there are."""
    codes = [c for c in str(reasons or "").replace(",", ";").split(";") if c.strip()] if reasons == reasons else []
    shown = ", ".join(c.strip() for c in codes[:keep])
    return shown + (f" +{len(codes) - keep}" if len(codes) > keep else "")


# (header, width, essential): optional columns are dropped on narrow terminals.
_RISK_COLUMNS = (
    ("sku", 9, True),
    ("location", 8, True),
    ("level", 8, True),
    ("P(out)", 6, True),
    ("stockout", 10, True),
    ("cover d", 7, False),
    ("on hand", 7, False),
    ("on order", 8, False),
    ("reorder pt", 10, False),
    ("order qty", 9, False),
    ("reasons", 24, True),
)


def _fitting(columns: tuple[tuple[str, int, bool], ...]) -> list[str]:
    width = sum(w + 3 for _h, w, _e in columns)
    keep = [h for h, _w, _e in columns]
    for h, w, essential in reversed(columns):
        if width <= console.width:
            break
        if not essential:
            keep.remove(h)
            width -= w + 3
    return keep


def print_risk(assessment: pd.DataFrame, *, top: int) -> None:
    """The risk table of the company sorted by urgency (the first ``top`` rows) and the count per level."""
    ranked = sort_by_urgency(assessment)
    per_level = ranked["level"].astype(str).value_counts()
    summary = ", ".join(f"{_level(lv)} {per_level.get(lv, 0)}" for lv in LEVEL_RANK)
    console.rule("[bold]Stockout risk, most urgent first")
    console.print(f"{len(ranked)} SKU-locations assessed: {summary}", highlight=False)
    shown = _fitting(_RISK_COLUMNS)
    table = Table(box=box.SIMPLE_HEAD)
    for header in shown:
        left = header in ("sku", "location", "level", "stockout", "reasons")
        table.add_column(header, justify="left" if left else "right", no_wrap=header != "reasons")
    for r in ranked.head(top).itertuples(index=False):
        cells = {
            "sku": str(r.sku),
            "location": str(r.location_id),
            "level": _level(r.level),
            "P(out)": f"{float(r.stockout_probability):.0%}",
            "stockout": _day(r.expected_stockout_date),
            "cover d": _num(r.days_of_cover, 1),
            "on hand": _num(r.on_hand),
            "on order": _num(r.on_order),
            "reorder pt": _num(r.reorder_point),
            "order qty": _num(r.suggested_order_qty),
            "reasons": short_reasons(r.reasons, keep=2),
        }
        table.add_row(*(cells[h] for h in shown))
    console.print(table)


def print_alerts(ctx: AppContext, actor: Actor, *, top: int) -> None:
    """The open alerts, most urgent first."""
    from stockwarden.services.alerts import list_alerts

    console.rule("[bold]Alerts")
    page = list_alerts(ctx, actor=actor, limit=top)
    by_level = {lv: list_alerts(ctx, actor=actor, level=[lv], limit=1).total for lv in ("critical", "warning", "watch")}
    console.print(
        f"{page.total} open alerts: " + ", ".join(f"{_level(lv)} {n}" for lv, n in by_level.items()),
        highlight=False,
    )
    live = page.items
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("id", "level", "state", "sku", "location", "P(out)", "stockout", "reasons"):
        table.add_column(col, no_wrap=col != "reasons", justify="right" if col in ("id", "P(out)") else "left")
    for a in live[:top]:
        table.add_row(
            str(a.alert_id),
            _level(a.level),
            str(a.state),
            a.sku,
            a.location_id,
            f"{a.stockout_probability:.0%}",
            _day(a.expected_stockout_date),
            short_reasons(";".join(a.reasons), keep=2),
        )
    console.print(table)


_PO_COLUMNS = (
    ("draft PO", 24, True),
    ("supplier", 8, False),
    ("to", 6, False),
    ("lines", 5, True),
    ("critical", 8, True),
    ("units", 7, True),
    ("value", 9, True),
    ("order by", 10, True),
    ("arrives", 10, False),
    ("status", 8, False),
)


def print_proposals(ctx: AppContext, actor: Actor, *, top: int) -> None:
    """The proposed purchase orders, one line per draft PO, largest value first."""
    from stockwarden.cli.appctx import every
    from stockwarden.services.proposals import list_proposals

    lines = every(list_proposals, ctx, actor=actor)
    console.rule("[bold]Order proposals")
    if not lines:
        console.print("No order proposed.")
        return
    frame = pd.DataFrame(
        [
            {
                "po_id": ln["po_id"],
                "supplier_id": ln["supplier_id"],
                "location_id": ln["location_id"],
                "qty": ln["qty"],
                "value": ln["value"] or 0.0,
                "status": ln["status"],
                "order_by": ln["order_by_date"],
                "arrival": ln["expected_arrival_date"],
                "critical": ln["level"] == "critical",
            }
            for ln in lines
        ]
    )
    pos = (
        frame.groupby("po_id", sort=False)
        .agg(
            supplier=("supplier_id", "first"),
            location=("location_id", "first"),
            lines=("qty", "size"),
            units=("qty", "sum"),
            value=("value", "sum"),
            critical=("critical", "sum"),
            status=("status", "first"),
            order_by=("order_by", "min"),
            arrival=("arrival", "min"),
        )
        .sort_values(["critical", "value"], ascending=False)
    )
    console.print(
        f"{len(frame)} lines in {len(pos)} draft purchase orders, total value {frame['value'].sum():,.0f}",
        highlight=False,
    )
    shown = _fitting(_PO_COLUMNS)
    table = Table(box=box.SIMPLE_HEAD)
    for col in shown:
        table.add_column(
            col, justify="right" if col in ("lines", "critical", "units", "value") else "left", no_wrap=True
        )
    for po_id, r in pos.head(top).iterrows():
        cells = {
            "draft PO": str(po_id),
            "supplier": str(r.supplier),
            "to": str(r.location),
            "lines": str(r.lines),
            "critical": str(int(r.critical)),
            "units": _num(r.units),
            "value": _num(r.value),
            "order by": _day(r.order_by),
            "arrives": _day(r.arrival),
            "status": str(r.status),
        }
        table.add_row(*(cells[c] for c in shown))
    console.print(table)
