"""The web's calls into the application layer for alert and proposal actions (one place to adapt).

When the application layer has alert and proposal use-cases (``stockwarden.services.alerts`` /
``stockwarden.services.proposals``) they are used. Until then this module performs the same steps the
way a use-case does: it checks the permission (``services.common.require``) and the actor's scope,
applies the pure lifecycle or approval step, saves it, and writes the audit row
(``services.audit.record``) with the actor, in one transaction (``services.context.session_scope``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.actions import approval
from stockwarden.alerts import lifecycle
from stockwarden.domain.actor import Actor, Permission
from stockwarden.domain.alert import Alert, AlertChange, FeedbackVerdict
from stockwarden.domain.order import ProposalLine
from stockwarden.errors import ApprovalError, NotFound
from stockwarden.services import audit
from stockwarden.services.common import require
from stockwarden.services.context import AppContext, session_scope
from stockwarden.services.rules import current_rules
from stockwarden.store import alert_repo, order_repo


def _service(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"stockwarden.services.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"stockwarden.services.{name}":
            raise
        return None


def _check_scope(actor: Actor, location_id: str, category: str | None) -> None:
    if not actor.scope.has_location(location_id) or not actor.scope.has_category(category):
        raise NotFound("the alert or proposal does not exist or is outside your locations and categories")


def _alert_step(
    ctx: AppContext, alert_id: int, actor: Actor, action: str, step: Callable[[Alert], AlertChange]
) -> Alert:
    require(actor, Permission.ALERTS_ACT)
    now = ctx.now()
    with session_scope(ctx) as s:
        try:
            before = alert_repo.get_alert(s, alert_id)
        except Exception as exc:  # the store says "does not exist" with an InputError
            raise NotFound(f"alert {alert_id} does not exist") from exc
        _check_scope(actor, before.location_id, before.category)
        after = alert_repo.save_alert_change(s, step(before))
        audit.record(
            s,
            actor,
            action=f"alert.{action}",
            object_type="alert",
            object_id=alert_id,
            before={"state": str(before.state), "snoozed_until": before.snoozed_until},
            after={"state": str(after.state), "snoozed_until": after.snoozed_until},
            now=now,
        )
    return after


def acknowledge(ctx: AppContext, alert_ids: Sequence[int], *, actor: Actor, comment: str = "") -> int:
    """Acknowledge alerts; returns how many were acknowledged."""
    svc = _service("alerts")
    for alert_id in alert_ids:
        if svc is not None and hasattr(svc, "act_on_alert"):
            svc.act_on_alert(ctx, alert_id, "ack", actor=actor, comment=comment)
            continue
        _alert_step(
            ctx,
            alert_id,
            actor,
            "acknowledged",
            lambda a: lifecycle.acknowledge_alert(a, actor=actor.username, now=ctx.now(), comment=comment),
        )
    return len(alert_ids)


def snooze(
    ctx: AppContext,
    alert_ids: Sequence[int],
    *,
    actor: Actor,
    until: dt.date | None,
    until_worse: bool,
    comment: str = "",
) -> int:
    """Snooze alerts until a date and/or until they get worse; returns how many were snoozed."""
    svc = _service("alerts")
    for alert_id in alert_ids:
        if svc is not None and hasattr(svc, "act_on_alert"):
            svc.act_on_alert(
                ctx, alert_id, "snooze", actor=actor, until=until, until_worse=until_worse, comment=comment
            )
            continue
        _alert_step(
            ctx,
            alert_id,
            actor,
            "snoozed",
            lambda a: lifecycle.snooze_alert(
                a, actor=actor.username, now=ctx.now(), until=until, until_worse=until_worse, comment=comment
            ),
        )
    return len(alert_ids)


def resolve(ctx: AppContext, alert_id: int, *, actor: Actor, comment: str = "") -> None:
    """Resolve an alert by hand."""
    svc = _service("alerts")
    if svc is not None and hasattr(svc, "act_on_alert"):
        svc.act_on_alert(ctx, alert_id, "resolve", actor=actor, comment=comment)
        return
    _alert_step(
        ctx,
        alert_id,
        actor,
        "resolved",
        lambda a: lifecycle.resolve_alert(a, actor=actor.username, now=ctx.now(), comment=comment),
    )


def comment(ctx: AppContext, alert_id: int, *, actor: Actor, comment: str) -> None:
    """Add a comment to an alert's handling log."""
    svc = _service("alerts")
    if svc is not None and hasattr(svc, "act_on_alert"):
        svc.act_on_alert(ctx, alert_id, "comment", actor=actor, comment=comment)
        return
    _alert_step(
        ctx,
        alert_id,
        actor,
        "commented",
        lambda a: lifecycle.comment_alert(a, actor=actor.username, now=ctx.now(), comment=comment),
    )


