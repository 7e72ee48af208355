"""``stockwarden proposals ...``: list, show, approve, reject, change and export order proposals.

Thin: parse arguments, call the use-cases (``services.proposals``: permission, transaction, approval
log, audit row), print. Proposals are made by
``stockwarden run`` (or ``proposals create`` from an assessment file); ids are proposal-line ids as shown
by ``proposals list``; ``approve`` also accepts a draft purchase-order number for all its draft lines.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.appctx import cli_context, every
from stockwarden.cli.common import load_config, open_dataset, utc_now
from stockwarden.domain.actor import Actor
from stockwarden.domain.order import AuditEntry, ProposalEvent, ProposalLine, ProposalStatus
from stockwarden.errors import InputError
from stockwarden.services import AppContext

proposals_app = typer.Typer(help="Order proposals: list, show, approve, reject, change, export.", no_args_is_help=True)
app.add_typer(proposals_app, name="proposals")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="rules file (default: ./stockwarden.toml if present): approver roles, auto-approval, ..."
    ),
]
UserOpt = Annotated[str | None, typer.Option("--user", help="who acts (default: the login name)")]
CommentOpt = Annotated[str | None, typer.Option("--comment", help="free-text comment for the approval log")]


def _money(x: float) -> str:
    return "?" if x != x else f"{x:,.2f}"


def _qty(x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:g}"


def _print_lines(lines: list[ProposalLine], notes: dict[str, str]) -> None:
    """One compact table per purchase order (fits an 80-column terminal), then the order's notes."""
    by_po: dict[str, list[ProposalLine]] = {}
    for ln in lines:
        by_po.setdefault(ln.po_id, []).append(ln)
    for po_id, group in by_po.items():
        first = group[0]
        value = sum(ln.value for ln in group)
        table = Table(
            title=f"{po_id}: {first.supplier_id or '-'} → {first.location_id}, value {_money(value)}",
            title_justify="left",
        )
        for col in ("id", "ln", "sku", "status", "qty", "value", "level", "P(out)", "order by"):
            table.add_column(
                col, justify="right" if col in ("id", "ln", "qty", "value", "P(out)") else "left", no_wrap=True
            )
        for ln in group:
            table.add_row(
                str(ln.proposal_id),
                str(ln.line_no),
                ln.sku,
                ln.status.value,
                _qty(ln.qty),
                _money(ln.value if ln.unit_cost == ln.unit_cost else math.nan),
                ln.level,
                f"{ln.stockout_probability:.2f}",
                ln.order_by_date.isoformat(),
            )
        console.print(table)
        if po_id in notes:
            console.print(f"  note: {notes[po_id]}", highlight=False, soft_wrap=True)


@proposals_app.command("list")
@guarded
def list_cmd(
    status: Annotated[str | None, typer.Option("--status", help="draft, approved, rejected, changed, exported")] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", help="only this supplier id")] = None,
    po: Annotated[str | None, typer.Option("--po", help="only this purchase order number")] = None,
    db: DbOpt = None,
) -> None:
    """List proposal lines, one table per draft purchase order (most at-risk lines first)."""
    from stockwarden.services.proposals import list_proposals, order_notes

    with cli_context(db, read_only=True) as (ctx, actor):
        statuses = [status] if status else None
        lines = [
            _line(r) for r in every(list_proposals, ctx, actor=actor, status=statuses, supplier=supplier, po_id=po)
        ]
        notes = order_notes(ctx, [ln.po_id for ln in lines], actor=actor)
    if not lines:
        console.print("no proposals match")
        return
    total = sum(ln.value for ln in lines)
    _print_lines(lines, notes)
    console.print(f"{len(lines)} proposal line(s), value {_money(total)}", highlight=False)


