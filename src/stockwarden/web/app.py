"""The web app: a FastAPI application of server-rendered pages, mounted at ``/`` beside the API.

``create_web_app(ctx)`` builds it; ``mount_web(api, ctx)`` mounts it on the API application (routes
registered on the API first, ``/api/...``, keep precedence). Pages are registered by the modules of
:data:`PAGE_MODULES`, each with a ``register(web)`` function.

Every request gets a :class:`~stockwarden.web.i18n.Translator` (``request.state.t``), the signed-in
user (``request.state.user``) and the session's CSRF token. A page that needs a permission the user
lacks answers 403 with a page in the user's language; a form post without the session's CSRF token is
refused; any stockwarden error becomes a message in the user's language, never a traceback.
"""

from __future__ import annotations

import importlib
import json
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import (
    AuthError,
    Conflict,
    InputError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StockwardenError,
)
from stockwarden.services.context import AppContext
from stockwarden.services.preferences import get_language
from stockwarden.web import auth, labels
from stockwarden.web.engine_text import engine_text
from stockwarden.web.i18n import COOKIE as LANG_COOKIE
from stockwarden.web.i18n import Translator, lazy, negotiate, normalise_language, translator
from stockwarden.web.render import STATIC_DIR, Renderer

log = structlog.get_logger(__name__)

PAGE_MODULES = (
    "login",
    "overview",
    "risk",
    "detail",
    "inbox",
    "proposals",
    "suppliers",
    "rules",
    "data",
    "runs",
    "admin",
)
FLASH_COOKIE = "sw_flash"


@dataclass(frozen=True, slots=True)
class WebUser:
    """The signed-in user as templates see it."""

    actor: Actor
    roles_label: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.actor.username


class LoginRequired(Exception):
    """Raised by :meth:`Web.need` when nobody is signed in (answered with a redirect to the login page)."""


class CsrfRejected(Exception):
    """Raised when a form post lacks the session's CSRF token."""


