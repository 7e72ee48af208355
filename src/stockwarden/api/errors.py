"""Every error of the API is an RFC 9457 problem document (``application/problem+json``):
``type``, ``title``, ``status``, ``detail``, ``instance`` and, for bad fields, ``errors``
(``[{"loc": "...", "msg": "..."}]``). Domain errors map to status codes here, in one table."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockwarden.errors import (
    ApprovalError,
    AuthError,
    ConfigError,
    Conflict,
    FieldErrors,
    InputError,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StockwardenError,
    StoreError,
    Throttled,
)

log = structlog.get_logger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://stockwarden.dev/problems/"

# Most specific first: the first class an error is an instance of gives its status.
STATUS: tuple[tuple[type[StockwardenError], int, str], ...] = (
    (Throttled, 429, "too-many-attempts"),
    (AuthError, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (InvalidTransition, 409, "conflict"),
    (Conflict, 409, "conflict"),
    (PayloadTooLarge, 413, "payload-too-large"),
    (FieldErrors, 422, "invalid-input"),
    (ApprovalError, 403, "forbidden"),
    (ConfigError, 422, "invalid-input"),
    (InputError, 422, "invalid-input"),
    (StoreError, 503, "store-unavailable"),
    (StockwardenError, 422, "invalid-input"),
)

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Internal error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or TITLES.get(status, "error").lower().replace(" ", "-")),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_of(exc: StockwardenError) -> tuple[int, str]:
    """The HTTP status and problem type of a domain error."""
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 422, "invalid-input"  # pragma: no cover - StockwardenError is the last row


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to problem documents."""

    @app.exception_handler(StockwardenError)
    async def _domain(request: Request, exc: StockwardenError) -> JSONResponse:
        status, kind = status_of(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        errors = exc.errors if isinstance(exc, FieldErrors) else None
        return problem(status, str(exc), request=request, kind=kind, errors=errors, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]) or "invalid request"
        return problem(422, detail, request=request, kind="invalid-input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
        return problem(exc.status_code, detail, request=request, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("api.error", code="SW-E900", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
        return problem(500, "internal error; the server log has the details", request=request, kind="internal")


__all__ = ["PROBLEM", "STATUS", "install_error_handlers", "problem", "status_of"]