@proposals_app.command("show")
@guarded
def show_cmd(proposal_id: Annotated[int, typer.Argument(help="proposal id")], db: DbOpt = None) -> None:
    """Show one proposal: its numbers, how its quantity was computed, and its approval log."""
    from stockwarden.services.proposals import get_proposal, order_notes

    with cli_context(db, read_only=True) as (ctx, actor):
        row, entries = get_proposal(ctx, proposal_id, actor=actor)
        ln = _line(row)
        notes = order_notes(ctx, [ln.po_id], actor=actor)
    log = [_entry(e) for e in entries]
    console.print(
        f"[bold]proposal {ln.proposal_id}[/]: {ln.sku} @ {ln.location_id} from {ln.supplier_id or '-'}, "
        f"{ln.po_id} line {ln.line_no}, [bold]{ln.status.value}[/]",
        highlight=False,
    )
    console.print(
        f"qty {_qty(ln.qty)} × {_money(ln.unit_cost)} = {_money(ln.value)}; level {ln.level}, "
        f"P(stockout) {ln.stockout_probability:.2f}, expected stockout "
        f"{ln.expected_stockout_date or '-'}; order by {ln.order_by_date}, "
        f"arrives {ln.expected_arrival_date} (lead time {_qty(ln.lead_time_days)} d)",
        highlight=False,
    )
    console.print(f"reasons: {', '.join(ln.reasons) or '-'}", highlight=False)
    console.print(f"how: {ln.explanation}", highlight=False, soft_wrap=True)
    if ln.po_id in notes:
        console.print(f"order {ln.po_id}: {notes[ln.po_id]}", highlight=False, soft_wrap=True)
    console.print("[bold]approval log[/]")
    for e in log:
        qty = _qty(e.qty_after)
        if e.qty_before not in (None, e.qty_after):
            qty = f"{_qty(e.qty_before)} → {_qty(e.qty_after)}"
        who = e.user + (f" ({e.role})" if e.role else "")
        status = f"{e.from_status or '-'} → {e.to_status.value}"
        extra = "".join(f"; {x}" for x in (e.reason_code, None if e.event is ProposalEvent.CREATED else e.comment) if x)
        console.print(
            f"  {e.at:%Y-%m-%d %H:%M} {e.event.value} by {who}: {status}, qty {qty}{extra}",
            highlight=False,
            soft_wrap=True,
        )


def _line(row: dict[str, object]) -> ProposalLine:
    """A proposal line back from the service's plain values (for printing)."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(ProposalLine)}
    values = {k: v for k, v in row.items() if k in names}
    values["proposal_id"] = row["id"]
    values["status"] = ProposalStatus(str(row["status"]))
    values["reasons"] = tuple(row.get("reasons") or ())  # type: ignore[arg-type]
    for k in ("unit_cost",):
        if values.get(k) is None:
            values[k] = math.nan
    return ProposalLine(**values)  # type: ignore[arg-type]


def _entry(row: dict[str, object]) -> AuditEntry:
    """An approval-log entry back from the service's plain values (for printing)."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(AuditEntry)}
    values = {k: v for k, v in row.items() if k in names}
    values["event"] = ProposalEvent(str(row["event"]))
    values["to_status"] = ProposalStatus(str(row["to_status"]))
    values["from_status"] = ProposalStatus(str(row["from_status"])) if row.get("from_status") else None
    return AuditEntry(**values)  # type: ignore[arg-type]


def _resolve_ids(ctx: AppContext, actor: Actor, ids: list[str]) -> list[int]:
    """Proposal ids, or purchase order numbers standing for all their draft lines."""
    from stockwarden.services.proposals import list_proposals

    out: list[int] = []
    for token in ids:
        if token.strip().isdigit():
            out.append(int(token))
            continue
        drafts = every(list_proposals, ctx, actor=actor, status=[ProposalStatus.DRAFT.value], po_id=token.strip())
        if not drafts:
            raise InputError(f"'{token}' is neither a proposal id nor a purchase order with draft lines")
        out.extend(int(str(d["id"])) for d in drafts)
    return out