def feedback(ctx: AppContext, alert_id: int, *, actor: Actor, verdict: str, comment: str = "") -> None:
    """Record a planner's verdict on an alert (useful / false alarm / already handled)."""
    svc = _service("alerts")
    if svc is not None and hasattr(svc, "act_on_alert"):
        svc.act_on_alert(ctx, alert_id, "feedback", actor=actor, verdict=verdict, comment=comment)
        return
    require(actor, Permission.ALERTS_ACT)
    verdict_value = FeedbackVerdict(verdict)
    now = ctx.now()
    with session_scope(ctx) as s:
        alert = alert_repo.get_alert(s, alert_id)
        _check_scope(actor, alert.location_id, alert.category)
        alert_repo.add_feedback(s, alert, verdict=verdict_value, actor=actor.username, now=now, note=comment)
        entry = lifecycle.feedback_entry(alert, verdict=verdict_value, actor=actor.username, now=now, note=comment)
        alert_repo.save_alert_change(s, AlertChange(before=alert, after=alert, entries=(entry,)))
        audit.record(
            s,
            actor,
            action="alert.feedback",
            object_type="alert",
            object_id=alert_id,
            after={"verdict": verdict},
            now=now,
        )


# -- proposals -----------------------------------------------------------------------------------


def approver_role(ctx: AppContext, actor: Actor) -> tuple[str | None, float]:
    """The actor's role with the highest approval limit, and that limit (None, 0 when no role may approve)."""
    _version, rules = current_rules(ctx)
    limits = rules.orders.approver_roles
    best: tuple[str | None, float] = (None, 0.0)
    for role in actor.roles:
        limit = limits.get(str(role))
        if limit is not None and limit > best[1]:
            best = (str(role), float(limit))
    if best[0] is None and actor.is_admin and limits:
        top_role, top_limit = max(limits.items(), key=lambda kv: kv[1])
        best = (str(top_role), float(top_limit))
    return best


def _lines(ctx: AppContext, line_ids: Sequence[int], actor: Actor) -> list[ProposalLine]:
    lines = []
    for line_id in line_ids:
        try:
            line = order_repo.get_proposal_line(ctx.engine, line_id)
        except Exception as exc:  # the store says "does not exist" with an InputError
            raise NotFound(f"proposal line {line_id} does not exist") from exc
        _check_scope(actor, line.location_id, None)
        lines.append(line)
    return lines


def lines_of_po(ctx: AppContext, po_id: str, statuses: Sequence[str] = ("draft", "changed")) -> list[int]:
    """The ids of a PO's lines in the given statuses."""
    with Session(ctx.engine) as s:
        rows = s.execute(
            sa.text("SELECT id, status FROM order_proposal_lines WHERE po_id = :p ORDER BY line_no"), {"p": po_id}
        ).all()
    return [int(r[0]) for r in rows if r[1] in statuses]


def _audit_lines(ctx: AppContext, actor: Actor, action: str, lines: Sequence[ProposalLine], **after: Any) -> None:
    now = ctx.now()
    with session_scope(ctx) as s:
        for line in lines:
            audit.record(
                s,
                actor,
                action=f"proposal.{action}",
                object_type="proposal",
                object_id=line.proposal_id,
                before={"status": str(line.status), "qty": line.qty},
                after={"po_id": line.po_id, "sku": line.sku, **after},
                now=now,
            )


