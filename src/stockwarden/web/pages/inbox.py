"""Alerts inbox: mine / my locations / all, by level and state, grouped under their draft PO; alert actions."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from starlette.requests import Request
from starlette.responses import Response

from stockwarden.domain.actor import Permission
from stockwarden.web import actions, labels
from stockwarden.web import inbox_view as iv
from stockwarden.web.app import Web
from stockwarden.web.i18n import lazy

VIEWS = {"mine": lazy("Mine"), "locations": lazy("My locations"), "all": lazy("All")}


def _back(value: object, default: str) -> str:
    text = str(value or default)
    return text if text.startswith("/") and not text.startswith("//") else default


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/inbox")
    async def inbox(request: Request) -> Response:
        actor = web.need(request)
        qp = request.query_params
        view = qp.get("view", "mine" if not actor.is_admin else "all")
        q = iv.InboxQuery(
            view=view if view in VIEWS else "all",
            levels=tuple(x for x in qp.getlist("level") if x in labels.LEVELS),
            states=tuple(x for x in qp.getlist("state") if x in labels.ALERT_STATES),
        )
        box = iv.build_inbox(web.ctx.engine, actor, q)
        return web.page(
            request,
            "inbox.html",
            box=box,
            q=q,
            views=VIEWS,
            can_act=actor.can(Permission.ALERTS_ACT),
            can_approve=actor.can(Permission.PROPOSALS_APPROVE),
            today=web.ctx.now().date(),
            loose_limit=100_000 if qp.get("more") == "1" else 50,
            more_qs=urllib.parse.urlencode([*qp.multi_items(), ("more", "1")]),
        )

    @app.post("/alerts/{alert_id}/act")
    async def act(request: Request, alert_id: int) -> Response:
        actor = web.need(request, Permission.ALERTS_ACT)
        form = await web.form(request)
        t = web.t(request)
        back = _back(form.get("back"), "/inbox")
        action = str(form.get("action") or "")
        comment = str(form.get("comment") or "").strip()[:500]
        if action == "ack":
            actions.acknowledge(web.ctx, [alert_id], actor=actor, comment=comment)
            text = t.gettext(lazy("Alert acknowledged."))
        elif action == "snooze":
            raw = str(form.get("until") or "")
            try:
                until = dt.date.fromisoformat(raw) if raw else None
            except ValueError:
                return web.redirect(back, flash=("error", t.gettext(lazy("The snooze date is not a valid date."))))
            worse = form.get("until_worse") == "1"
            if until is None and not worse:
                return web.redirect(
                    back, flash=("error", t.gettext(lazy("Choose a date, or snooze until it gets worse.")))
                )
            actions.snooze(web.ctx, [alert_id], actor=actor, until=until, until_worse=worse, comment=comment)
            text = t.gettext(lazy("Alert snoozed."))
        elif action == "resolve":
            actions.resolve(web.ctx, alert_id, actor=actor, comment=comment)
            text = t.gettext(lazy("Alert resolved."))
        elif action == "comment":
            if not comment:
                return web.redirect(back, flash=("error", t.gettext(lazy("Write a comment first."))))
            actions.comment(web.ctx, alert_id, actor=actor, comment=comment)
            text = t.gettext(lazy("Comment added."))
        elif action in labels.VERDICTS:
            actions.feedback(web.ctx, alert_id, actor=actor, verdict=action, comment=comment)
            text = t.gettext(lazy("Thank you: your verdict was recorded."))
        else:
            return web.redirect(back, flash=("error", t.gettext(lazy("Unknown action."))))
        return web.redirect(back, flash=("ok", text))
