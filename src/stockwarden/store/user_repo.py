"""Users, API tokens, browser sessions and failed logins (session in, never commits)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stockwarden.store.app_tables import ApiTokenRow, AppSecretRow, LoginFailureRow, UserRow, WebSessionRow


def utc(value: dt.datetime) -> dt.datetime:
    """A stored time as timezone-aware UTC (SQLite gives naive datetimes back)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as stored (without the password hash)."""

    id: int
    username: str
    roles: tuple[str, ...]
    locations: tuple[str, ...]
    categories: tuple[str, ...]
    is_active: bool
    has_password: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as stored (without its hash)."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str
    is_read_only: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def to_user(row: UserRow) -> UserRecord:
    """The record of a row."""
    return UserRecord(
        id=row.id,
        username=row.username,
        roles=tuple(json.loads(row.roles)),
        locations=tuple(json.loads(row.locations)),
        categories=tuple(json.loads(row.categories)),
        is_active=bool(row.is_active),
        has_password=row.password_hash is not None,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _opt(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else utc(value)


def to_token(row: ApiTokenRow, username: str) -> TokenRecord:
    """The record of a token row."""
    return TokenRecord(
        id=row.id,
        user_id=row.user_id,
        username=username,
        name=row.name,
        prefix=row.prefix,
        is_read_only=bool(row.is_read_only),
        created_at=utc(row.created_at),
        expires_at=_opt(row.expires_at),
        revoked_at=_opt(row.revoked_at),
        last_used_at=_opt(row.last_used_at),
    )


def count_users(session: Session) -> int:
    """How many users exist (active or not)."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(UserRow)) or 0)


def get_user_row(session: Session, username: str) -> UserRow | None:
    """The row of ``username`` (None when absent)."""
    return session.scalars(sa.select(UserRow).where(UserRow.username == username)).one_or_none()


def get_user_row_by_id(session: Session, user_id: int) -> UserRow | None:
    """The row of user ``user_id`` (None when absent)."""
    return session.get(UserRow, user_id)


def add_user_row(
    session: Session,
    *,
    username: str,
    password_hash: str | None,
    roles: list[str],
    locations: list[str],
    categories: list[str],
    now: dt.datetime,
) -> UserRow:
    """Insert a user."""
    row = UserRow(
        username=username,
        password_hash=password_hash,
        roles=json.dumps(sorted(roles)),
        locations=json.dumps(sorted(locations)),
        categories=json.dumps(sorted(categories)),
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_user_rows(session: Session, *, limit: int, offset: int) -> tuple[list[UserRow], int]:
    """Users by name, and the total."""
    total = count_users(session)
    rows = session.scalars(sa.select(UserRow).order_by(UserRow.username).limit(limit).offset(offset)).all()
    return list(rows), total


def add_token_row(
    session: Session,
    *,
    user_id: int,
    name: str,
    token_hash: str,
    prefix: str,
    is_read_only: bool,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> ApiTokenRow:
    """Insert a token (its hash)."""
    row = ApiTokenRow(
        user_id=user_id,
        name=name,
        token_hash=token_hash,
        prefix=prefix,
        is_read_only=is_read_only,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def get_token_by_hash(session: Session, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
    """The token with this hash and its user."""
    found = session.execute(
        sa.select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.token_hash == token_hash)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def list_token_rows(
    session: Session, *, user_id: int | None, limit: int, offset: int
) -> tuple[list[tuple[ApiTokenRow, str]], int]:
    """Tokens (newest first) with their user names, and the total."""
    where = [sa.true()] if user_id is None else [ApiTokenRow.user_id == user_id]
    total = session.scalar(sa.select(sa.func.count()).select_from(ApiTokenRow).where(*where)) or 0
    rows = session.execute(
        sa.select(ApiTokenRow, UserRow.username)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(*where)
        .order_by(ApiTokenRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [(r[0], r[1]) for r in rows], int(total)


def add_login_failure(session: Session, *, username: str, client: str, now: dt.datetime) -> None:
    """Record one failed login."""
    session.add(LoginFailureRow(username=username[:120], client=client[:200], at=now))
    session.flush()


def count_login_failures(
    session: Session, *, username: str, client: str | None, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Failed logins of ``username`` (from ``client`` when given) since a time, and the oldest of them."""
    where = [LoginFailureRow.username == username[:120], LoginFailureRow.at >= since]
    if client is not None:
        where.append(LoginFailureRow.client == client[:200])
    n, first = session.execute(
        sa.select(sa.func.count(), sa.func.min(LoginFailureRow.at)).select_from(LoginFailureRow).where(*where)
    ).one()
    return int(n or 0), None if first is None else utc(first)


def clear_login_failures(session: Session, *, username: str, client: str) -> None:
    """Forget the failures of this user and client after a successful login."""
    session.execute(
        sa.delete(LoginFailureRow).where(
            LoginFailureRow.username == username[:120], LoginFailureRow.client == client[:200]
        )
    )


def add_web_session(
    session: Session, *, user_id: int, session_hash: str, csrf_token: str, now: dt.datetime, expires_at: dt.datetime
) -> WebSessionRow:
    """Insert a browser session."""
    row = WebSessionRow(
        user_id=user_id, session_hash=session_hash, csrf_token=csrf_token, created_at=now, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def get_web_session(session: Session, session_hash: str) -> tuple[WebSessionRow, UserRow] | None:
    """The browser session with this hash and its user."""
    found = session.execute(
        sa.select(WebSessionRow, UserRow)
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.session_hash == session_hash)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def get_or_create_secret(session: Session, name: str, *, make: str, now: dt.datetime) -> str:
    """The stored secret ``name``; stores ``make`` first when there is none."""
    row = session.get(AppSecretRow, name)
    if row is None:
        session.add(AppSecretRow(name=name, value=make, created_at=now))
        session.flush()
        return make
    return row.value


__all__ = [
    "TokenRecord",
    "UserRecord",
    "add_login_failure",
    "add_token_row",
    "add_user_row",
    "add_web_session",
    "clear_login_failures",
    "count_login_failures",
    "count_users",
    "get_or_create_secret",
    "get_token_by_hash",
    "get_user_row",
    "get_user_row_by_id",
    "get_web_session",
    "list_token_rows",
    "list_user_rows",
    "to_token",
    "to_user",
    "utc",
]
