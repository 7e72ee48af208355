"""The REST API application: ``create_app(ctx)``.

Versioned under ``/api/v1``; the OpenAPI schema at ``/api/openapi.json``; interactive docs at
``/api/docs`` with Swagger UI served from the package (``api/static/swagger``: swagger-ui-dist from
npm at a pinned version; no CDN).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from stockwarden.api.deps import authorize
from stockwarden.api.errors import install_error_handlers, problem
from stockwarden.api.permissions import V1
from stockwarden.services.context import AppContext

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
MAX_BODY_BYTES_JSON = 50 * 1024 * 1024

_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stockwarden API</title>
<link rel="stylesheet" href="/api/static/swagger/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/static/swagger/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/api/static/swagger/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>
"""
_DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: false});
"""


class _BodyLimit:
    """Refuse request bodies larger than the limit with 413 before reading them (Content-Length). A plain
    ASGI middleware: it costs a header lookup per request (Starlette's ``BaseHTTPMiddleware`` wraps every
    response in a task and a stream)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length")
            refusal = None
            if length is not None and not length.isdigit():
                refusal = problem(400, "Content-Length is not a number", request=Request(scope))
            elif length is not None and int(length) > self.limit:
                refusal = problem(
                    413, f"the request body is {int(length)} bytes; the limit is {self.limit}", request=Request(scope)
                )
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def _prepare_in_background(app: FastAPI) -> AsyncIterator[None]:
    """At start, read the latest run into the list index in a background thread, so the first
    requests do not queue behind it; a failure there only means the first list reads it itself."""

    def prepare() -> None:
        import scipy.stats  # noqa: F401 - the detail's quantiles need it; importing takes about a second
        from sqlalchemy.exc import SQLAlchemyError

        from stockwarden.services.assessments import prepare_lists

        try:
            prepare_lists(app.state.ctx)
        except SQLAlchemyError as exc:
            log.warning("could not prepare the assessment lists at start: %s", exc)

    threading.Thread(target=prepare, name="prepare-lists", daemon=True).start()
    yield


def create_app(ctx: AppContext) -> FastAPI:
    """The API application over one application context."""
    from stockwarden.api.routes import admin, alerts, catalog, data, proposals, quality, rules, runs, system

    app = FastAPI(
        lifespan=_prepare_in_background,
        title="stockwarden API",
        version="1.0",
        description="Stockout early warning: assessments, alerts, order proposals, runs, rules. "
        "Authenticate with `Authorization: Bearer TOKEN` (stockwarden tokens create) or a browser session.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(_BodyLimit, limit=max(ctx.settings.max_upload_bytes, MAX_BODY_BYTES_JSON))
    from stockwarden.api.schemas import problem_responses

    v1 = APIRouter(
        prefix=V1,
        dependencies=[Depends(authorize)],
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503),
    )
    for module in (system, catalog, rules, admin, data, alerts, proposals, runs, quality):
        v1.include_router(module.router)
    app.include_router(v1)
    app.state.route_paths = route_paths(app)
    _problem_schema(app)
    app.mount("/api/static", StaticFiles(directory=STATIC), name="api-static")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @app.get("/api/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")

    @app.get("/api", include_in_schema=False)
    def root() -> JSONResponse:
        return JSONResponse({"openapi": "/api/openapi.json", "docs": "/api/docs", "v1": V1})

    return app


def _problem_schema(app: FastAPI) -> None:
    """Declare every 4xx/5xx response as ``application/problem+json`` with the Problem schema."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        ref = {"$ref": "#/components/schemas/Problem"}
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                for code, resp in op.get("responses", {}).items():
                    if str(code)[0] in "45":
                        resp["content"] = {"application/problem+json": {"schema": ref}}
                        resp["description"] = resp.get("description") or "problem details"
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def route_paths(app: FastAPI) -> dict[int, tuple[object, str]]:
    """``id`` of each route object (what ``request.scope["route"]`` holds) -> (route, full path template);
    the path is the key of the permission table. Included routers are walked through their effective routes."""
    from fastapi.routing import APIRoute

    out: dict[int, tuple[object, str]] = {}
    for r in app.routes:
        if isinstance(r, APIRoute):
            out[id(r)] = (r, r.path)
        contexts = getattr(r, "effective_route_contexts", None)
        if contexts is not None:
            for c in contexts():
                out[id(c.original_route)] = (c.original_route, c.path)
    return out


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, full path) of the API's own routes (the route x role matrix is built from it)."""
    from fastapi.routing import APIRoute

    out: list[tuple[str, str]] = []
    for route, path in route_paths(app).values():
        if isinstance(route, APIRoute) and path.startswith(V1):
            out.extend((m, path) for m in sorted(route.methods or ()) if m != "HEAD")
    return sorted(set(out))


__all__ = ["api_routes", "create_app", "route_paths"]
