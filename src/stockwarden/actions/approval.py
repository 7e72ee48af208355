"""The approval state machine of proposal lines (pure): who may do what, and the audit entry it leaves.

::

    draft ──approve──> approved ──export──> exported
      ├──change (qty + reason code)──> changed ──export──> exported
      └──reject (reason code)──> rejected

Every transition returns the new line and an :class:`~stockwarden.domain.order.AuditEntry` (who, when,
from, to, quantity and value before and after, reason); a refused one raises
:class:`~stockwarden.errors.InvalidTransition` (not allowed from this status) or
:class:`~stockwarden.errors.ApprovalError` (not allowed for this actor or quantity).

Checks are pluggable handlers in the InvenTree style: each is called in turn with the line, the target
status, the actor and the quantity, and returns True (handled: skip the rest), False (pass on) or raises
(refuse). The default chain checks the approver's role limit (``rules.orders.approver_roles``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from stockwarden.config import OrderRules
from stockwarden.domain.order import AuditEntry, OverrideReason, ProposalEvent, ProposalLine, ProposalStatus
from stockwarden.errors import ApprovalError, InvalidTransition

S = ProposalStatus
ALLOWED: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    S.DRAFT: frozenset({S.APPROVED, S.REJECTED, S.CHANGED}),
    S.APPROVED: frozenset({S.EXPORTED}),
    S.CHANGED: frozenset({S.EXPORTED}),
    S.REJECTED: frozenset(),
    S.EXPORTED: frozenset(),
}
_EVENTS = {
    S.APPROVED: ProposalEvent.APPROVED,
    S.CHANGED: ProposalEvent.CHANGED,
    S.REJECTED: ProposalEvent.REJECTED,
    S.EXPORTED: ProposalEvent.EXPORTED,
}
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user name and the role they act as (None for steps that need no role)."""

    user: str
    role: str | None = None


SYSTEM = Actor("system", None)


class TransitionHandler(Protocol):
    """A check run before a transition: True = handled (stop), False = pass on, raise = refuse."""

    def __call__(
        self, line: ProposalLine, target: ProposalStatus, *, actor: Actor, qty: float, rules: OrderRules
    ) -> bool:
        """Check the transition of ``line`` to ``target`` at quantity ``qty`` by ``actor``."""
        ...


def check_role_limit(
    line: ProposalLine, target: ProposalStatus, *, actor: Actor, qty: float, rules: OrderRules
) -> bool:
    """Refuse an approval by a role that is unknown or whose value limit the line exceeds.

    Raises:
        ApprovalError: no role given, unknown role, or line value above the role's limit.
    """
    if target not in (S.APPROVED, S.CHANGED):
        return False
    roles = ", ".join(f"{r} (up to {v:g})" for r, v in sorted(rules.approver_roles.items(), key=lambda kv: kv[1]))
    if actor.role is None:
        raise ApprovalError(f"approving proposal {_name(line)} needs a role (--as ROLE); roles: {roles}")
    limit = rules.approver_roles.get(actor.role)
    if limit is None:
        raise ApprovalError(f"role '{actor.role}' may not approve orders; roles: {roles}")
    value = qty * line.unit_cost if line.unit_cost > 0 else 0.0
    if value > limit + _EPS:
        raise ApprovalError(
            f"proposal {_name(line)} is worth {value:,.2f}, above the {limit:,.2f} limit of role '{actor.role}'; "
            "ask a role with a higher limit"
        )
    return False


DEFAULT_HANDLERS: tuple[TransitionHandler, ...] = (check_role_limit,)


def _name(line: ProposalLine) -> str:
    ident = f"#{line.proposal_id} " if line.proposal_id is not None else ""
    return f"{ident}({line.sku} @ {line.location_id})"


def parse_reason(reason: str | OverrideReason | None) -> OverrideReason:
    """The override reason code for ``reason``.

    Raises:
        ApprovalError: when it is missing or not one of :class:`OverrideReason`.
    """
    codes = ", ".join(r.value for r in OverrideReason)
    if reason is None or not str(reason).strip():
        raise ApprovalError(f"a reason code is required; one of {codes}")
    try:
        return OverrideReason(str(reason).strip().lower())
    except ValueError:
        raise ApprovalError(f"unknown reason code '{reason}'; use one of {codes}") from None


def transition(
    line: ProposalLine,
    target: ProposalStatus,
    *,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    qty: float | None = None,
    reason: OverrideReason | None = None,
    comment: str | None = None,
    event: ProposalEvent | None = None,
    handlers: Sequence[TransitionHandler] = DEFAULT_HANDLERS,
) -> tuple[ProposalLine, AuditEntry]:
    """Move ``line`` to ``target`` after the handlers agree; return the new line and its audit entry.

    Raises:
        InvalidTransition: when ``target`` cannot be reached from the line's status.
        ApprovalError: when a handler refuses.
    """
    if target not in ALLOWED[line.status]:
        allowed = ", ".join(sorted(ALLOWED[line.status])) or "nothing (final)"
        raise InvalidTransition(
            f"proposal {_name(line)} is {line.status.value}; it cannot become {target.value} (allowed: {allowed})"
        )
    new_qty = line.qty if qty is None else float(qty)
    for handler in handlers:
        if handler(line, target, actor=actor, qty=new_qty, rules=rules):
            break
    new = replace(line, status=target, qty=new_qty)
    entry = AuditEntry(
        proposal_id=line.proposal_id,
        sku=line.sku,
        location_id=line.location_id,
        event=event or _EVENTS[target],
        at=now,
        user=actor.user,
        role=actor.role,
        from_status=line.status,
        to_status=target,
        qty_before=line.qty,
        qty_after=new_qty,
        value_before=line.value,
        value_after=new.value,
        reason_code=None if reason is None else reason.value,
        comment=comment,
    )
    return new, entry


