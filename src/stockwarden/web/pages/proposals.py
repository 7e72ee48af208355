"""Proposals: draft POs by supplier with order-by dates and the cash budget; change, approve, reject, export."""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from stockwarden.domain.actor import Permission
from stockwarden.errors import ApprovalError, InputError
from stockwarden.services.rules import current_rules
from stockwarden.web import actions
from stockwarden.web.app import Web
from stockwarden.web.i18n import Translator, lazy

_OVER_LIMIT = re.compile(r"worth ([\d,\.]+), above the ([\d,\.]+) limit of role '([^']+)'")


def approval_message(t: Translator, exc: ApprovalError) -> str:
    """A clear message for a refused approval, in the user's language."""
    m = _OVER_LIMIT.search(str(exc))
    if m:
        value, limit, role = (float(m.group(1).replace(",", "")), float(m.group(2).replace(",", "")), m.group(3))
        return t.gettext(
            lazy(
                "Not approved: a line is worth %(value)s, above your limit of %(limit)s (role %(role)s). "
                "Ask someone with a higher limit, or change the quantity."
            )
        ) % {"value": t.money(value), "limit": t.money(limit), "role": role}
    return t.gettext(lazy("Not approved:")) + " " + str(exc)


def _back(value: object) -> str:
    text = str(value or "/proposals")
    return text if text.startswith("/") and not text.startswith("//") else "/proposals"


def load_lines(web: Web, statuses: tuple[str, ...]) -> pd.DataFrame:
    """Proposal lines in the given statuses, with item names (read only)."""
    with web.ctx.engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(
                "SELECT l.id, l.po_id, l.line_no, l.sku, l.location_id, l.supplier_id, l.qty, l.unit_cost, "
                "l.order_by_date, l.expected_arrival_date, l.status, l.level, l.stockout_probability, "
                "l.explanation, l.override_reason FROM order_proposal_lines l ORDER BY l.po_id, l.line_no"
            ),
            conn,
        )
    frame = frame[frame["status"].isin(statuses)]
    frame["value"] = frame["qty"] * frame["unit_cost"].fillna(0.0)
    return frame


LEVEL_RANK = {"critical": 3, "warning": 2, "watch": 1, "ok": 0}


def worst_level(levels: pd.Series) -> str:
    """The most urgent level among ``levels`` (``ok`` when none)."""
    known = [str(v) for v in levels.dropna() if str(v) in LEVEL_RANK]
    return max(known, key=LEVEL_RANK.__getitem__) if known else "ok"


