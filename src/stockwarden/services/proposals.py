"""Use-cases of order proposals: list lines and purchase orders (scoped), detail with its approval log,
approve / reject / change (one transaction each, with the approval log, an optimistic version check and
the audit row), and export.

The approver role that limits an approval's value (``orders.approver_roles``) is the actor's: a buyer
approves as ``buyer``; an admin as the role with the highest limit (or ``as_role``; the CLI's local
administrator without stored users must name it, as before); a planner changes
as ``planner`` when the rules name it, else within the ``buyer`` limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from stockwarden.actions.approval import Actor as ApprovalActor
from stockwarden.domain.actor import Actor, Permission, Role
from stockwarden.domain.order import ProposalLine, ProposalStatus
from stockwarden.errors import ApprovalError, Conflict, InputError, NotFound
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require, scope_clause, split_csv
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.services.locks import lock_rows
from stockwarden.store.orders import OrderProposalLineRow as Line


def _scope(actor: Actor) -> sa.ColumnElement[bool]:
    return scope_clause(actor.scope, location_col=Line.location_id, sku_col=Line.sku)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "value"):
        return v.value
    if isinstance(v, tuple):
        return list(v)
    return v


def line_dict(line: ProposalLine, version: int) -> dict[str, Any]:
    """A proposal line as plain values, with ``id``, ``value`` and its optimistic ``version``."""
    d = {k: _clean(v) for k, v in dataclasses.asdict(line).items()}
    d["id"] = d.pop("proposal_id")
    d["value"] = _clean(line.value)
    d["version"] = version
    return d


def _statuses(status: list[str] | None) -> list[str]:
    out = []
    for v in split_csv(status):
        try:
            out.append(ProposalStatus(v.lower()).value)
        except ValueError:
            raise InputError(f"status {v!r} is not one of {', '.join(s.value for s in ProposalStatus)}") from None
    return out


def list_proposals(
    ctx: AppContext,
    *,
    actor: Actor,
    status: list[str] | None = None,
    supplier: str | None = None,
    po_id: str | None = None,
    location: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """Proposal lines in the actor's scope, by purchase order and line."""
    from stockwarden.store.order_repo import line_versions, to_line

    require(actor, Permission.READ)
    check_page(limit, offset)
    where = [_scope(actor)]
    statuses = _statuses(status)
    if statuses:
        where.append(Line.status.in_(statuses))
    if supplier:
        where.append(Line.supplier_id == supplier)
    if po_id:
        where.append(Line.po_id == po_id)
    locations = split_csv(location)
    if locations:
        where.append(Line.location_id.in_(locations))
    with read_scope(ctx) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(Line).where(*where)) or 0
        rows = s.scalars(
            sa.select(Line).where(*where).order_by(Line.po_id, Line.line_no, Line.id).limit(limit).offset(offset)
        ).all()
        versions = line_versions(s, [r.id for r in rows])
        return Page([line_dict(to_line(r), versions[r.id]) for r in rows], int(total))