def approve(ctx: AppContext, line_ids: Sequence[int], *, actor: Actor, comment: str = "") -> list[ProposalLine]:
    """Approve proposal lines at their quantity within the actor's limit (all or none).

    Raises:
        PermissionDenied: the actor may not approve. ApprovalError: a line is above the role's limit.
    """
    svc = _service("proposals")
    if svc is not None and hasattr(svc, "approve"):
        return list(svc.approve(ctx, list(line_ids), actor=actor, comment=comment or None))
    require(actor, Permission.PROPOSALS_APPROVE)
    lines = _lines(ctx, line_ids, actor)
    role, _limit = approver_role(ctx, actor)
    if role is None:
        raise ApprovalError("none of your roles has an approval limit in the rules ([orders] approver_roles)")
    _version, rules = current_rules(ctx)
    done = order_repo.approve_proposals(
        ctx.engine,
        list(line_ids),
        actor=approval.Actor(actor.username, role),
        now=ctx.now(),
        rules=rules.orders,
        comment=comment or None,
    )
    _audit_lines(ctx, actor, "approved", lines, status="approved")
    return done


def reject(ctx: AppContext, line_id: int, *, actor: Actor, reason: str, comment: str = "") -> ProposalLine:
    """Reject a draft line with a reason."""
    svc = _service("proposals")
    if svc is not None and hasattr(svc, "reject"):
        return svc.reject(ctx, line_id, actor=actor, reason=reason, comment=comment or None)  # type: ignore[no-any-return]
    require(actor, Permission.PROPOSALS_CHANGE if not actor.can(Permission.PROPOSALS_APPROVE) else Permission.READ)
    lines = _lines(ctx, [line_id], actor)
    role, _limit = approver_role(ctx, actor)
    _version, rules = current_rules(ctx)
    done = order_repo.reject_proposal(
        ctx.engine,
        line_id,
        reason=reason,
        actor=approval.Actor(actor.username, role or next(iter(sorted(str(r) for r in actor.roles)), None)),
        now=ctx.now(),
        rules=rules.orders,
        comment=comment or None,
    )
    _audit_lines(ctx, actor, "rejected", lines, status="rejected", reason=reason)
    return done


def change(ctx: AppContext, line_id: int, *, actor: Actor, qty: float, reason: str, comment: str = "") -> ProposalLine:
    """Change a draft line's quantity with a reason (this approves it at the new quantity, within the limit)."""
    svc = _service("proposals")
    if svc is not None and hasattr(svc, "change"):
        return svc.change(ctx, line_id, actor=actor, qty=qty, reason=reason, comment=comment or None)  # type: ignore[no-any-return]
    require(actor, Permission.PROPOSALS_APPROVE)
    lines = _lines(ctx, [line_id], actor)
    role, _limit = approver_role(ctx, actor)
    if role is None:
        raise ApprovalError("none of your roles has an approval limit in the rules ([orders] approver_roles)")
    _version, rules = current_rules(ctx)
    done = order_repo.change_proposal(
        ctx.engine,
        line_id,
        qty=qty,
        reason=reason,
        actor=approval.Actor(actor.username, role),
        now=ctx.now(),
        rules=rules.orders,
        comment=comment or None,
    )
    _audit_lines(ctx, actor, "changed", lines, status=str(done.status), qty=qty, reason=reason)
    return done


def export(ctx: AppContext, *, actor: Actor, include_drafts: bool = False) -> pd.DataFrame:
    """Export approved lines (marking them exported) and return the rows written."""
    svc = _service("proposals")
    if svc is not None and hasattr(svc, "export_frame"):
        return svc.export_frame(ctx, actor=actor, include_drafts=include_drafts)  # type: ignore[no-any-return]
    require(actor, Permission.PROPOSALS_EXPORT)
    _version, rules = current_rules(ctx)
    kept: list[pd.DataFrame] = []
    result = order_repo.export_proposals(
        ctx.engine,
        order_date=ctx.now().date(),
        now=ctx.now(),
        actor=approval.Actor(actor.username, None),
        rules=rules.orders,
        deliver=kept.append,
        include_drafts=include_drafts,
    )
    with session_scope(ctx) as s:
        audit.record(
            s,
            actor,
            action="proposal.exported",
            object_type="proposal",
            after={"exported": result.n_exported, "drafts": result.n_drafts},
            now=ctx.now(),
        )
    return result.frame


__all__ = [
    "acknowledge",
    "approve",
    "approver_role",
    "change",
    "comment",
    "export",
    "feedback",
    "lines_of_po",
    "reject",
    "resolve",
    "snooze",
]
