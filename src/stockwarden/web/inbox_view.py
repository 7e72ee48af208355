"""The alerts inbox: live alerts grouped under the draft PO that answers them.

Most warnings mean "order now", and a draft PO line for the same SKU-location already answers them:
such alerts are shown under their PO (supplier, order-by date, value), so that one decision (approve
the PO) settles them all. Alerts without a draft line are listed after the groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from stockwarden.domain.actor import Actor
from stockwarden.domain.risk import LEVEL_RANK

OPEN_LINE_STATUSES = ("draft", "changed")


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """Which alerts: ``view`` mine / locations / all, levels and states."""

    view: str = "all"
    levels: tuple[str, ...] = ()
    states: tuple[str, ...] = ()


@dataclass
class PoGroup:
    """A draft PO and the alerts its lines answer."""

    po_id: str
    supplier_id: str
    location_id: str
    order_by_date: Any
    expected_arrival_date: Any
    value: float
    line_ids: list[int] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    worst_level: str = "ok"


@dataclass
class Inbox:
    """Groups under draft POs, then the alerts no draft PO answers."""

    groups: list[PoGroup]
    loose: list[dict[str, Any]]
    total: int


def _read(engine: Engine, sql: str, **params: Any) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(sa.text(sql), conn, params=params)


def build_inbox(engine: Engine, actor: Actor, q: InboxQuery) -> Inbox:
    """The inbox of ``actor`` for the query (scope applied before anything is counted)."""
    alerts = _read(
        engine,
        "SELECT id AS alert_id, sku, location_id, level, state, stockout_probability, expected_stockout_date, "
        "reasons, category, roles, opened_at, snoozed_until, days_of_cover, suggested_order_qty "
        "FROM alerts WHERE state <> 'resolved'",
    )
    if actor.scope.locations:
        alerts = alerts[alerts["location_id"].isin(actor.scope.locations)]
    if actor.scope.categories:
        alerts = alerts[alerts["category"].isin(actor.scope.categories)]
    if q.view == "mine":
        mine = {str(r) for r in actor.roles}
        alerts = alerts[alerts["roles"].fillna("").map(lambda s: bool(mine & set(str(s).split(";"))))]
    elif q.view == "locations" and actor.scope.locations:
        alerts = alerts[alerts["location_id"].isin(actor.scope.locations)]
    if q.levels:
        alerts = alerts[alerts["level"].isin(q.levels)]
    if q.states:
        alerts = alerts[alerts["state"].isin(q.states)]
    alerts = alerts.assign(rank=alerts["level"].map(LEVEL_RANK).fillna(9)).sort_values(
        ["rank", "stockout_probability"], ascending=[True, False]
    )
    lines = _read(
        engine,
        "SELECT id, po_id, sku, location_id, supplier_id, qty, unit_cost, order_by_date, expected_arrival_date, "
        "status FROM order_proposal_lines WHERE status IN ('draft', 'changed')",
    )
    by_key: dict[tuple[str, str], dict[str, Any]] = {
        (str(r["sku"]), str(r["location_id"])): r for r in lines.to_dict("records")
    }
    groups: dict[str, PoGroup] = {}
    for po_id, po_lines in lines.groupby("po_id", sort=False):
        first = po_lines.iloc[0]
        groups[str(po_id)] = PoGroup(
            po_id=str(po_id),
            supplier_id=str(first["supplier_id"] or ""),
            location_id=str(first["location_id"]),
            order_by_date=pd.to_datetime(po_lines["order_by_date"]).min().date(),
            expected_arrival_date=pd.to_datetime(po_lines["expected_arrival_date"]).max().date(),
            value=float((po_lines["qty"] * po_lines["unit_cost"].fillna(0)).sum()),
            line_ids=[int(x) for x in po_lines["id"]],
        )
    loose: list[dict[str, Any]] = []
    for a in alerts.to_dict("records"):
        a["expected_stockout_date"] = (
            pd.to_datetime(a["expected_stockout_date"]).date() if a["expected_stockout_date"] else None
        )
        a["snoozed_until"] = pd.to_datetime(a["snoozed_until"]).date() if a["snoozed_until"] else None
        a["reasons"] = [r for r in str(a["reasons"] or "").split(";") if r]
        line = by_key.get((str(a["sku"]), str(a["location_id"])))
        if line is not None and str(line["po_id"]) in groups:
            a["line_qty"] = float(line["qty"])
            group = groups[str(line["po_id"])]
            group.alerts.append(a)
            if LEVEL_RANK.get(a["level"], 9) < LEVEL_RANK.get(group.worst_level, 9):
                group.worst_level = a["level"]
        else:
            loose.append(a)
    shown = [g for g in groups.values() if g.alerts]
    shown.sort(key=lambda g: (LEVEL_RANK.get(g.worst_level, 9), g.order_by_date, -len(g.alerts)))
    return Inbox(groups=shown, loose=loose, total=len(alerts))


__all__ = ["Inbox", "InboxQuery", "PoGroup", "build_inbox"]