def list_purchase_orders(
    ctx: AppContext, *, actor: Actor, status: list[str] | None = None, limit: int = 50, offset: int = 0
) -> Page[dict[str, Any]]:
    """Draft purchase orders (lines grouped by ``po_id``) in the actor's scope."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    where = [_scope(actor)]
    statuses = _statuses(status)
    if statuses:
        where.append(Line.status.in_(statuses))
    value = sa.func.sum(Line.qty * sa.func.coalesce(Line.unit_cost, 0.0))
    query = (
        sa.select(
            Line.po_id,
            sa.func.min(Line.supplier_id),
            sa.func.min(Line.location_id),
            sa.func.count(),
            value,
            sa.func.min(Line.order_by_date),
        )
        .where(*where)
        .group_by(Line.po_id)
    )
    with read_scope(ctx) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(Line.po_id).limit(limit).offset(offset)).all()
        counts: dict[str, dict[str, int]] = {}
        if rows:
            for po, st, n in s.execute(
                sa.select(Line.po_id, Line.status, sa.func.count())
                .where(*where, Line.po_id.in_([r[0] for r in rows]))
                .group_by(Line.po_id, Line.status)
            ).all():
                counts.setdefault(po, {})[st] = int(n)
    items = [
        {
            "po_id": r[0],
            "supplier_id": r[1],
            "location_id": r[2],
            "lines": int(r[3]),
            "value": float(r[4] or 0.0),
            "order_by_date": r[5],
            "status_counts": counts.get(r[0], {}),
        }
        for r in rows
    ]
    return Page(items, int(total))


def get_proposal(ctx: AppContext, proposal_id: int, *, actor: Actor) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One proposal line and its approval log (404 outside the scope)."""
    from stockwarden.store.order_repo import get_approval_log, line_versions, to_line

    require(actor, Permission.READ)
    with read_scope(ctx) as s:
        row = s.scalars(sa.select(Line).where(Line.id == proposal_id, _scope(actor))).one_or_none()
        if row is None:
            raise NotFound(f"proposal {proposal_id} does not exist")
        line = line_dict(to_line(row), line_versions(s, [proposal_id])[proposal_id])
    log = [{k: _clean(v) for k, v in dataclasses.asdict(e).items()} for e in get_approval_log(ctx.engine, proposal_id)]
    return line, log


def order_notes(ctx: AppContext, po_ids: Sequence[str], *, actor: Actor) -> dict[str, str]:
    """The notes of purchase orders (supplier top-ups, budget cuts) by ``po_id``, for the orders with a
    line in the actor's scope; orders without a note are left out."""
    from stockwarden.store.order_repo import get_order_notes

    require(actor, Permission.READ)
    wanted = list(dict.fromkeys(po_ids))
    if not wanted:
        return {}
    with read_scope(ctx) as s:
        visible = set(s.scalars(sa.select(Line.po_id).where(Line.po_id.in_(wanted), _scope(actor)).distinct()))
    return get_order_notes(ctx.engine, sorted(visible))


def _approval_role(ctx: AppContext, actor: Actor, as_role: str | None) -> str | None:
    from stockwarden.services.rules import current_rules

    limits = current_rules(ctx)[1].orders.approver_roles
    if as_role is not None:
        if not actor.is_admin and as_role != _approval_role(ctx, actor, None):
            raise ApprovalError(f"user {actor.username!r} may not act as approver role {as_role!r}")
        return as_role
    if actor.is_admin:
        if actor.user_id is None:  # the CLI's local administrator names the approver role (--as ROLE)
            return None
        return max(limits, key=lambda r: limits[r]) if limits else None
    if Role.BUYER in actor.roles:
        return "buyer"
    if Role.PLANNER in actor.roles:
        return "planner" if "planner" in limits else "buyer"
    return None


def _transition(
    ctx: AppContext,
    ids: Sequence[int],
    *,
    actor: Actor,
    action: str,
    versions: dict[int, int] | None,
    step: Any,
) -> list[dict[str, Any]]:
    from stockwarden.store.order_repo import apply_transitions, line_versions, to_line

    now = ctx.now()
    with session_scope(ctx) as s:
        ids = list(dict.fromkeys(int(i) for i in ids))
        lock_rows(s, Line, ids)
        rows = {r.id: r for r in s.scalars(sa.select(Line).where(Line.id.in_(ids), _scope(actor))).all()}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"proposal {missing[0]} does not exist")
        current = line_versions(s, ids)
        for i, expected in (versions or {}).items():
            if i in current and current[i] != expected:
                raise Conflict(
                    f"proposal {i} changed since you read it (version {expected}, now {current[i]}); reload and retry"
                )
        before = {i: {"status": rows[i].status, "qty": rows[i].qty} for i in ids}
        done = apply_transitions(s, ids, step)
        s.flush()
        after_versions = line_versions(s, ids)
        out = []
        for line in done:
            assert line.proposal_id is not None
            pid = int(line.proposal_id)
            record(
                s,
                actor,
                action=action,
                object_type="proposal",
                object_id=pid,
                before=before[pid],
                after={"status": line.status.value, "qty": line.qty},
                now=now,
            )
            out.append(line_dict(to_line(s.get_one(Line, pid)), after_versions[pid]))
    return out


