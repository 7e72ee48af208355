"""Dependencies of the routes: the application context, the acting user, the route's permission.

Credentials, in order: ``Authorization: Bearer TOKEN``, else the browser-session cookie
(:data:`SESSION_COOKIE`, signed, HttpOnly, SameSite=Lax). A state-changing request authenticated by
the cookie must carry the session's CSRF token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request

from stockwarden.api.permissions import STATE_CHANGING, permission_of
from stockwarden.domain.actor import Actor, Permission, Via
from stockwarden.errors import AuthError, PermissionDenied
from stockwarden.services import auth
from stockwarden.services.context import AppContext

SESSION_COOKIE = "sw_session"
CSRF_HEADER = "X-CSRF-Token"


async def get_ctx(request: Request) -> AppContext:
    """The application context built by ``create_app`` (async: no I/O, so no hop to a worker thread)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def client_of(request: Request) -> str:
    """The client's address (for throttling and the audit trail)."""
    return request.client.host if request.client is not None else "unknown"


def request_id_of(request: Request) -> str:
    """The request id: ``X-Request-ID`` when the client sent a sane one, else a new one."""
    given = request.headers.get("x-request-id", "")
    if given and len(given) <= 80 and given.isprintable():
        return given
    rid: str | None = getattr(request.state, "request_id", None)
    if rid is None:
        rid = uuid.uuid4().hex
        request.state.request_id = rid
    return rid


def sign(ctx: AppContext, value: str) -> str:
    """``value.signature`` (HMAC-SHA256 with the session signing key)."""
    mac = hmac.new(auth.signing_key(ctx), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(ctx: AppContext, signed: str) -> str | None:
    """The value of a signed cookie, or None when the signature does not match."""
    value, _, mac = signed.rpartition(".")
    if not value or not mac:
        return None
    expected = hmac.new(auth.signing_key(ctx), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


def _actor_from_request(request: Request, ctx: AppContext) -> Actor | None:
    client = client_of(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the Authorization header must be 'Bearer TOKEN'")
        return auth.authenticate_token(ctx, token.strip(), via=Via.API, client=client)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sid = unsign(ctx, cookie)
        if sid is None:
            raise AuthError("not signed in (the session cookie is not valid)")
        actor, csrf = auth.session_actor(ctx, sid, client=client)
        if request.method.upper() in STATE_CHANGING:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not secrets.compare_digest(sent, csrf):
                raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header (required with the session cookie)")
        request.state.csrf_token = csrf
        return actor
    return None


def authorize(request: Request, ctx: Ctx) -> Actor:
    """Authenticate the request and check the route's permission (from the one table).

    Raises:
        AuthError (401): no or bad credentials on a non-public route.
        PermissionDenied (403): the route's permission is not granted.
    """
    found = request.app.state.route_paths.get(id(request.scope.get("route")))
    path = found[1] if found is not None else request.url.path
    permission = permission_of(request.method, path)
    if permission is None:
        raise RuntimeError(f"route {request.method} {path} has no permission in api/permissions.py")
    rid = request_id_of(request)
    try:
        actor = _actor_from_request(request, ctx)
    except (AuthError, PermissionDenied):
        if permission is Permission.PUBLIC:
            actor = None
        else:
            raise
    if actor is None:
        if permission is not Permission.PUBLIC:
            raise AuthError("authentication required: send 'Authorization: Bearer TOKEN' or sign in")
        return Actor(username="anonymous", via=Via.API, client=client_of(request), request_id=rid)
    if not actor.can(permission):
        roles = ", ".join(sorted(r.value for r in actor.roles)) or "none"
        extra = " (read-only token)" if actor.is_read_only else ""
        raise PermissionDenied(f"user {actor.username!r} (roles: {roles}{extra}) may not do this: needs {permission}")
    return replace(actor, request_id=rid)


CurrentActor = Annotated[Actor, Depends(authorize)]

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Ctx",
    "CurrentActor",
    "authorize",
    "client_of",
    "get_ctx",
    "sign",
    "unsign",
]
