"""Who is using the browser: the signed session cookie, the CSRF token, and the language cookie.

Sign-in, sessions and their CSRF tokens are the application layer's (``services.auth``): this module
only carries the session id in a cookie signed with the application's key (HMAC-SHA256), reads the
actor back for each request and checks the CSRF token of every form post.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from stockwarden.domain.actor import Actor
from stockwarden.errors import AuthError
from stockwarden.services import auth as auth_service
from stockwarden.services.context import AppContext

SESSION_COOKIE = "sw_web_session"


def _mac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_session(ctx: AppContext, session_id: str) -> str:
    """The cookie value for a session id: ``id.mac``."""
    return f"{session_id}.{_mac(auth_service.signing_key(ctx), session_id)}"


def unsign_session(ctx: AppContext, cookie: str | None) -> str | None:
    """The session id inside a cookie value, or None when it is missing or its signature is wrong."""
    if not cookie or "." not in cookie:
        return None
    session_id, _, mac = cookie.rpartition(".")
    expected = _mac(auth_service.signing_key(ctx), session_id)
    return session_id if hmac.compare_digest(mac, expected) else None


def client_of(request: Request) -> str:
    """The client address for throttling and the audit trail."""
    return request.client.host if request.client else "unknown"


def request_actor(ctx: AppContext, request: Request) -> tuple[Actor, str, str] | None:
    """The signed-in actor of a request, its CSRF token and session id; None when not signed in."""
    session_id = unsign_session(ctx, request.cookies.get(SESSION_COOKIE))
    if session_id is None:
        return None
    try:
        actor, csrf = auth_service.session_actor(ctx, session_id, client=client_of(request))
    except AuthError:
        return None
    return actor, csrf, session_id


def csrf_ok(expected: str, given: str | None) -> bool:
    """True when the posted CSRF token matches the session's."""
    return bool(given) and bool(expected) and hmac.compare_digest(expected, given or "")


__all__ = ["SESSION_COOKIE", "client_of", "csrf_ok", "request_actor", "sign_session", "unsign_session"]
