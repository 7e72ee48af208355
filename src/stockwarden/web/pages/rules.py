"""Rules editor (forms, no TOML): edit, check, preview over the recent past, save as a new version,
versions with who and when, a diff between two versions, roll back, and approve or reject a proposed version
(e.g. from ``stockwarden tune``)."""

from __future__ import annotations

from typing import Any

import tomli_w
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from stockwarden.domain.actor import Permission
from stockwarden.errors import FieldErrors, InputError, StockwardenError
from stockwarden.services import preview as preview_service
from stockwarden.services import rules as rules_service
from stockwarden.web import labels, rules_form
from stockwarden.web.app import Web
from stockwarden.web.i18n import Translator, lazy

PREVIEW_METRICS: tuple[tuple[str, str, str], ...] = (
    ("alerts_per_week", lazy("Alerts per week (SKU-locations at the alert level)"), "number1"),
    ("new_alerts", lazy("New alerts over the period"), "number"),
    ("hits", lazy("Alerts followed by a real stockout"), "number"),
    ("precision", lazy("Share of alerts followed by a stockout"), "percent"),
    ("missed", lazy("Stockouts with no alert (missed)"), "number"),
    ("recall", lazy("Share of stockouts warned"), "percent"),
    ("value_covered", lazy("Sales value per day of the stockouts warned"), "money"),
    ("value_share", lazy("Share of the stockouts' value covered"), "percent"),
)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


def to_toml(data: dict[str, Any]) -> str:
    """Rules data as TOML text (what ``services.rules`` validates and stores)."""
    return tomli_w.dumps(_drop_none(data))


def _categories(web: Web) -> list[str]:
    import sqlalchemy as sa

    with web.ctx.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT DISTINCT category FROM items WHERE category IS NOT NULL ORDER BY 1")).all()
    return [str(r[0]) for r in rows]


def _message(t: Translator, problems: dict[str, str], key: str) -> str:
    text = t.gettext(problems[key])
    raw = problems.get(key + "#value")
    if raw is not None and "%(value)s" in text:
        return text % {"value": raw}
    limit = problems.get(key + "#limit")
    return text % {"limit": limit} if limit is not None and "%(limit)s" in text else text


def _metric_text(t: Translator, value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if fmt == "percent":
        return t.percent(value, 1)
    if fmt == "money":
        return t.money(value)
    if fmt == "number1":
        return t.number(value, 1)
    return t.number(value)


def preview_view(t: Translator, result: preview_service.PreviewResult) -> dict[str, Any]:
    """The preview's comparison table and chart for the template."""
    rows = []
    for key, label, fmt in PREVIEW_METRICS:
        a, b = getattr(result.current_total, key), getattr(result.draft_total, key)
        change = None
        if a is not None and b is not None:
            delta = b - a
            sign = "+" if delta > 0 else ""
            if not delta:
                change = "="
            elif fmt == "percent":  # a change of a share is in percentage points, not a percentage
                change = t.gettext(lazy("%(n)s pts")) % {"n": sign + t.number(delta * 100, 1)}
            else:
                change = sign + _metric_text(t, delta, fmt)
        rows.append(
            {
                "key": key,
                "label": label,
                "current": _metric_text(t, a, fmt),
                "draft": _metric_text(t, b, fmt),
                "change": change or "—",
            }
        )
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 45, "right": 16, "top": 36, "bottom": 30},
        "xAxis": {"type": "category", "data": [t.date(d, "short") for d in result.checkpoints]},
        "yAxis": {"type": "value"},
        "series": [
            {
                "type": "bar",
                "name": t.gettext(lazy("Alerts, rules in force")),
                "itemStyle": {"color": "#8c959f"},
                "data": [w.alerts for w in result.current],
            },
            {
                "type": "bar",
                "name": t.gettext(lazy("Alerts, draft")),
                "itemStyle": {"color": "#0550ae"},
                "data": [w.alerts for w in result.draft],
            },
            {
                "type": "line",
                "name": t.gettext(lazy("Missed stockouts, rules in force")),
                "itemStyle": {"color": "#bc4c00"},
                "data": [w.missed for w in result.current],
            },
            {
                "type": "line",
                "name": t.gettext(lazy("Missed stockouts, draft")),
                "itemStyle": {"color": "#a40e26"},
                "lineStyle": {"type": "dashed"},
                "data": [w.missed for w in result.draft],
            },
        ],
    }
    weeks = list(zip(result.checkpoints, result.current, result.draft, strict=True))
    unknown = sum(w.unknown for w in result.current)
    return {"rows": rows, "chart": chart, "weeks": weeks, "unknown": unknown, "result": result}


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    def editor(
        request: Request,
        *,
        data: dict[str, Any],
        base_version: int,
        problems: dict[str, str] | None = None,
        changes: list[rules_service.RuleChange] | None = None,
        preview_job: str | None = None,
        comment: str = "",
        status_code: int = 200,
    ) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        t = web.t(request)
        version, _ = rules_service.current_rules(web.ctx)
        problems = problems or {}
        messages = {k: _message(t, problems, k) for k in problems if "#" not in k}
        return web.page(
            request,
            "rules.html",
            status_code=status_code,
            data=data,
            version=version,
            base_version=base_version,
            sections=rules_form.SECTIONS,
            tables=rules_form.TABLES,
            threshold_keys=rules_form.THRESHOLD_KEYS,
            channel_levels=rules_form.CHANNEL_LEVELS,
            get=rules_form.get_path,
            shown=rules_form.shown,
            problems=messages,
            under=lambda path: rules_form.problems_under(messages, path),
            raw=problems,
            changes=changes,
            preview_job=preview_job,
            comment=comment,
            categories=_categories(web),
            roles=sorted(labels.ROLES),
            can_write=actor.can(Permission.RULES_WRITE),
            preview_weeks=web.preview_options.get("weeks", 13),
            prep=preview_service.preview_status(web.ctx, **web.preview_options),
        )

    @app.get("/rules/preview-prep")
    async def preview_prep(request: Request) -> Response:
        """How far the preview of the rules in force is prepared (polled while it runs)."""
        web.need(request, Permission.RULES_READ)
        prep = preview_service.preview_status(web.ctx, **web.preview_options)
        return HTMLResponse(web.renderer.render(request, "rules_prep.html", prep=prep))

    @app.get("/rules")
    async def rules_page(request: Request) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        version, rules = rules_service.get_rules(web.ctx, actor=actor)
        if web.preview_warm and actor.can(Permission.RULES_WRITE):  # the editors' previews find it ready
            preview_service.warm_preview(web.ctx, actor=actor, **web.preview_options)
        return editor(request, data=rules.model_dump(mode="json"), base_version=version.id)

    @app.post("/rules")
    async def rules_post(request: Request) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        form = await web.form(request)
        t = web.t(request)
        action = str(form.get("action") or "check")
        base_id = _int(form.get("base_version"))
        version, _current = rules_service.current_rules(web.ctx)
        if base_id is None:
            raise InputError("the form lacks the version it was opened on; reload the page")
        base = rules_service.get_version(web.ctx, base_id, actor=actor)
        data, problems = rules_form.apply_form(
            rules_service.parse_rules_text(base.toml_text).model_dump(mode="json"), form
        )
        comment = str(form.get("comment") or "").strip()
        if problems:
            return editor(request, data=data, base_version=base_id, problems=problems, comment=comment, status_code=422)
        text = to_toml(data)
        try:
            _draft, changes = rules_service.validate_rules(web.ctx, text, actor=actor)
        except FieldErrors as exc:
            found = rules_form.error_paths(list(exc.errors or []))
            return editor(request, data=data, base_version=base_id, problems=found, comment=comment, status_code=422)
        if action == "save":
            web.need(request, Permission.RULES_WRITE)
            if base_id != version.id:
                message = t.gettext(
                    lazy(
                        "Someone saved version %(id)s after you opened the editor. Your draft is kept below: check "
                        "the differences and save again."
                    )
                ) % {"id": version.id}
                request.state.flashes = [("error", message)]
                return editor(
                    request, data=data, base_version=version.id, changes=changes, comment=comment, status_code=409
                )
            if not comment:
                request.state.flashes = [("error", t.gettext(lazy("Say in a few words why the rules change.")))]
                return editor(request, data=data, base_version=base_id, changes=changes, status_code=422)
            try:
                saved, _changes = rules_service.save_rules(web.ctx, text, actor=actor, comment=comment)
            except StockwardenError as exc:
                request.state.flashes = [("error", web.error_message(request, exc))]
                return editor(
                    request,
                    data=data,
                    base_version=base_id,
                    changes=changes,
                    comment=comment,
                    status_code=403 if exc.__class__.__name__ == "PermissionDenied" else 422,
                )
            return web.redirect(
                f"/rules/diff?from={base_id}&to={saved.id}",
                flash=(
                    "ok",
                    t.gettext(lazy("Saved as version %(id)s; it applies from the next run.")) % {"id": saved.id},
                ),
            )
        job_id = None
        if action == "preview":
            job_id = preview_service.start_preview(web.ctx, text, actor=actor, **web.preview_options).job_id
        elif not changes:
            request.state.flashes = [("info", t.gettext(lazy("The draft is valid and changes nothing.")))]
        else:
            request.state.flashes = [("ok", t.gettext(lazy("The draft is valid.")))]
        return editor(request, data=data, base_version=base_id, changes=changes, preview_job=job_id, comment=comment)

    @app.get("/rules/preview/{job_id}")
    async def preview_status(request: Request, job_id: str) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        t = web.t(request)
        job = preview_service.get_preview(web.ctx, job_id, actor=actor)
        view = preview_view(t, job.result) if job.result is not None else None
        weeks = web.preview_options.get("weeks", 13)
        html = web.renderer.render(request, "rules_preview.html", job=job, view=view, preview_weeks=weeks)
        return HTMLResponse(html)

    @app.get("/rules/versions")
    async def versions(request: Request) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        page = rules_service.list_versions(web.ctx, actor=actor, limit=100)
        in_force, _ = rules_service.current_rules(web.ctx)
        return web.page(
            request,
            "rules_versions.html",
            versions=page.items,
            total=page.total,
            in_force_id=in_force.id,
            pending=[v for v in page.items if v.status == rules_service.PROPOSED],
            can_write=actor.can(Permission.RULES_WRITE),
        )

    @app.post("/rules/versions/{version_id}/approve")
    async def approve(request: Request, version_id: int) -> Response:
        actor = web.need(request, Permission.RULES_WRITE)
        form = await web.form(request)
        t = web.t(request)
        current, _ = rules_service.current_rules(web.ctx)
        try:
            approved, _changes = rules_service.approve_version(
                web.ctx, version_id, actor=actor, comment=str(form.get("comment") or "")
            )
        except StockwardenError as exc:
            return web.redirect("/rules/versions", flash=("error", web.error_message(request, exc)))
        return web.redirect(
            f"/rules/diff?from={current.id}&to={approved.id}",
            flash=("ok", t.gettext(lazy("Approved: version %(id)s is the rules in force.")) % {"id": approved.id}),
        )

    @app.post("/rules/versions/{version_id}/reject")
    async def reject(request: Request, version_id: int) -> Response:
        actor = web.need(request, Permission.RULES_WRITE)
        form = await web.form(request)
        t = web.t(request)
        try:
            rejected = rules_service.reject_version(
                web.ctx, version_id, actor=actor, reason=str(form.get("comment") or "")
            )
        except StockwardenError as exc:
            return web.redirect("/rules/versions", flash=("error", web.error_message(request, exc)))
        return web.redirect(
            "/rules/versions",
            flash=(
                "ok",
                t.gettext(lazy("Rejected: version %(id)s will not come into force.")) % {"id": rejected.id},
            ),
        )

    @app.get("/rules/diff")
    async def diff(request: Request) -> Response:
        actor = web.need(request, Permission.RULES_READ)
        old, new = _int(request.query_params.get("from")), _int(request.query_params.get("to"))
        if old is None or new is None:
            raise InputError("choose two versions to compare (from and to)")
        changes = rules_service.diff_versions(web.ctx, old, new, actor=actor)
        return web.page(
            request,
            "rules_diff.html",
            changes=changes,
            old=rules_service.get_version(web.ctx, old, actor=actor),
            new=rules_service.get_version(web.ctx, new, actor=actor),
        )

    @app.post("/rules/versions/{version_id}/rollback")
    async def rollback(request: Request, version_id: int) -> Response:
        actor = web.need(request, Permission.RULES_WRITE)
        form = await web.form(request)
        t = web.t(request)
        target = rules_service.get_version(web.ctx, version_id, actor=actor)
        current, _ = rules_service.current_rules(web.ctx)
        comment = str(form.get("comment") or "").strip()
        note = f"roll back to version {target.id}" + (f": {comment}" if comment else "")
        try:
            saved, _changes = rules_service.save_rules(web.ctx, target.toml_text, actor=actor, comment=note)
        except StockwardenError as exc:
            return web.redirect("/rules/versions", flash=("error", web.error_message(request, exc)))
        return web.redirect(
            f"/rules/diff?from={current.id}&to={saved.id}",
            flash=(
                "ok",
                t.gettext(lazy("Rolled back: version %(id)s is in force again (saved as version %(new)s)."))
                % {"id": target.id, "new": saved.id},
            ),
        )


def _int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


__all__ = ["preview_view", "register", "to_toml"]