class Web:
    """What every page handler needs: the context, the renderer and request helpers."""

    def __init__(self, ctx: AppContext, app: FastAPI, renderer: Renderer) -> None:
        self.ctx = ctx
        self.app = app
        self.renderer = renderer
        self.jobs: dict[str, Any] = {}
        self.preview_options: dict[str, Any] = {"weeks": 13}
        #: replay the rules in force in the background when the rules editor opens (services.preview.warm_preview)
        self.preview_warm = True
        """Options of the rules preview (``services.preview.preview_rules``); tests use fewer weeks."""

    # -- requests -------------------------------------------------------------------------------
    def t(self, request: Request) -> Translator:
        """The request's translator."""
        return request.state.t  # type: ignore[no-any-return]

    def need(self, request: Request, permission: Permission = Permission.READ) -> Actor:
        """The signed-in actor holding ``permission``.

        Raises:
            LoginRequired: nobody is signed in.
            PermissionDenied: the actor's roles lack the permission.
        """
        user: WebUser | None = request.state.user
        if user is None:
            raise LoginRequired
        if not user.actor.can(permission):
            raise PermissionDenied(f"your roles do not allow {permission.value}")
        return user.actor

    async def form(self, request: Request) -> FormData:
        """The posted form, after checking its CSRF token (field ``csrf`` or header ``X-CSRF-Token``)."""
        form = await request.form()
        given = form.get("csrf") or request.headers.get("x-csrf-token")
        if not auth.csrf_ok(request.state.csrf, given if isinstance(given, str) else None):
            raise CsrfRejected
        return form

    def page(self, request: Request, template: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
        """A rendered page."""
        return self.renderer.page(request, template, status_code=status_code, **values)

    def redirect(self, path: str, *, flash: tuple[str, str] | None = None) -> RedirectResponse:
        """A 303 redirect (after a form post), optionally with a message shown on the next page."""
        response = RedirectResponse(self.renderer.url(path) if path.startswith("/") else path, status_code=303)
        if flash is not None:
            response.set_cookie(FLASH_COOKIE, urllib.parse.quote(json.dumps([flash])), httponly=True, samesite="lax")
        return response

    def error_message(self, request: Request, exc: BaseException) -> str:
        """A message for an error, in the user's language (the detail from the service follows)."""
        t = self.t(request)
        titles: list[tuple[type[BaseException], str]] = [
            (PermissionDenied, lazy("Your role does not allow this.")),
            (NotFound, lazy("Not found (or outside your locations and categories).")),
            (InvalidTransition, lazy("This action does not apply in the current state.")),
            (Conflict, lazy("Someone changed this in the meantime, or a run is already going; reload and try again.")),
            (AuthError, lazy("Please sign in again.")),
            (InputError, lazy("The input was not accepted.")),
            (StockwardenError, lazy("The request could not be completed.")),
        ]
        for cls, title in titles:
            if isinstance(exc, cls):
                detail = engine_text(str(exc).strip(), t)  # the service's detail: known sentences translated
                return f"{t.gettext(title)} ({detail})" if detail else t.gettext(title)
        return t.gettext(lazy("Something went wrong; the error was logged."))


def _user_of(actor: Actor, t: Translator) -> WebUser:
    roles = ", ".join(t.gettext(labels.label(labels.ROLES, r)) for r in sorted(actor.roles))
    return WebUser(actor=actor, roles_label=roles, permissions=frozenset(str(p) for p in actor.permissions))


def _language(request: Request) -> str:
    return normalise_language(request.cookies.get(LANG_COOKIE)) or negotiate(request.headers.get("accept-language"))


def create_web_app(ctx: AppContext, *, root_path: str = "") -> FastAPI:
    """The web app for ``ctx`` (a FastAPI application; mount it at ``/`` or serve it alone)."""
    app = FastAPI(title="stockwarden web", docs_url=None, redoc_url=None, openapi_url=None)
    renderer = Renderer(root_path=root_path, static_version=_static_version())
    web = Web(ctx, app, renderer)
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.middleware("http")
    async def per_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        t = translator(_language(request))
        request.state.t = t
        request.state.user = None
        request.state.csrf = ""
        request.state.flashes = []
        if not request.url.path.startswith("/static/"):
            found = auth.request_actor(ctx, request)
            if found is not None:
                actor, csrf, _sid = found
                chosen = get_language(ctx, actor.username)  # the user's own choice wins over the browser's
                if chosen is not None and chosen != t.language:
                    t = translator(chosen)
                    request.state.t = t
                request.state.user = _user_of(actor, t)
                request.state.csrf = csrf
            raw = request.cookies.get(FLASH_COOKIE)
            if raw:
                try:
                    request.state.flashes = [tuple(x) for x in json.loads(urllib.parse.unquote(raw))][:5]
                except (ValueError, TypeError):
                    request.state.flashes = []
        response = await call_next(request)
        if request.cookies.get(FLASH_COOKIE) and response.status_code < 300:
            response.delete_cookie(FLASH_COOKIE)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self' 'unsafe-eval'; connect-src 'self'; frame-ancestors 'none'",
            )
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": renderer.url("/login")})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(renderer.url("/login?next=" + urllib.parse.quote(target)), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, _exc: CsrfRejected) -> Response:
        t: Translator = request.state.t
        message = t.gettext(lazy("The form had expired or did not come from this site. Reload the page and try again."))
        return web.page(request, "error.html", status_code=403, message=message)

    @app.exception_handler(StockwardenError)
    async def stockwarden_error(request: Request, exc: StockwardenError) -> Response:
        status = 400
        if isinstance(exc, PermissionDenied):
            status = 403
        elif isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, AuthError):
            status = 401
        elif isinstance(exc, (Conflict, InvalidTransition)):
            status = 409
        return web.page(request, "error.html", status_code=status, message=web.error_message(request, exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("SW-E900: web page failed", path=request.url.path, error=str(exc))
        return web.page(request, "error.html", status_code=500, message=web.error_message(request, exc))

    for name in PAGE_MODULES:
        importlib.import_module(f"stockwarden.web.pages.{name}").register(web)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return RedirectResponse(renderer.url("/static/favicon.svg"), status_code=308)

    @app.api_route("/{rest:path}", methods=["GET"], include_in_schema=False)
    async def not_found(request: Request, rest: str) -> Response:  # noqa: ARG001 (the path is not used)
        t: Translator = request.state.t
        return web.page(request, "error.html", status_code=404, message=t.gettext(lazy("This page does not exist.")))

    return app


def _static_version() -> str:
    manifest = STATIC_DIR / "vendor" / "MANIFEST.json"
    import hashlib

    h = hashlib.sha256(manifest.read_bytes())
    for name in ("app.css", "app.js"):
        h.update((STATIC_DIR / name).read_bytes())
    return h.hexdigest()[:10]


def mount_web(api: FastAPI, ctx: AppContext) -> FastAPI:
    """Mount the web app at ``/`` of the API application (its own routes keep precedence)."""
    api.mount("/", create_web_app(ctx))
    return api


__all__ = ["PAGE_MODULES", "CsrfRejected", "LoginRequired", "Web", "WebUser", "create_web_app", "mount_web"]
