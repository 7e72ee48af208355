"""``stockwarden users ...``, ``stockwarden tokens ...`` and ``stockwarden audit list``."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.appctx import cli_context
from stockwarden.errors import InputError

users_app = typer.Typer(help="Users: add, list, disable, passwd, roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail (append-only).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
UserArg = Annotated[str, typer.Argument(help="user name")]


def _fmt(value: dt.datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InputError("--password-stdin: no password on standard input")
    return line


@users_app.command("add")
@guarded
def users_add(
    username: UserArg,
    role: Annotated[list[str], typer.Option("--role", help="admin, planner, buyer, warehouse or viewer (repeat)")],
    location: Annotated[list[str] | None, typer.Option("--location", help="limit to this location (repeat)")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="limit to this category (repeat)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    db: DbOpt = None,
) -> None:
    """Add a user (the first user can be added by anyone with the database; then admins only)."""
    from stockwarden.services import users

    password = _read_password(password_stdin)
    with cli_context(db) as (ctx, actor):
        u = users.add_user(
            ctx,
            username,
            roles=role,
            locations=location or [],
            categories=category or [],
            password=password,
            actor=actor,
        )
    scope = ", ".join([*(f"location {x}" for x in u.locations), *(f"category {x}" for x in u.categories)]) or "all data"
    console.print(f"user {u.username} added: roles {', '.join(u.roles)}; scope {scope}", highlight=False)


@users_app.command("list")
@guarded
def users_list(db: DbOpt = None) -> None:
    """List users."""
    from stockwarden.services import users

    with cli_context(db) as (ctx, actor):
        page = users.list_users(ctx, actor=actor, limit=1000)
    if not page.items:
        console.print("no users yet (stockwarden users add NAME --role admin --password-stdin)")
        return
    table = Table()
    for col in ("user", "roles", "locations", "categories", "active", "password", "created (UTC)"):
        table.add_column(col, overflow="fold")
    for u in page.items:
        table.add_row(
            u.username,
            ", ".join(u.roles),
            ", ".join(u.locations) or "all",
            ", ".join(u.categories) or "all",
            "yes" if u.is_active else "no",
            "yes" if u.has_password else "no",
            _fmt(u.created_at),
        )
    console.print(table)


@users_app.command("disable")
@guarded
def users_disable(
    username: UserArg,
    enable: Annotated[bool, typer.Option("--enable", help="enable the user again")] = False,
    db: DbOpt = None,
) -> None:
    """Disable a user: their tokens and sessions stop working at once (--enable to undo)."""
    from stockwarden.services import users

    with cli_context(db) as (ctx, actor):
        u = users.disable_user(ctx, username, actor=actor, enable=enable)
    console.print(f"user {u.username} {'enabled' if u.is_active else 'disabled'}", highlight=False)


@users_app.command("passwd")
@guarded
def users_passwd(
    username: UserArg,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    db: DbOpt = None,
) -> None:
    """Set a user's password (from stdin with --password-stdin, else prompted)."""
    from stockwarden.services import users

    password = _read_password(password_stdin) or typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with cli_context(db) as (ctx, actor):
        users.set_password(ctx, username, password, actor=actor)
    console.print(f"password of {username} set", highlight=False)


@users_app.command("roles")
@guarded
def users_roles(
    username: UserArg,
    role: Annotated[list[str], typer.Option("--role", help="the new roles (repeat)")],
    location: Annotated[list[str] | None, typer.Option("--location", help="the new locations (repeat)")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="the new categories (repeat)")] = None,
    db: DbOpt = None,
) -> None:
    """Replace a user's roles (and locations / categories when given)."""
    from stockwarden.services import users

    with cli_context(db) as (ctx, actor):
        u = users.set_roles(ctx, username, roles=role, locations=location, categories=category, actor=actor)
    console.print(
        f"user {u.username}: roles {', '.join(u.roles)}; locations {', '.join(u.locations) or 'all'}; "
        f"categories {', '.join(u.categories) or 'all'}",
        highlight=False,
    )