def approve_line(
    line: ProposalLine,
    *,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
    handlers: Sequence[TransitionHandler] = DEFAULT_HANDLERS,
) -> tuple[ProposalLine, AuditEntry]:
    """Approve a draft at its proposed quantity (the actor's role must cover its value)."""
    return transition(line, S.APPROVED, actor=actor, now=now, rules=rules, comment=comment, handlers=handlers)


def change_line(
    line: ProposalLine,
    *,
    qty: float,
    reason: str | OverrideReason,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
    handlers: Sequence[TransitionHandler] = DEFAULT_HANDLERS,
) -> tuple[ProposalLine, AuditEntry]:
    """Approve a draft with a different quantity; a reason code is required.

    Raises:
        ApprovalError: missing or unknown reason, a quantity that is not positive, not a whole number of
            packs, below the MOQ, or equal to the proposed one (use approve), or above the role's limit.
        InvalidTransition: when the line is not a draft.
    """
    code = parse_reason(reason)
    if line.status is S.DRAFT:
        validate_qty(line, qty)
    return transition(
        line, S.CHANGED, actor=actor, now=now, rules=rules, qty=qty, reason=code, comment=comment, handlers=handlers
    )


def validate_qty(line: ProposalLine, qty: float) -> None:
    """Check a planner's quantity against the line's pack size and MOQ.

    Raises:
        ApprovalError: when the quantity is not usable, with what would be.
    """
    if not (qty > 0 and math.isfinite(qty)):
        raise ApprovalError(f"quantity must be a positive number, got {qty:g}; to order nothing, reject instead")
    packs = qty / line.pack_size
    if abs(packs - round(packs)) > 1e-6:
        lower = math.floor(packs) * line.pack_size
        upper = math.ceil(packs) * line.pack_size
        raise ApprovalError(
            f"quantity {qty:g} of {line.sku} is not a whole number of packs of {line.pack_size:g}; "
            f"use {lower:g} or {upper:g}"
        )
    if qty < line.moq - _EPS:
        raise ApprovalError(f"quantity {qty:g} of {line.sku} is below its MOQ {line.moq:g}")
    if abs(qty - line.qty) < _EPS:
        raise ApprovalError(f"quantity {qty:g} is the proposed one; use approve instead of change")


def reject_line(
    line: ProposalLine,
    *,
    reason: str | OverrideReason,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
) -> tuple[ProposalLine, AuditEntry]:
    """Reject a draft; a reason code is required (no role limit applies to saying no)."""
    code = parse_reason(reason)
    return transition(line, S.REJECTED, actor=actor, now=now, rules=rules, reason=code, comment=comment)


def mark_exported(
    line: ProposalLine, *, actor: Actor, now: dt.datetime, rules: OrderRules, comment: str | None = None
) -> tuple[ProposalLine, AuditEntry]:
    """Record that an approved (or changed) line went to the ERP."""
    return transition(line, S.EXPORTED, actor=actor, now=now, rules=rules, comment=comment)


def auto_approve(
    lines: Iterable[ProposalLine], *, now: dt.datetime, rules: OrderRules
) -> list[tuple[ProposalLine, AuditEntry]]:
    """Approve every draft worth at most ``rules.auto_approve_max_value`` (nothing when it is 0).

    Lines without a unit cost are never auto-approved: their value is unknown, not zero.
    """
    limit = rules.auto_approve_max_value
    if limit <= 0:
        return []
    system_rules = rules.model_copy(update={"approver_roles": {"auto": limit}})
    out = []
    for line in lines:
        if line.status is S.DRAFT and line.unit_cost > 0 and line.value <= limit + _EPS:
            out.append(
                transition(
                    line,
                    S.APPROVED,
                    actor=Actor("system", "auto"),
                    now=now,
                    rules=system_rules,
                    event=ProposalEvent.AUTO_APPROVED,
                    comment=f"value {line.value:,.2f} ≤ auto-approve limit {limit:,.2f}",
                )
            )
    return out


def creation_entry(line: ProposalLine, *, now: dt.datetime, user: str = "system") -> AuditEntry:
    """The audit entry that records a new proposal line (with its explanation as the comment)."""
    return AuditEntry(
        proposal_id=line.proposal_id,
        sku=line.sku,
        location_id=line.location_id,
        event=ProposalEvent.CREATED,
        at=now,
        user=user,
        role=None,
        from_status=None,
        to_status=line.status,
        qty_before=None,
        qty_after=line.qty,
        value_before=None,
        value_after=line.value,
        comment=line.explanation,
    )
