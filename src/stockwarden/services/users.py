"""Use-cases of user administration: add, list, disable, set a password, set roles and scope.

Passwords are hashed with argon2 (``argon2-cffi`` defaults). The very first user may be created by
anyone who can reach the database (the CLI on the server): that is how an installation starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict

from argon2 import PasswordHasher

from stockwarden.domain.actor import Actor, Permission, Role, Scope, parse_roles
from stockwarden.errors import Conflict, InputError, NotFound
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.store import user_repo
from stockwarden.store.user_repo import UserRecord

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,119}$")
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2 hash of ``password``.

    Raises:
        InputError: the password is shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the argon2 hash."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME_RE.match(name):
        raise InputError(f"user name {username!r} is not valid: use letters, digits and . _ @ - (1 to 120 characters)")
    return name


def _roles(values: Iterable[str]) -> list[str]:
    try:
        roles = parse_roles(values)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if not roles:
        raise InputError(f"give at least one role: {', '.join(r.value for r in Role)}")
    return sorted(r.value for r in roles)


def _clean(values: Iterable[str]) -> list[str]:
    return sorted({v.strip() for v in values if v and v.strip()})


def _require_admin_unless_first(ctx: AppContext, actor: Actor) -> None:
    with read_scope(ctx) as s:
        if user_repo.count_users(s) == 0:
            return
    require(actor, Permission.USERS_ADMIN)


def add_user(
    ctx: AppContext,
    username: str,
    *,
    roles: Iterable[str],
    locations: Iterable[str] = (),
    categories: Iterable[str] = (),
    password: str | None = None,
    actor: Actor,
) -> UserRecord:
    """Create a user (the first user may be created by anyone; afterwards admins only).

    Raises:
        InputError: bad name, unknown role, short password.
        Conflict: the name is taken.
        PermissionDenied: the actor is not an admin.
    """
    _require_admin_unless_first(ctx, actor)
    name = _check_username(username)
    role_list = _roles(roles)
    pw_hash = None if password is None else hash_password(password)
    now = ctx.now()
    with session_scope(ctx) as s:
        if user_repo.get_user_row(s, name) is not None:
            raise Conflict(f"user {name!r} already exists")
        row = user_repo.add_user_row(
            s,
            username=name,
            password_hash=pw_hash,
            roles=role_list,
            locations=_clean(locations),
            categories=_clean(categories),
            now=now,
        )
        user = user_repo.to_user(row)
        record(s, actor, action="user.create", object_type="user", object_id=name, after=_public(user), now=now)
    return user


def _public(user: UserRecord) -> dict[str, object]:
    out = asdict(user)
    out.pop("created_at")
    out.pop("updated_at")
    return out


def list_users(ctx: AppContext, *, actor: Actor, limit: int = 100, offset: int = 0) -> Page[UserRecord]:
    """Every user, by name (admin only)."""
    require(actor, Permission.USERS_ADMIN)
    check_page(limit, offset)
    with read_scope(ctx) as s:
        rows, total = user_repo.list_user_rows(s, limit=limit, offset=offset)
        return Page([user_repo.to_user(r) for r in rows], total)


def get_user(ctx: AppContext, username: str, *, actor: Actor) -> UserRecord:
    """One user (admin only; anyone may read themselves).

    Raises:
        NotFound: no such user.
    """
    if username != actor.username:
        require(actor, Permission.USERS_ADMIN)
    with read_scope(ctx) as s:
        row = user_repo.get_user_row(s, username)
        if row is None:
            raise NotFound(f"user {username!r} does not exist")
        return user_repo.to_user(row)


def _update(ctx: AppContext, username: str, *, actor: Actor, action: str, **changes: object) -> UserRecord:
    require(actor, Permission.USERS_ADMIN)
    now = ctx.now()
    with session_scope(ctx) as s:
        row = user_repo.get_user_row(s, username)
        if row is None:
            raise NotFound(f"user {username!r} does not exist")
        before = _public(user_repo.to_user(row))
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = now
        s.flush()
        after = user_repo.to_user(row)
        public_after = _public(after)
        record(
            s, actor, action=action, object_type="user", object_id=username, before=before, after=public_after, now=now
        )
    return after


def disable_user(ctx: AppContext, username: str, *, actor: Actor, enable: bool = False) -> UserRecord:
    """Disable a user (their tokens and sessions stop working at once), or enable them again."""
    if username == actor.username and not enable:
        raise InputError("you cannot disable yourself")
    return _update(ctx, username, actor=actor, action="user.enable" if enable else "user.disable", is_active=enable)


def set_password(ctx: AppContext, username: str, password: str, *, actor: Actor) -> UserRecord:
    """Set a user's password (admins for anyone; a user for themselves)."""
    pw_hash = hash_password(password)
    if username == actor.username and actor.user_id is not None:
        now = ctx.now()
        with session_scope(ctx) as s:
            row = user_repo.get_user_row(s, username)
            if row is None:
                raise NotFound(f"user {username!r} does not exist")
            row.password_hash, row.updated_at = pw_hash, now
            record(s, actor, action="user.password", object_type="user", object_id=username, now=now)
            return user_repo.to_user(row)
    return _update(ctx, username, actor=actor, action="user.password", password_hash=pw_hash)


def set_roles(
    ctx: AppContext,
    username: str,
    *,
    roles: Iterable[str],
    locations: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    actor: Actor,
) -> UserRecord:
    """Replace a user's roles (and, when given, their locations and categories)."""
    import json

    changes: dict[str, object] = {"roles": json.dumps(_roles(roles))}
    if locations is not None:
        changes["locations"] = json.dumps(_clean(locations))
    if categories is not None:
        changes["categories"] = json.dumps(_clean(categories))
    return _update(ctx, username, actor=actor, action="user.roles", **changes)


def actor_of(user: UserRecord, **extra: object) -> Actor:
    """The actor of a stored user."""
    return Actor(
        username=user.username,
        roles=parse_roles(user.roles),
        scope=Scope(frozenset(user.locations), frozenset(user.categories)),
        user_id=user.id,
        **extra,  # type: ignore[arg-type]
    )


def count_users(ctx: AppContext) -> int:
    """How many users exist (``serve`` refuses a non-loopback host while there are none)."""
    with read_scope(ctx) as s:
        return user_repo.count_users(s)


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "UserRecord",
    "actor_of",
    "add_user",
    "count_users",
    "disable_user",
    "get_user",
    "hash_password",
    "list_users",
    "set_password",
    "set_roles",
    "verify_password",
]
