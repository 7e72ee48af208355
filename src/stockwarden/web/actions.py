"""The web's alert and proposal actions: thin calls into the application layer (``services.alerts``,
``services.proposals``), which check the permission and the scope, own the transaction and write the
audit row exactly as for the API and the CLI. Only what the pages need on top lives here (several
alerts at once, the lines of a purchase order, the approval limit to show)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from stockwarden.domain.actor import Actor
from stockwarden.services import proposals as proposal_service
from stockwarden.services.alerts import act_on_alert
from stockwarden.services.common import MAX_LIMIT
from stockwarden.services.context import AppContext
from stockwarden.services.rules import current_rules


def acknowledge(ctx: AppContext, alert_ids: Sequence[int], *, actor: Actor, comment: str = "") -> int:
    """Acknowledge alerts; returns how many were acknowledged."""
    for alert_id in alert_ids:
        act_on_alert(ctx, alert_id, "ack", actor=actor, comment=comment)
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
    for alert_id in alert_ids:
        act_on_alert(ctx, alert_id, "snooze", actor=actor, until=until, until_worse=until_worse, comment=comment)
    return len(alert_ids)


def resolve(ctx: AppContext, alert_id: int, *, actor: Actor, comment: str = "") -> None:
    """Resolve an alert by hand."""
    act_on_alert(ctx, alert_id, "resolve", actor=actor, comment=comment)


def comment(ctx: AppContext, alert_id: int, *, actor: Actor, comment: str) -> None:
    """Add a comment to an alert's handling log."""
    act_on_alert(ctx, alert_id, "comment", actor=actor, comment=comment)


def feedback(ctx: AppContext, alert_id: int, *, actor: Actor, verdict: str, comment: str = "") -> None:
    """Record a planner's verdict on an alert (useful / false alarm / already handled)."""
    act_on_alert(ctx, alert_id, "feedback", actor=actor, verdict=verdict, comment=comment)


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


def lines_of_po(ctx: AppContext, po_id: str, *, actor: Actor, statuses: Sequence[str] = ("draft",)) -> list[int]:
    """The ids of a purchase order's lines in the given statuses that the actor may see."""
    page = proposal_service.list_proposals(ctx, actor=actor, po_id=po_id, status=list(statuses), limit=MAX_LIMIT)
    return [int(row["id"]) for row in page.items]


def approve(ctx: AppContext, line_ids: Sequence[int], *, actor: Actor, comment: str = "") -> list[dict[str, Any]]:
    """Approve proposal lines at their quantity within the actor's limit (all or none).

    Raises:
        PermissionDenied: the actor may not approve. ApprovalError: a line is above the role's limit.
    """
    return proposal_service.approve(ctx, list(line_ids), actor=actor, comment=comment or None)


def reject(ctx: AppContext, line_id: int, *, actor: Actor, reason: str, comment: str = "") -> dict[str, Any]:
    """Reject a draft line with a reason."""
    return proposal_service.reject(ctx, line_id, actor=actor, reason=reason, comment=comment or None)


def change(
    ctx: AppContext, line_id: int, *, actor: Actor, qty: float, reason: str, comment: str = ""
) -> dict[str, Any]:
    """Change a draft line's quantity with a reason (this approves it at the new quantity, within the limit)."""
    return proposal_service.change(ctx, line_id, actor=actor, qty=qty, reason=reason, comment=comment or None)


def export_file(ctx: AppContext, *, actor: Actor, fmt: str) -> tuple[bytes, str, str, dict[str, int]]:
    """Export the approved lines in the ERP layout (marking them exported): the file's bytes, media type,
    file name and counts."""
    return proposal_service.export_file(ctx, actor=actor, fmt=fmt)