def register(web: Web) -> None:
    """Add the routes of this module."""
    app = web.app

    @app.get("/proposals")
    async def proposals(request: Request) -> Response:
        actor = web.need(request)
        status = request.query_params.get("status", "open")
        statuses = {
            "open": ("draft", "changed"),
            "approved": ("approved", "changed"),
            "all": ("draft", "changed", "approved", "rejected", "exported"),
        }.get(status, ("draft", "changed"))
        frame = load_lines(web, statuses)
        if actor.scope.locations:
            frame = frame[frame["location_id"].isin(actor.scope.locations)]
        _version, rules = current_rules(web.ctx)
        role, limit = actions.approver_role(web.ctx, actor)
        suppliers = []
        for supplier_id, sup in frame.groupby(frame["supplier_id"].fillna("—"), sort=True):
            pos = []
            for po_id, po in sup.groupby("po_id", sort=False):
                pos.append(
                    {
                        "po_id": po_id,
                        "location_id": po["location_id"].iloc[0],
                        "order_by_date": pd.to_datetime(po["order_by_date"]).min().date(),
                        "expected_arrival_date": pd.to_datetime(po["expected_arrival_date"]).max().date(),
                        "value": float(po["value"].sum()),
                        "max_line_value": float(po["value"].max()),
                        "worst_level": worst_level(po["level"]),
                        "n_draft": int(po["status"].isin(("draft", "changed")).sum()),
                        "lines": po.to_dict("records"),
                    }
                )
            pos.sort(key=lambda p: p["order_by_date"])
            suppliers.append(
                {
                    "supplier_id": supplier_id,
                    "value": float(sup["value"].sum()),
                    "pos": pos,
                    "n_lines": len(sup),
                    "order_by_date": pos[0]["order_by_date"],
                    "worst_level": worst_level(sup["level"]),
                }
            )
        suppliers.sort(key=lambda s: (-LEVEL_RANK.get(s["worst_level"], 0), s["order_by_date"]))
        return web.page(
            request,
            "proposals.html",
            suppliers=suppliers,
            status=status,
            total_value=float(frame["value"].sum()) if len(frame) else 0.0,
            budget=rules.orders.budget,
            role=role,
            limit=limit,
            can_approve=actor.can(Permission.PROPOSALS_APPROVE),
            can_export=actor.can(Permission.PROPOSALS_EXPORT),
        )

    @app.post("/proposals/approve")
    async def approve(request: Request) -> Response:
        actor = web.need(request, Permission.PROPOSALS_APPROVE)
        form = await web.form(request)
        t = web.t(request)
        back = _back(form.get("back"))
        ids = [int(x) for x in form.getlist("line_id") if isinstance(x, str) and x.isdigit()]
        for po_id in form.getlist("po_id"):  # one PO (its Approve button) or those ticked (the approve bar)
            if isinstance(po_id, str) and po_id:
                ids += actions.lines_of_po(web.ctx, po_id, actor=actor)
        if not ids:
            return web.redirect(back, flash=("error", t.gettext(lazy("Nothing to approve: no draft line selected."))))
        try:
            done = actions.approve(web.ctx, ids, actor=actor, comment=str(form.get("comment") or ""))
        except ApprovalError as exc:
            return web.redirect(back, flash=("error", approval_message(t, exc)))
        return web.redirect(back, flash=("ok", t.gettext(lazy("%(n)s lines approved.")) % {"n": len(done)}))

    @app.post("/proposals/{line_id}/change")
    async def change(request: Request, line_id: int) -> Response:
        actor = web.need(request, Permission.PROPOSALS_APPROVE)
        form = await web.form(request)
        t = web.t(request)
        back = _back(form.get("back"))
        try:
            qty = float(str(form.get("qty") or "").strip())
        except ValueError:
            return web.redirect(back, flash=("error", t.gettext(lazy("The quantity must be a number."))))
        reason = str(form.get("reason") or "")
        if not reason:
            return web.redirect(back, flash=("error", t.gettext(lazy("Choose a reason for the change."))))
        try:
            actions.change(
                web.ctx, line_id, actor=actor, qty=qty, reason=reason, comment=str(form.get("comment") or "")
            )
        except ApprovalError as exc:
            return web.redirect(back, flash=("error", approval_message(t, exc)))
        return web.redirect(back, flash=("ok", t.gettext(lazy("Quantity changed and approved."))))

    @app.post("/proposals/{line_id}/reject")
    async def reject(request: Request, line_id: int) -> Response:
        actor = web.need(request, Permission.PROPOSALS_APPROVE)
        form = await web.form(request)
        t = web.t(request)
        back = _back(form.get("back"))
        reason = str(form.get("reason") or "")
        if not reason:
            return web.redirect(back, flash=("error", t.gettext(lazy("Choose a reason for rejecting."))))
        try:
            actions.reject(web.ctx, line_id, actor=actor, reason=reason, comment=str(form.get("comment") or ""))
        except ApprovalError as exc:
            return web.redirect(back, flash=("error", approval_message(t, exc)))
        return web.redirect(back, flash=("ok", t.gettext(lazy("Line rejected."))))

    @app.post("/proposals/export")
    async def export(request: Request) -> Response:
        actor = web.need(request, Permission.PROPOSALS_EXPORT)
        form = await web.form(request)
        fmt = str(form.get("format") or "csv")
        if fmt not in ("csv", "xlsx"):
            raise InputError(f"format {fmt!r} is not offered; use csv or xlsx")
        data, media, filename, _counts = actions.export_file(web.ctx, actor=actor, fmt=fmt)
        return StreamingResponse(
            iter([data]), media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )
