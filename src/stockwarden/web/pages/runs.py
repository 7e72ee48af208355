"""Runs: start the daily run, watch its progress (polled with htmx), the history with step timings and counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from stockwarden.domain.actor import Permission
from stockwarden.errors import Conflict, InputError
from stockwarden.services import runs as run_service
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

STEPS = (
    "health",
    "forecast",
    "leadtimes",
    "anomalies",
    "assess",
    "assessments",
    "alerts",
    "proposals",
    "compose",
)
STEP_LABELS: dict[str, str] = {
    "load": lazy("load the data"),
    "health": lazy("data health"),
    "forecast": lazy("demand forecast"),
    "leadtimes": lazy("lead times"),
    "anomalies": lazy("anomalies"),
    "assess": lazy("risk assessment"),
    "assessments": lazy("store assessments"),
    "alerts": lazy("alerts"),
    "proposals": lazy("order proposals"),
    "compose": lazy("compose messages"),
    "deliver": lazy("deliver messages"),
    "tick": lazy("escalations and snoozes"),
}
COUNT_LABELS: dict[str, str] = {
    "skus": lazy("SKUs"),
    "health_warnings": lazy("data warnings"),
    "series": lazy("series"),
    "anomalies": lazy("anomalies"),
    "assessed": lazy("assessed"),
    "assessments_stored": lazy("assessments stored"),
    "alerts_opened": lazy("alerts opened"),
    "alerts_updated": lazy("alerts updated"),
    "alerts_resolved": lazy("alerts resolved"),
    "alerts_escalated": lazy("alerts escalated"),
    "proposals_created": lazy("proposal lines created"),
    "proposals_updated": lazy("proposal lines updated"),
    "proposals_unchanged": lazy("proposal lines unchanged"),
    "proposals_withdrawn": lazy("proposal lines withdrawn"),
    "proposals_blocked": lazy("proposal lines blocked"),
    "proposals_auto_approved": lazy("approved automatically"),
    "proposals_cut_by_budget": lazy("cut by budget"),
    "notify_items": lazy("alerts to notify"),
    "messages_enqueued": lazy("messages queued"),
    "messages_sent": lazy("messages sent"),
    "messages_retrying": lazy("messages to retry"),
    "messages_dead": lazy("messages given up"),
    "forecasts_kept": lazy("forecasts kept"),
}


def _jobs(web: Web) -> dict[str, Any]:
    jobs: dict[str, Any] = web.ctx.cache.setdefault("run_jobs", {})
    return jobs


def _job_view(job: Any) -> dict[str, Any]:
    done = list(job.steps_done or [])
    finished = job.state not in ("starting", "running") and not str(job.state).startswith("running")
    return {
        "job_id": job.job_id,
        "state": job.state,
        "finished": finished,
        "failed": job.state == "failed",
        "error": job.error,
        "run_id": job.run_id,
        "done": done,
        "current": next((s for s in STEPS if s not in done), None) if not finished else None,
        "share": 1.0 if finished and not job.error else len(done) / len(STEPS),
    }


def _history(web: Web, request: Request, limit: int = 20) -> list[dict[str, Any]]:
    actor = web.need(request)
    page = run_service.list_runs(web.ctx, actor=actor, limit=limit)
    out = []
    for r in page.items:
        steps = sorted(r.steps.values(), key=lambda s: s.started_at)
        seconds = sum(s.seconds for s in steps) if steps else None
        out.append({"run": r, "steps": steps, "seconds": seconds})
    return out


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    def context(request: Request) -> dict[str, Any]:
        actor = web.need(request)
        jobs = _jobs(web)
        job_id = request.query_params.get("job")
        job = jobs.get(job_id) if job_id else (list(jobs.values())[-1] if jobs else None)
        return {
            "history": _history(web, request),
            "job": _job_view(job) if job is not None else None,
            "lock": run_service.lock_status(web.ctx),
            "can_start": actor.can(Permission.RUNS_START),
            "steps": STEPS,
            "step_labels": STEP_LABELS,
            "count_labels": COUNT_LABELS,
            "today": web.ctx.now().date(),
        }

    @app.get("/runs")
    async def runs_page(request: Request) -> Response:
        return web.page(request, "runs.html", **context(request))

    @app.get("/runs/status")
    async def runs_status(request: Request) -> Response:
        values = context(request)
        html = web.renderer.render(request, "runs_status.html", **values)
        if values["job"] is not None and values["job"]["finished"]:
            html += web.renderer.render(request, "runs_history.html", oob=True, **values)
        return HTMLResponse(html)

    @app.post("/runs/start")
    async def start(request: Request) -> Response:
        actor = web.need(request, Permission.RUNS_START)
        form = await web.form(request)
        t = web.t(request)
        raw = str(form.get("as_of") or "").strip()
        as_of = None
        if raw:
            try:
                as_of = dt.date.fromisoformat(raw)
            except ValueError:
                raise InputError(
                    t.gettext(lazy("The date %(value)s is not a date (YYYY-MM-DD).")) % {"value": raw}
                ) from None
        try:
            job = run_service.start_run(web.ctx, actor=actor, as_of=as_of)
        except Conflict:
            return web.redirect(
                "/runs", flash=("error", t.gettext(lazy("A run is already going; wait for it to end.")))
            )
        return web.redirect(f"/runs?job={job.job_id}", flash=("ok", t.gettext(lazy("Run started."))))