@tokens_app.command("create")
@guarded
def tokens_create(
    username: UserArg,
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "",
    expires_days: Annotated[float | None, typer.Option("--expires-days", min=0.001, help="expire after D days")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="the token may only read")] = False,
    db: DbOpt = None,
) -> None:
    """Create an API token; it is printed once, alone on the last line of stdout (only its hash is kept)."""
    from stockwarden.services import auth

    with cli_context(db) as (ctx, actor):
        new = auth.create_token(ctx, username, name=name, expires_days=expires_days, read_only=read_only, actor=actor)
    t = new.token
    until = f", expires {_fmt(t.expires_at)} UTC" if t.expires_at else ""
    console.print(
        f"token {t.id} for {t.username} ({t.name}{', read-only' if t.is_read_only else ''}{until}); "
        "copy it now, it is not shown again:",
        highlight=False,
    )
    typer.echo(new.secret)


@tokens_app.command("list")
@guarded
def tokens_list(
    username: Annotated[str | None, typer.Argument(help="only this user's tokens")] = None, db: DbOpt = None
) -> None:
    """List tokens (never the tokens themselves)."""
    from stockwarden.services import auth

    with cli_context(db) as (ctx, actor):
        page = auth.list_tokens(ctx, actor=actor, username=username, limit=1000)
    if not page.items:
        console.print("no tokens")
        return
    table = Table()
    for col in ("id", "user", "name", "starts", "read-only", "created", "expires", "revoked", "last used"):
        table.add_column(col, overflow="fold")
    for t in page.items:
        table.add_row(
            str(t.id),
            t.username,
            t.name,
            t.prefix + "…",
            "yes" if t.is_read_only else "no",
            _fmt(t.created_at),
            _fmt(t.expires_at),
            _fmt(t.revoked_at),
            _fmt(t.last_used_at),
        )
    console.print(table)


@tokens_app.command("revoke")
@guarded
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="token id (tokens list)")], db: DbOpt = None) -> None:
    """Revoke a token: refused from the next request on."""
    from stockwarden.services import auth

    with cli_context(db) as (ctx, actor):
        t = auth.revoke_token(ctx, token_id, actor=actor)
    console.print(f"token {t.id} of {t.username} revoked", highlight=False)


@audit_app.command("list")
@guarded
def audit_list(
    user: Annotated[str | None, typer.Option("--user", help="only this user's actions")] = None,
    obj: Annotated[
        str | None, typer.Option("--object", help="object type (alert, proposal, rules, user, ...) or TYPE:ID")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="from this date or time (YYYY-MM-DD[THH:MM])")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="most rows shown")] = 100,
    db: DbOpt = None,
) -> None:
    """List the audit trail, newest first."""
    from stockwarden.services import audit

    when = None
    if since is not None:
        try:
            when = dt.datetime.fromisoformat(since.strip())
        except ValueError:
            raise InputError(f"--since {since!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    object_type, object_id = [*obj.split(":", 1), None][:2] if obj else (None, None)
    with cli_context(db) as (ctx, actor):
        page = audit.list_audit(
            ctx, actor=actor, user=user, object_type=object_type, object_id=object_id, since=when, limit=limit
        )
    if not page.items:
        console.print("no audit rows match")
        return
    table = Table(title=f"audit trail ({len(page.items)} of {page.total})")
    for col in ("id", "when (UTC)", "who", "via", "action", "object", "before", "after"):
        table.add_column(col, overflow="fold")
    for e in page.items:
        table.add_row(
            str(e.id),
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.username + (f" (token {e.token_id})" if e.token_id else ""),
            e.via,
            e.action,
            f"{e.object_type}:{e.object_id or ''}",
            (e.before_json or "")[:200],
            (e.after_json or "")[:200],
        )
    console.print(table)
