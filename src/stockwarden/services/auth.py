"""Authentication: API tokens (create, list, revoke, check), password logins with throttling,
browser sessions, and the actor of a CLI command.

* A token is ``sw_`` + 43 random URL-safe characters (256 bits). Only its SHA-256 is stored; it is
  shown once. It may expire (``expires_days``), be revoked (effective at once) and be read-only.
  ``last_used_at`` is updated at most once a minute per token (no write on every request).
* Failed logins are counted per user and client: :data:`MAX_FAILURES_PER_CLIENT` within
  :data:`FAILURE_WINDOW` blocks that pair for the rest of the window, :data:`MAX_FAILURES_PER_USER`
  from all clients blocks the user.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import secrets
from dataclasses import dataclass, replace

from stockwarden.domain.actor import Actor, Permission, Role, Via
from stockwarden.errors import AuthError, InputError, NotFound, Throttled
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.services.users import actor_of, verify_password
from stockwarden.store import user_repo
from stockwarden.store.user_repo import TokenRecord

TOKEN_PREFIX = "sw_"
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 5
MAX_FAILURES_PER_USER = 20
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
MAX_TOKEN_DAYS = 3650


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a token or session id (high-entropy values: a fast hash is enough)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: its record, and the secret (shown once, never stored)."""

    token: TokenRecord
    secret: str