def approve(
    ctx: AppContext,
    ids: Sequence[int],
    *,
    actor: Actor,
    versions: dict[int, int] | None = None,
    comment: str | None = None,
    as_role: str | None = None,
) -> list[dict[str, Any]]:
    """Approve draft lines at their proposed quantity (all or none).

    Raises:
        NotFound: an id not in the scope. Conflict: a version changed. InvalidTransition: not a draft (409).
        ApprovalError: the value is above the approver role's limit (403).
    """
    from stockwarden.actions import approval
    from stockwarden.services.rules import current_rules

    require(actor, Permission.PROPOSALS_APPROVE)
    rules = current_rules(ctx)[1].orders
    who = ApprovalActor(actor.username, _approval_role(ctx, actor, as_role))
    now = ctx.now()
    return _transition(
        ctx,
        ids,
        actor=actor,
        action="proposal.approve",
        versions=versions,
        step=lambda ln: approval.approve_line(ln, actor=who, now=now, rules=rules, comment=comment),
    )


def approve_purchase_order(
    ctx: AppContext, po_id: str, *, actor: Actor, comment: str | None = None, as_role: str | None = None
) -> list[dict[str, Any]]:
    """Approve every draft line of one purchase order (all or none)."""
    require(actor, Permission.PROPOSALS_APPROVE)
    with read_scope(ctx) as s:
        ids = s.scalars(
            sa.select(Line.id).where(Line.po_id == po_id, Line.status == ProposalStatus.DRAFT.value, _scope(actor))
        ).all()
    if not ids:
        raise NotFound(f"purchase order {po_id!r} has no draft lines")
    return approve(ctx, list(ids), actor=actor, comment=comment, as_role=as_role)


