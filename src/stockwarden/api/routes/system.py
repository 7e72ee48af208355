"""Health, the acting user, sign-in and sign-out (browser sessions)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from stockwarden.api.deps import SESSION_COOKIE, Ctx, CurrentActor, client_of, sign, unsign
from stockwarden.api.schemas import Health, LoginIn, LoginOut, Me
from stockwarden.domain.actor import Via
from stockwarden.services import auth

API_VERSION = "1.0"
router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness (no authentication)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("stockwarden")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = "0"
    return Health(status="ok", version=v, api_version=API_VERSION)


@router.get("/me", response_model=Me)
def me(actor: CurrentActor, request: Request) -> Me:
    """The acting user: roles, permissions and scope."""
    return Me(
        username=actor.username,
        roles=sorted(r.value for r in actor.roles),
        permissions=sorted(p.value for p in actor.permissions),
        locations=sorted(actor.scope.locations),
        categories=sorted(actor.scope.categories),
        via=str(actor.via),
        token_id=actor.token_id,
        read_only=actor.is_read_only,
        csrf_token=getattr(request.state, "csrf_token", None),
    )


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, ctx: Ctx, _: CurrentActor) -> LoginOut:
    """Sign in with user name and password: sets the session cookie (HttpOnly, SameSite=Lax, signed)
    and returns the CSRF token to send as ``X-CSRF-Token`` on state-changing requests.
    Failed attempts are throttled per user and client (429 with Retry-After)."""
    actor = auth.login(ctx, body.username, body.password, client=client_of(request), via=Via.WEB)
    session = auth.open_session(ctx, actor)
    response.set_cookie(
        SESSION_COOKIE,
        sign(ctx, session.session_id),
        max_age=int(ctx.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        path="/",
    )
    return LoginOut(username=actor.username, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, ctx: Ctx, actor: CurrentActor) -> Response:
    """Sign out: the session stops working at once and the cookie is cleared."""
    cookie = request.cookies.get(SESSION_COOKIE)
    sid = unsign(ctx, cookie) if cookie else None
    if sid is not None and actor.user_id is not None:
        auth.close_session(ctx, sid, actor=actor)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out