def create_token(
    ctx: AppContext,
    username: str,
    *,
    name: str = "",
    expires_days: float | None = None,
    read_only: bool = False,
    actor: Actor,
) -> NewToken:
    """Create an API token for ``username`` (admins for anyone; a user for themselves).

    Raises:
        NotFound: no such user. InputError: a bad expiry. PermissionDenied: not allowed.
    """
    if username != actor.username or actor.user_id is None:
        require(actor, Permission.USERS_ADMIN)
    if expires_days is not None and not (0 < expires_days <= MAX_TOKEN_DAYS):
        raise InputError(f"expires_days must be between 0 and {MAX_TOKEN_DAYS} days, got {expires_days:g}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = ctx.now()
    with session_scope(ctx) as s:
        user = user_repo.get_user_row(s, username)
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        if not user.is_active:
            raise InputError(f"user {username!r} is disabled; enable them first")
        row = user_repo.add_token_row(
            s,
            user_id=user.id,
            name=name.strip()[:200] or f"token for {username}",
            token_hash=hash_secret(secret),
            prefix=secret[:10],
            is_read_only=read_only,
            now=now,
            expires_at=None if expires_days is None else now + dt.timedelta(days=expires_days),
        )
        token = user_repo.to_token(row, username)
        record(
            s,
            actor,
            action="token.create",
            object_type="token",
            object_id=row.id,
            after={"user": username, "name": token.name, "read_only": read_only, "expires_at": token.expires_at},
            now=now,
        )
    return NewToken(token, secret)


def list_tokens(
    ctx: AppContext, *, actor: Actor, username: str | None = None, limit: int = 100, offset: int = 0
) -> Page[TokenRecord]:
    """Tokens, newest first (admins: anyone's, or one user's; others: their own)."""
    check_page(limit, offset)
    if not actor.can(Permission.USERS_ADMIN):
        if actor.user_id is None or (username not in (None, actor.username)):
            require(actor, Permission.USERS_ADMIN)
        username = actor.username
    with read_scope(ctx) as s:
        user_id = None
        if username is not None:
            user = user_repo.get_user_row(s, username)
            if user is None:
                raise NotFound(f"user {username!r} does not exist")
            user_id = user.id
        rows, total = user_repo.list_token_rows(s, user_id=user_id, limit=limit, offset=offset)
        return Page([user_repo.to_token(r, name) for r, name in rows], total)


def revoke_token(ctx: AppContext, token_id: int, *, actor: Actor) -> TokenRecord:
    """Revoke a token at once (admins: any; others: their own).

    Raises:
        NotFound: no such token (or not the actor's).
    """
    from stockwarden.store.app_tables import ApiTokenRow, UserRow

    now = ctx.now()
    with session_scope(ctx) as s:
        row = s.get(ApiTokenRow, token_id)
        if row is None or (not actor.can(Permission.USERS_ADMIN) and row.user_id != actor.user_id):
            raise NotFound(f"token {token_id} does not exist")
        if actor.is_read_only:
            require(actor, Permission.USERS_ADMIN)
        owner = s.get_one(UserRow, row.user_id).username
        before = user_repo.to_token(row, owner)
        if row.revoked_at is None:
            row.revoked_at = now
            s.flush()
        after = user_repo.to_token(row, owner)
        record(
            s,
            actor,
            action="token.revoke",
            object_type="token",
            object_id=token_id,
            before={"revoked_at": before.revoked_at},
            after={"revoked_at": after.revoked_at, "user": owner},
            now=now,
        )
    return after


def authenticate_token(ctx: AppContext, secret: str, *, via: Via = Via.API, client: str | None = None) -> Actor:
    """The actor of a bearer token.

    Raises:
        AuthError: unknown, expired or revoked token, or disabled user (one message for all: no oracle).
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise AuthError("invalid or expired token")
    now = ctx.now()
    digest = hash_secret(secret)
    with read_scope(ctx) as s:
        found = user_repo.get_token_by_hash(s, digest)
        if found is None:
            raise AuthError("invalid or expired token")
        token, user = found
        expires = None if token.expires_at is None else user_repo.utc(token.expires_at)
        if token.revoked_at is not None or (expires is not None and expires <= now) or not user.is_active:
            raise AuthError("invalid or expired token")
        last = None if token.last_used_at is None else user_repo.utc(token.last_used_at)
        token_id, read_only = token.id, bool(token.is_read_only)
        actor = actor_of(user_repo.to_user(user), via=via, token_id=token_id, is_read_only=read_only, client=client)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        _touch_token(ctx, token_id, now)
    return actor


def _touch_token(ctx: AppContext, token_id: int, now: dt.datetime) -> None:
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from stockwarden.store.app_tables import ApiTokenRow

    try:
        with session_scope(ctx) as s:
            s.execute(sa.update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))
    except OperationalError:  # a busy database must not fail the request: last use is informative
        return


def login(ctx: AppContext, username: str, password: str, *, client: str = "unknown", via: Via = Via.API) -> Actor:
    """Check a user name and password; throttled per user and client. Audits success and failure.

    Raises:
        Throttled: too many recent failures (``retry_after`` seconds).
        AuthError: wrong name or password, or disabled user (one message).
    """
    now = ctx.now()
    name = username.strip()[:120]
    with read_scope(ctx) as s:
        n_client, first_client = user_repo.count_login_failures(
            s, username=name, client=client, since=now - FAILURE_WINDOW
        )
        n_user, first_user = user_repo.count_login_failures(s, username=name, client=None, since=now - FAILURE_WINDOW)
    for n, first, limit in (
        (n_client, first_client, MAX_FAILURES_PER_CLIENT),
        (n_user, first_user, MAX_FAILURES_PER_USER),
    ):
        if n >= limit and first is not None:
            wait = max(1, int((first + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise Throttled(f"too many failed logins for {name!r}; try again in {wait} s", retry_after=wait)
    with read_scope(ctx) as s:
        row = user_repo.get_user_row(s, name)
        ok = (
            row is not None
            and row.is_active
            and row.password_hash is not None
            and verify_password(row.password_hash, password)
        )
        user = user_repo.to_user(row) if row is not None and ok else None
    who = Actor(username=name or "?", via=via, client=client)
    if user is None:
        with session_scope(ctx) as s:
            user_repo.add_login_failure(s, username=name, client=client, now=now)
            record(s, who, action="login.failure", object_type="user", object_id=name, now=now)
        raise AuthError("wrong user name or password")
    actor = actor_of(user, via=via, client=client)
    with session_scope(ctx) as s:
        user_repo.clear_login_failures(s, username=name, client=client)
        record(s, actor, action="login.success", object_type="user", object_id=name, now=now)
    return actor


@dataclass(frozen=True, slots=True)
class WebSession:
    """A browser session just opened: the secret id (goes into the signed cookie) and its CSRF token."""

    session_id: str
    csrf_token: str
    expires_at: dt.datetime


def open_session(ctx: AppContext, actor: Actor) -> WebSession:
    """Open a browser session for a logged-in actor."""
    if actor.user_id is None:
        raise AuthError("only a stored user can open a session")
    now = ctx.now()
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=ctx.settings.session_hours)
    with session_scope(ctx) as s:
        user_repo.add_web_session(
            s, user_id=actor.user_id, session_hash=hash_secret(sid), csrf_token=csrf, now=now, expires_at=expires
        )
    return WebSession(sid, csrf, expires)


def session_actor(ctx: AppContext, session_id: str, *, client: str | None = None) -> tuple[Actor, str]:
    """The actor of a browser session and its CSRF token.

    Raises:
        AuthError: unknown, expired or closed session, or disabled user.
    """
    now = ctx.now()
    with read_scope(ctx) as s:
        found = user_repo.get_web_session(s, hash_secret(session_id))
        if found is None:
            raise AuthError("not signed in (session unknown or expired)")
        ws, user = found
        if ws.revoked_at is not None or user_repo.utc(ws.expires_at) <= now or not user.is_active:
            raise AuthError("not signed in (session unknown or expired)")
        return actor_of(user_repo.to_user(user), via=Via.WEB, client=client), ws.csrf_token


def close_session(ctx: AppContext, session_id: str, *, actor: Actor) -> None:
    """Sign out: the session stops working at once."""
    now = ctx.now()
    with session_scope(ctx) as s:
        found = user_repo.get_web_session(s, hash_secret(session_id))
        if found is not None and found[0].revoked_at is None:
            found[0].revoked_at = now
            record(s, actor, action="logout", object_type="user", object_id=actor.username, now=now)


def signing_key(ctx: AppContext) -> bytes:
    """The key that signs session cookies: ``STOCKWARDEN_SECRET_KEY``, else one generated and stored."""
    if ctx.settings.secret_key:
        return ctx.settings.secret_key.encode("utf-8")
    cached = ctx.cache.get("signing_key")
    if cached is None:
        with session_scope(ctx) as s:
            cached = user_repo.get_or_create_secret(
                s, "session_signing_key", make=secrets.token_urlsafe(48), now=ctx.now()
            ).encode("utf-8")
        ctx.cache["signing_key"] = cached
    return bytes(cached)


def cli_actor(ctx: AppContext, username: str | None = None) -> Actor:
    """The actor of a CLI command: ``--as USER`` (a stored user, with their roles and scope), else the
    OS user: the stored user of that name when there is one, else the local administrator (the CLI
    runs on the server, where whoever can open the database can change anything anyway). While no
    user exists, any name is accepted as that local administrator (the CLI works as it did before users).

    Raises:
        NotFound: ``--as`` names no stored user. AuthError: that user is disabled.
    """
    explicit = username is not None and username.strip() != ""
    name = username.strip() if explicit and username is not None else _os_user()
    with read_scope(ctx) as s:
        row = user_repo.get_user_row(s, name)
        if row is None:
            if explicit and user_repo.count_users(s) > 0:
                raise NotFound(f"--as {name}: no such user (see `stockwarden users list`)")
            # no users yet (a single-user installation, as before users existed), or the OS user
            return Actor(username=name, roles=frozenset({Role.ADMIN}), via=Via.CLI)
        if not row.is_active:
            raise AuthError(f"user {name!r} is disabled")
        return replace(actor_of(user_repo.to_user(row)), via=Via.CLI)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES_PER_CLIENT",
    "MAX_FAILURES_PER_USER",
    "TOKEN_PREFIX",
    "NewToken",
    "TokenRecord",
    "WebSession",
    "authenticate_token",
    "cli_actor",
    "close_session",
    "create_token",
    "hash_secret",
    "list_tokens",
    "login",
    "open_session",
    "revoke_token",
    "session_actor",
    "signing_key",
]
