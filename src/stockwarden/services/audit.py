"""Use-cases of the audit trail: record a state change (called by every other use-case), list it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from stockwarden.domain.actor import Actor, Permission
from stockwarden.services.common import Page, check_page, dumps, require
from stockwarden.services.context import AppContext, read_scope
from stockwarden.store.audit_repo import AuditEntry, add_audit
from stockwarden.store.audit_repo import list_audit as _list_audit


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object | None = None,
    before: Any = None,
    after: Any = None,
    now: dt.datetime,
) -> int:
    """Append one audit row for ``actor`` in the caller's transaction (it commits with the change)."""
    return add_audit(
        session,
        at=now,
        username=actor.username,
        via=str(actor.via),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before_json=None if before is None else dumps(before),
        after_json=None if after is None else dumps(after),
        token_id=actor.token_id,
        request_id=actor.request_id,
        client=actor.client,
    )


def list_audit(
    ctx: AppContext,
    *,
    actor: Actor,
    user: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[AuditEntry]:
    """The audit trail, newest first (admin only).

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    require(actor, Permission.AUDIT_READ)
    check_page(limit, offset)
    with read_scope(ctx) as s:
        rows, total = _list_audit(
            s,
            username=user,
            object_type=object_type,
            object_id=object_id,
            action=action,
            since=since,
            limit=limit,
            offset=offset,
        )
    return Page(rows, total)


__all__ = ["AuditEntry", "list_audit", "record"]