@proposals_app.command("approve")
@guarded
def approve_cmd(
    ids: Annotated[list[str], typer.Argument(help="proposal ids, or purchase order numbers (all their drafts)")],
    role: Annotated[
        str | None, typer.Option("--as", help="role acted as (limits in rules: orders.approver_roles)")
    ] = None,
    user: UserOpt = None,
    comment: CommentOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Approve draft proposals at their proposed quantity (all or none)."""
    from stockwarden.services import proposals

    with cli_context(db, config=config, user=user) as (ctx, actor):
        rows = proposals.approve(ctx, _resolve_ids(ctx, actor, ids), actor=actor, comment=comment, as_role=role)
    done = [_line(r) for r in rows]
    value = sum(ln.value for ln in done)
    console.print(
        f"approved {len(done)} proposal(s), value {_money(value)}: "
        + ", ".join(f"{ln.proposal_id} ({ln.sku} × {_qty(ln.qty)})" for ln in done),
        highlight=False,
    )


@proposals_app.command("reject")
@guarded
def reject_cmd(
    proposal_id: Annotated[int, typer.Argument(help="proposal id")],
    reason: Annotated[str, typer.Option("--reason", help="reason code (e.g. overstock, supplier_issue, other)")],
    user: UserOpt = None,
    comment: CommentOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Reject a draft proposal with a reason code."""
    from stockwarden.services import proposals

    with cli_context(db, config=config, user=user) as (ctx, actor):
        ln = _line(proposals.reject(ctx, proposal_id, reason=reason, actor=actor, comment=comment))
    console.print(f"rejected proposal {ln.proposal_id} ({ln.sku} @ {ln.location_id}): {reason}", highlight=False)


@proposals_app.command("change")
@guarded
def change_cmd(
    proposal_id: Annotated[int, typer.Argument(help="proposal id")],
    qty: Annotated[float, typer.Option("--qty", help="the quantity to order instead (whole packs, >= MOQ)")],
    reason: Annotated[str, typer.Option("--reason", help="reason code (e.g. demand_knowledge, budget, other)")],
    role: Annotated[str | None, typer.Option("--as", help="role acted as")] = None,
    user: UserOpt = None,
    comment: CommentOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Approve a draft with a different quantity (status changed); a reason code is required."""
    from stockwarden.services import proposals

    with cli_context(db, config=config, user=user) as (ctx, actor):
        row = proposals.change(ctx, proposal_id, qty=qty, reason=reason, actor=actor, comment=comment, as_role=role)
    ln = _line(row)
    console.print(
        f"changed proposal {ln.proposal_id} ({ln.sku}) to {_qty(ln.qty)}, value {_money(ln.value)}: {reason}",
        highlight=False,
    )


@proposals_app.command("export")
@guarded
def export_cmd(
    out: Annotated[Path | None, typer.Option("--out", help="file to write (.csv, .xlsx or .json)")] = None,
    include_all: Annotated[bool, typer.Option("--all", help="every open line (drafts too), not only approved")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, xlsx or json (default: from --out)")] = None,
    chinese: Annotated[bool, typer.Option("--chinese-headers", help="Chinese column headers (csv/xlsx)")] = False,
    webhook: Annotated[str | None, typer.Option("--webhook", help="also POST the orders as JSON to this URL")] = None,
    user: UserOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Export approved proposals in the ERP import layout; exported lines then count as on order."""
    from stockwarden.actions.export import post_webhook, validate_webhook_url, webhook_payload, write_export
    from stockwarden.services import proposals

    if out is None and webhook is None:
        raise InputError("nothing to do: give --out FILE and/or --webhook URL")
    if fmt is not None and fmt not in ("csv", "xlsx", "json"):
        raise InputError(f"--format must be csv, xlsx or json, got '{fmt}'")
    if webhook is not None:
        validate_webhook_url(webhook)
    now = utc_now()

    def deliver(frame: pd.DataFrame) -> None:
        if out is not None:
            write_export(frame, out, fmt=fmt, chinese=chinese, generated_at=now)  # type: ignore[arg-type]
        if webhook is not None and len(frame):
            post_webhook(webhook, webhook_payload(frame, generated_at=now))

    with cli_context(db, config=config, user=user) as (ctx, actor):
        counts = proposals.export_orders(
            ctx, actor=actor, sink=deliver, include_drafts=include_all, order_date=dt.date.today()
        )
    where = " and ".join(x for x in (str(out) if out else "", webhook or "") if x)
    console.print(
        f"exported {counts['rows']} line(s) to {where}: {counts['exported']} marked exported"
        + (f", {counts['drafts']} draft(s) included for review" if counts["drafts"] else ""),
        highlight=False,
    )


@proposals_app.command("create")
@guarded
def create_cmd(
    assessment: Annotated[Path, typer.Option("--assessment", help="assessment file from `stockwarden assess --out`")],
    dataset: Annotated[str | None, typer.Argument(help="dataset folder (default: the database)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="proposal date (default: the assessment's)")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Make and store proposals from an assessment file (what stockwarden run does after assessing)."""
    from stockwarden.services.proposals import create_proposals

    if not assessment.is_file():
        raise InputError(f"assessment file {assessment} does not exist")
    try:
        frame = pd.read_csv(assessment, dtype={"sku": str, "location_id": str}, keep_default_na=True)
    except (ValueError, OSError) as exc:
        raise InputError(f"{assessment}: cannot read the assessment ({exc})") from exc
    day = as_of or (str(frame["as_of"].iloc[0]) if "as_of" in frame and len(frame) else None)
    if day is None:
        raise InputError("no --as-of given and the assessment has no as_of column")
    try:
        day_ts = pd.Timestamp(day)
    except ValueError as exc:
        raise InputError(f"--as-of '{day}' is not a date (YYYY-MM-DD)") from exc
    rules = load_config(config)
    ds = open_dataset(dataset, db) if dataset is not None else None
    with cli_context(db, config=config) as (ctx, actor):
        ps, stored = create_proposals(ctx, frame, actor=actor, as_of=day_ts.date(), dataset=ds, rules=rules)
    console.print(
        f"{len(ps.lines)} line(s) in {len(ps.orders)} draft order(s), value {_money(ps.total_value)}"
        + (f"; {len(ps.cut_lines)} cut by the budget" if ps.cut_lines else "")
        + f"; stored: {stored}",
        highlight=False,
    )
