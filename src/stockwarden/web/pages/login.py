"""Sign in, sign out, and the language switch."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.responses import Response

from stockwarden.domain.actor import Via
from stockwarden.errors import AuthError, Throttled
from stockwarden.services import auth as auth_service
from stockwarden.web import auth
from stockwarden.web.app import Web
from stockwarden.web.i18n import COOKIE as LANG_COOKIE
from stockwarden.web.i18n import lazy, normalise_language

ONE_YEAR = 365 * 24 * 3600


def _safe_next(value: object) -> str:
    """Only a local path is followed after sign-in (never another site)."""
    text = str(value or "/")
    parsed = urllib.parse.urlparse(text)
    if parsed.scheme or parsed.netloc or not text.startswith("/") or text.startswith("//"):
        return "/"
    return text


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/login")
    async def login_form(request: Request) -> Response:
        return web.page(request, "login.html", next=_safe_next(request.query_params.get("next")), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        t = web.t(request)
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        target = _safe_next(form.get("next"))
        try:
            actor = auth_service.login(web.ctx, username, password, client=auth.client_of(request), via=Via.WEB)
            session = auth_service.open_session(web.ctx, actor)
        except Throttled as exc:
            message = t.gettext(lazy("Too many failed sign-ins. Try again in %(seconds)s seconds.")) % {
                "seconds": exc.retry_after
            }
            return web.page(request, "login.html", status_code=429, next=target, error=message, username=username)
        except AuthError:
            message = t.gettext(lazy("Wrong user name or password."))
            return web.page(request, "login.html", status_code=401, next=target, error=message, username=username)
        response = web.redirect(target)
        response.set_cookie(
            auth.SESSION_COOKIE,
            auth.sign_session(web.ctx, session.session_id),
            httponly=True,
            samesite="lax",
            secure=bool(web.ctx.settings.cookie_secure),
            max_age=int(web.ctx.settings.session_hours * 3600),
        )
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        found = auth.request_actor(web.ctx, request)
        if found is not None:
            await web.form(request)
            actor, _csrf, session_id = found
            auth_service.close_session(web.ctx, session_id, actor=actor)
        response = web.redirect("/login", flash=("ok", web.t(request).gettext(lazy("You are signed out."))))
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    @app.post("/language")
    async def language(request: Request) -> Response:
        form = await request.form()
        lang = normalise_language(str(form.get("lang") or "")) or "en"
        user = request.state.user
        if user is not None:  # remembered for the user, on every browser they sign in from
            from stockwarden.services.preferences import set_language

            set_language(web.ctx, lang, actor=user.actor)
        response = web.redirect(_safe_next(form.get("next")))
        response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax", httponly=False)
        return response
