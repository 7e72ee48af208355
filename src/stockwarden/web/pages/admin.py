"""Admin: users (roles, locations and categories), API tokens (the secret shown once), the audit trail
(filter, export) — all through ``services.users`` / ``services.auth`` / ``services.audit``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
from starlette.requests import Request
from starlette.responses import Response

from stockwarden.domain.actor import Permission
from stockwarden.errors import InputError, StockwardenError
from stockwarden.services import audit as audit_service
from stockwarden.services import auth as auth_service
from stockwarden.services import users as user_service
from stockwarden.web import engine_text, labels
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

AUDIT_PAGE = 100
MAX_EXPORT = 100_000


def _list(text: object) -> list[str]:
    return [x.strip() for x in str(text or "").replace("，", ",").split(",") if x.strip()]


def _since(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"since {text!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    def audit_filters(request: Request) -> dict[str, str]:
        qp = request.query_params
        return {k: qp.get(k, "").strip()[:200] for k in ("user", "action", "object_type", "object_id", "since")}

    def audit_page(request: Request, f: dict[str, str], *, limit: int, offset: int) -> Any:
        actor = web.need(request, Permission.AUDIT_READ)
        return audit_service.list_audit(
            web.ctx,
            actor=actor,
            user=f["user"] or None,
            action=f["action"] or None,
            object_type=f["object_type"] or None,
            object_id=f["object_id"] or None,
            since=_since(f["since"]),
            limit=limit,
            offset=offset,
        )

    @app.get("/admin")
    async def admin(request: Request) -> Response:
        actor = web.need(request, Permission.USERS_ADMIN)
        users = user_service.list_users(web.ctx, actor=actor, limit=1000).items
        tokens = auth_service.list_tokens(web.ctx, actor=actor, limit=1000).items
        f = audit_filters(request)
        page_no = max(
            int(request.query_params.get("page", "1") or 1) if request.query_params.get("page", "1").isdigit() else 1, 1
        )
        audit = audit_page(request, f, limit=AUDIT_PAGE, offset=(page_no - 1) * AUDIT_PAGE)
        new_token = web.ctx.cache.get("web_new_tokens", {}).pop(request.query_params.get("shown", ""), None)
        query = {k: v for k, v in f.items() if v}
        return web.page(
            request,
            "admin.html",
            users=users,
            tokens=tokens,
            audit=audit.items,
            audit_total=audit.total,
            page_no=page_no,
            pages=max((audit.total + AUDIT_PAGE - 1) // AUDIT_PAGE, 1),
            f=f,
            query=query,
            all_roles=list(labels.ROLES),
            audit_actions=list(engine_text.AUDIT_ACTIONS),
            object_types=list(engine_text.OBJECT_TYPES),
            new_token=new_token,
            now=web.ctx.now(),
        )

    @app.post("/admin/users")
    async def add_user(request: Request) -> Response:
        actor = web.need(request, Permission.USERS_ADMIN)
        form = await web.form(request)
        t = web.t(request)
        name = str(form.get("username") or "").strip()
        password = str(form.get("password") or "") or None
        try:
            user_service.add_user(
                web.ctx,
                name,
                roles=[str(r) for r in form.getlist("roles")],
                locations=_list(form.get("locations")),
                categories=_list(form.get("categories")),
                password=password,
                actor=actor,
            )
        except StockwardenError as exc:
            return web.redirect("/admin#users", flash=("error", web.error_message(request, exc)))
        return web.redirect("/admin#users", flash=("ok", t.gettext(lazy("User %(name)s added.")) % {"name": name}))

    @app.post("/admin/users/{username}")
    async def edit_user(request: Request, username: str) -> Response:
        actor = web.need(request, Permission.USERS_ADMIN)
        form = await web.form(request)
        t = web.t(request)
        what = str(form.get("do") or "roles")
        try:
            if what == "roles":
                user_service.set_roles(
                    web.ctx,
                    username,
                    roles=[str(r) for r in form.getlist("roles")],
                    locations=_list(form.get("locations")),
                    categories=_list(form.get("categories")),
                    actor=actor,
                )
                message = t.gettext(lazy("Roles and scope of %(name)s saved."))
            elif what == "password":
                user_service.set_password(web.ctx, username, str(form.get("password") or ""), actor=actor)
                message = t.gettext(lazy("Password of %(name)s changed."))
            elif what in ("disable", "enable"):
                user_service.disable_user(web.ctx, username, actor=actor, enable=what == "enable")
                message = t.gettext(lazy("%(name)s disabled.") if what == "disable" else lazy("%(name)s enabled."))
            else:
                raise InputError(f"unknown change {what!r}")
        except StockwardenError as exc:
            return web.redirect("/admin#users", flash=("error", web.error_message(request, exc)))
        return web.redirect("/admin#users", flash=("ok", message % {"name": username}))

    @app.post("/admin/tokens")
    async def create_token(request: Request) -> Response:
        actor = web.need(request, Permission.USERS_ADMIN)
        form = await web.form(request)
        t = web.t(request)
        raw_days = str(form.get("expires_days") or "").strip()
        try:
            days = float(raw_days) if raw_days else None
        except ValueError:
            return web.redirect(
                "/admin#tokens",
                flash=("error", t.gettext(lazy("%(value)s is not a number of days.")) % {"value": raw_days}),
            )
        try:
            made = auth_service.create_token(
                web.ctx,
                str(form.get("username") or ""),
                name=str(form.get("name") or ""),
                expires_days=days,
                read_only=form.get("read_only") == "1",
                actor=actor,
            )
        except StockwardenError as exc:
            return web.redirect("/admin#tokens", flash=("error", web.error_message(request, exc)))
        # the secret is shown once, on the next page, to this browser's session only
        shown: dict[str, Any] = web.ctx.cache.setdefault("web_new_tokens", {})
        key = f"{made.token.id}-{request.state.csrf[:8]}"
        shown[key] = {"secret": made.secret, "name": made.token.name, "username": made.token.username}
        return web.redirect(f"/admin?shown={key}#tokens")

    @app.post("/admin/tokens/{token_id}/revoke")
    async def revoke(request: Request, token_id: int) -> Response:
        actor = web.need(request, Permission.USERS_ADMIN)
        await web.form(request)
        t = web.t(request)
        try:
            auth_service.revoke_token(web.ctx, token_id, actor=actor)
        except StockwardenError as exc:
            return web.redirect("/admin#tokens", flash=("error", web.error_message(request, exc)))
        return web.redirect("/admin#tokens", flash=("ok", t.gettext(lazy("Token revoked."))))

    @app.get("/admin/audit.csv")
    async def audit_export(request: Request) -> Response:
        web.need(request, Permission.AUDIT_READ)
        f = audit_filters(request)
        rows: list[dict[str, Any]] = []
        offset = 0
        while offset < MAX_EXPORT:
            page = audit_page(request, f, limit=1000, offset=offset)
            rows += [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "username": e.username,
                    "via": e.via,
                    "action": e.action,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "before": e.before_json,
                    "after": e.after_json,
                    "client": e.client,
                    "request_id": e.request_id,
                }
                for e in page.items
            ]
            offset += 1000
            if offset >= page.total:
                break
        buf = io.StringIO()
        pd.DataFrame(
            rows,
            columns=[
                "id",
                "at",
                "username",
                "via",
                "action",
                "object_type",
                "object_id",
                "before",
                "after",
                "client",
                "request_id",
            ],
        ).to_csv(buf, index=False)
        stamp = web.ctx.now().strftime("%Y%m%d-%H%M")
        return Response(
            buf.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
