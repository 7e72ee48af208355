"""The audit trail: append one row, list rows. There is no update or delete (triggers refuse them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.store.app_tables import AuditRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row as read back."""

    id: int
    at: dt.datetime
    username: str
    token_id: int | None
    via: str
    action: str
    object_type: str
    object_id: str | None
    before_json: str | None
    after_json: str | None
    request_id: str | None
    client: str | None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def add_audit(
    session: Session,
    *,
    at: dt.datetime,
    username: str,
    via: str,
    action: str,
    object_type: str,
    object_id: str | None,
    before_json: str | None,
    after_json: str | None,
    token_id: int | None = None,
    request_id: str | None = None,
    client: str | None = None,
) -> int:
    """Append one row; returns its id."""
    row = AuditRow(
        at=at,
        username=username,
        token_id=token_id,
        via=via,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before_json=before_json,
        after_json=after_json,
        request_id=request_id,
        client=client,
    )
    session.add(row)
    session.flush()
    return row.id


def list_audit(
    session: Session,
    *,
    username: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Rows newest first, filtered; and the total that matched."""
    where: list[sa.ColumnElement[bool]] = [sa.true()]
    if username:
        where.append(AuditRow.username == username)
    if object_type:
        where.append(AuditRow.object_type == object_type)
    if object_id:
        where.append(AuditRow.object_id == object_id)
    if action:
        where.append(AuditRow.action == action)
    if since is not None:
        where.append(AuditRow.at >= since)
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditRow).where(*where)) or 0
    rows = session.scalars(
        sa.select(AuditRow).where(*where).order_by(AuditRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        AuditEntry(
            id=r.id,
            at=_utc(r.at),
            username=r.username,
            token_id=r.token_id,
            via=r.via,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            before_json=r.before_json,
            after_json=r.after_json,
            request_id=r.request_id,
            client=r.client,
        )
        for r in rows
    ], int(total)


__all__ = ["AuditEntry", "add_audit", "list_audit"]