def reject(
    ctx: AppContext,
    proposal_id: int,
    *,
    reason: str,
    actor: Actor,
    version: int | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Reject a draft line with a reason code."""
    from stockwarden.actions import approval
    from stockwarden.services.rules import current_rules

    require(actor, Permission.PROPOSALS_APPROVE)
    rules = current_rules(ctx)[1].orders
    who = ApprovalActor(actor.username, _approval_role(ctx, actor, None))
    now = ctx.now()
    return _transition(
        ctx,
        [proposal_id],
        actor=actor,
        action="proposal.reject",
        versions=None if version is None else {proposal_id: version},
        step=lambda ln: approval.reject_line(ln, reason=reason, actor=who, now=now, rules=rules, comment=comment),
    )[0]


def change(
    ctx: AppContext,
    proposal_id: int,
    *,
    qty: float,
    reason: str,
    actor: Actor,
    version: int | None = None,
    comment: str | None = None,
    as_role: str | None = None,
) -> dict[str, Any]:
    """Approve a draft line with another quantity and a reason code."""
    from stockwarden.actions import approval
    from stockwarden.services.rules import current_rules

    require(actor, Permission.PROPOSALS_CHANGE)
    if not math.isfinite(qty):
        raise InputError(f"qty must be a finite number, got {qty!r}")
    rules = current_rules(ctx)[1].orders
    who = ApprovalActor(actor.username, _approval_role(ctx, actor, as_role))
    now = ctx.now()
    return _transition(
        ctx,
        [proposal_id],
        actor=actor,
        action="proposal.change",
        versions=None if version is None else {proposal_id: version},
        step=lambda ln: approval.change_line(
            ln, qty=qty, reason=reason, actor=who, now=now, rules=rules, comment=comment
        ),
    )[0]


def export_orders(
    ctx: AppContext,
    *,
    actor: Actor,
    sink: Callable[[pd.DataFrame], object],
    include_drafts: bool = False,
    order_date: dt.date | None = None,
) -> dict[str, int]:
    """Export approved lines (and drafts with ``include_drafts``) in the ERP layout through ``sink``
    (a file writer, a webhook post): when the sink succeeds the approved lines become ``exported`` and
    count as on order; when it raises nothing is marked. Returns ``{"exported", "drafts", "rows"}``.

    Raises:
        ApprovalError: a scoped user (an export takes every approved line).
    """
    from stockwarden.services.rules import current_rules
    from stockwarden.store.order_repo import export_proposals

    require(actor, Permission.PROPOSALS_EXPORT)
    if not actor.scope.is_unrestricted:
        raise ApprovalError("exporting orders needs an unscoped user: an export takes every approved line")
    rules = current_rules(ctx)[1].orders
    now = ctx.now()
    result = export_proposals(
        ctx.engine,
        order_date=order_date or now.date(),
        now=now,
        actor=ApprovalActor(actor.username),
        rules=rules,
        deliver=sink,
        include_drafts=include_drafts,
    )
    counts = {"exported": result.n_exported, "drafts": result.n_drafts, "rows": len(result.frame)}
    with session_scope(ctx) as s:
        record(s, actor, action="proposal.export", object_type="export", object_id=None, after=counts, now=now)
    return counts


def create_proposals(
    ctx: AppContext,
    assessment: pd.DataFrame,
    *,
    actor: Actor,
    as_of: dt.date,
    dataset: Any = None,
    rules: Any = None,
) -> tuple[Any, dict[str, int]]:
    """Make and store draft proposals from an assessment frame, as the daily run does after assessing
    (exported orders count as on order; stored idempotently), and audit it. Returns the proposal set and
    what was stored (``created``, ``updated``, ``unchanged``, ...).

    ``dataset``: the data the quantities are computed from (default: the database as of ``as_of``);
    ``rules``: default the rules in force.

    Raises:
        PermissionDenied: the actor may not start runs (making proposals is part of the run), or is scoped.
    """
    from stockwarden.actions.replenish import propose_orders
    from stockwarden.services.data import load_dataset
    from stockwarden.services.rules import current_rules
    from stockwarden.store.order_repo import exported_orders_as_pos, save_proposals

    require(actor, Permission.RUNS_START)
    if not actor.scope.is_unrestricted:
        raise ApprovalError("making proposals needs an unscoped user: proposals are grouped per supplier and budget")
    rules = rules if rules is not None else current_rules(ctx)[1]
    day = pd.Timestamp(as_of)
    ds = (dataset if dataset is not None else load_dataset(ctx, actor=actor)).as_of(day)
    exported = exported_orders_as_pos(ctx.engine, as_of=as_of)
    proposals = propose_orders(assessment, ds, as_of=day, rules=rules, exported=exported)
    now = ctx.now()
    summary = save_proposals(ctx.engine, proposals, now=now, rules=rules.orders).as_dict()
    with session_scope(ctx) as s:
        record(
            s,
            actor,
            action="proposal.create",
            object_type="proposals",
            object_id=None,
            after={"as_of": as_of, "lines": len(proposals.lines), "orders": len(proposals.orders), **summary},
            now=now,
        )
    return proposals, summary


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_file(
    ctx: AppContext, *, actor: Actor, fmt: str = "csv", include_drafts: bool = False, chinese: bool = False
) -> tuple[bytes, str, str, dict[str, int]]:
    """:func:`export_orders` into a file in memory: ``(content, media type, file name, counts)``."""
    import tempfile
    from pathlib import Path

    from stockwarden.actions.export import write_export

    if fmt not in MEDIA:
        raise InputError(f"format must be csv, xlsx or json, got {fmt!r}")
    now = ctx.now()
    out: dict[str, bytes] = {}

    def sink(frame: pd.DataFrame) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"orders.{fmt}"
            write_export(frame, path, fmt=fmt, chinese=chinese, generated_at=now)  # type: ignore[arg-type]
            out["data"] = path.read_bytes()

    counts = export_orders(ctx, actor=actor, sink=sink, include_drafts=include_drafts)
    return out.get("data", b""), MEDIA[fmt], f"orders_{now:%Y%m%d_%H%M%S}.{fmt}", counts


__all__ = [
    "MEDIA",
    "approve",
    "approve_purchase_order",
    "change",
    "create_proposals",
    "export_file",
    "export_orders",
    "get_proposal",
    "line_dict",
    "list_proposals",
    "list_purchase_orders",
    "order_notes",
    "reject",
]
