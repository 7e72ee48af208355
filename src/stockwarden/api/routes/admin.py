"""Users, tokens and the audit trail (admins)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import (
    AuditPublic,
    ListOf,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from stockwarden.services import audit, auth, users
from stockwarden.services.audit import AuditEntry
from stockwarden.services.auth import TokenRecord
from stockwarden.services.users import UserRecord

router = APIRouter(tags=["administration"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


def user_public(u: UserRecord) -> UserPublic:
    """The API form of a user."""
    return UserPublic(
        id=u.id,
        username=u.username,
        roles=list(u.roles),
        locations=list(u.locations),
        categories=list(u.categories),
        is_active=u.is_active,
        has_password=u.has_password,
        created_at=u.created_at,
        updated_at=u.updated_at,
    )


def token_public(t: TokenRecord) -> TokenPublic:
    """The API form of a token."""
    return TokenPublic(
        id=t.id,
        username=t.username,
        name=t.name,
        prefix=t.prefix,
        read_only=t.is_read_only,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
        last_used_at=t.last_used_at,
    )


@router.get("/users", response_model=ListOf[UserPublic])
def list_users(ctx: Ctx, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> ListOf[UserPublic]:
    """Every user."""
    page = users.list_users(ctx, actor=actor, limit=limit, offset=offset)
    return ListOf(items=[user_public(u) for u in page.items], total=page.total)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    """Create a user."""
    u = users.add_user(
        ctx,
        body.username,
        roles=body.roles,
        locations=body.locations,
        categories=body.categories,
        password=body.password,
        actor=actor,
    )
    return user_public(u)


@router.get("/users/{username}", response_model=UserPublic)
def get_user(username: str, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    """One user."""
    return user_public(users.get_user(ctx, username, actor=actor))


@router.patch("/users/{username}", response_model=UserPublic)
def update_user(username: str, body: UserUpdate, ctx: Ctx, actor: CurrentActor) -> UserPublic:
    """Change roles, scope, active flag or password (only the fields given)."""
    u = users.get_user(ctx, username, actor=actor)
    if body.roles is not None or body.locations is not None or body.categories is not None:
        u = users.set_roles(
            ctx,
            username,
            roles=body.roles if body.roles is not None else list(u.roles),
            locations=body.locations,
            categories=body.categories,
            actor=actor,
        )
    if body.is_active is not None and body.is_active != u.is_active:
        u = users.disable_user(ctx, username, actor=actor, enable=body.is_active)
    if body.password is not None:
        u = users.set_password(ctx, username, body.password, actor=actor)
    return user_public(u)


@router.get("/tokens", response_model=ListOf[TokenPublic])
def list_tokens(
    ctx: Ctx,
    actor: CurrentActor,
    username: Annotated[str | None, Query(max_length=120)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListOf[TokenPublic]:
    """API tokens (never the tokens themselves)."""
    page = auth.list_tokens(ctx, actor=actor, username=username, limit=limit, offset=offset)
    return ListOf(items=[token_public(t) for t in page.items], total=page.total)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, ctx: Ctx, actor: CurrentActor) -> TokenCreated:
    """Create a token; the response carries it this once (only its hash is stored)."""
    new = auth.create_token(
        ctx, body.username, name=body.name, expires_days=body.expires_days, read_only=body.read_only, actor=actor
    )
    return TokenCreated(**token_public(new.token).model_dump(), token=new.secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, ctx: Ctx, actor: CurrentActor) -> Response:
    """Revoke a token (refused from the next request on)."""
    auth.revoke_token(ctx, token_id, actor=actor)
    return Response(status_code=204)


def audit_public(e: AuditEntry) -> AuditPublic:
    """The API form of an audit row."""
    return AuditPublic(
        id=e.id,
        at=e.at,
        username=e.username,
        token_id=e.token_id,
        via=e.via,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        before=None if e.before_json is None else json.loads(e.before_json),
        after=None if e.after_json is None else json.loads(e.after_json),
        request_id=e.request_id,
        client=e.client,
    )


@router.get("/audit", response_model=ListOf[AuditPublic])
def list_audit(
    ctx: Ctx,
    actor: CurrentActor,
    user: Annotated[str | None, Query(max_length=120)] = None,
    object_type: Annotated[str | None, Query(alias="object", max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    since: dt.datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListOf[AuditPublic]:
    """The audit trail, newest first."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    page = audit.list_audit(
        ctx,
        actor=actor,
        user=user,
        object_type=object_type,
        object_id=object_id,
        action=action,
        since=since,
        limit=limit,
        offset=offset,
    )
    return ListOf(items=[audit_public(e) for e in page.items], total=page.total)
