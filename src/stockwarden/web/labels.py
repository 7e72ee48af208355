"""Display names of the codes the pages show (levels, alert states and actions, reasons, statuses).

Each name is marked for the catalogues with :func:`~stockwarden.web.i18n.lazy` and translated where it
is shown; a test checks that every code of the domain enums has a name here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stockwarden.web.i18n import lazy

LEVELS: dict[str, str] = {
    "critical": lazy("Critical"),
    "warning": lazy("Warning"),
    "watch": lazy("Watch"),
    "ok": lazy("OK"),
}
SERVICE_ALLOCATIONS: dict[str, str] = {
    "flat": lazy("no: one level per class or category"),
    "stockout_days": lazy("to the fewest stockout days"),
    "lost_sales": lazy("to the least lost sales value"),
}
CHOICES: dict[str, str] = {**LEVELS, **SERVICE_ALLOCATIONS}
"""Display names of the rules form's choices."""
ALERT_STATES: dict[str, str] = {
    "open": lazy("open"),
    "acknowledged": lazy("acknowledged"),
    "snoozed": lazy("snoozed"),
    "escalated": lazy("escalated"),
    "resolved": lazy("resolved"),
}
ALERT_ACTIONS: dict[str, str] = {
    "opened": lazy("opened"),
    "updated": lazy("updated"),
    "worsened": lazy("worsened"),
    "improved": lazy("improved"),
    "acknowledged": lazy("acknowledged"),
    "snoozed": lazy("snoozed"),
    "woken": lazy("woken"),
    "escalated": lazy("escalated"),
    "resolved": lazy("resolved"),
    "auto_resolved": lazy("resolved automatically"),
    "commented": lazy("commented"),
    "feedback": lazy("feedback"),
    "covered": lazy("covered by a purchase order"),
    "reopened": lazy("reopened"),
}
VERDICTS: dict[str, str] = {
    "useful": lazy("useful"),
    "false_alarm": lazy("false alarm"),
    "already_handled": lazy("already handled"),
}
REASONS: dict[str, str] = {
    "already_out_of_stock": lazy("already out of stock"),
    "below_reorder_point": lazy("below the reorder point"),
    "demand_surge": lazy("demand surge"),
    "promotion_ahead": lazy("promotion ahead"),
    "event_ahead": lazy("event ahead"),
    "supplier_late": lazy("supplier running late"),
    "open_po_overdue": lazy("open PO overdue"),
    "short_delivery_risk": lazy("short delivery risk"),
    "stale_count": lazy("stock count is old"),
    "forecast_uncertain": lazy("forecast uncertain"),
    "lead_time_drift": lazy("lead time drifting"),
    "phantom_stock": lazy("possible phantom stock"),
    "no_open_order": lazy("no open order"),
    "stockout_before_expedite": lazy("stockout before an expedited order could arrive"),
}
PROPOSAL_STATUSES: dict[str, str] = {
    "draft": lazy("draft"),
    "approved": lazy("approved"),
    "rejected": lazy("rejected"),
    "changed": lazy("changed"),
    "exported": lazy("exported"),
    "withdrawn": lazy("withdrawn"),
    "cut_by_budget": lazy("cut by budget"),
    "pending_approval": lazy("pending approval"),
}
ROLES: dict[str, str] = {
    "admin": lazy("administrator"),
    "planner": lazy("planner"),
    "buyer": lazy("buyer"),
    "warehouse": lazy("warehouse"),
    "viewer": lazy("viewer"),
}
OVERRIDE_REASONS: dict[str, str] = {
    "demand_knowledge": lazy("I know demand will differ"),
    "promotion": lazy("promotion or event not in the data"),
    "supplier_issue": lazy("supplier issue"),
    "stock_elsewhere": lazy("stock available elsewhere"),
    "budget": lazy("budget"),
    "overstock": lazy("overstock, space or shelf life"),
    "phase_out": lazy("item being phased out"),
    "data_error": lazy("the data are wrong"),
    "already_ordered": lazy("already ordered outside stockwarden"),
    "other": lazy("other"),
}
RUN_STATUSES: dict[str, str] = {
    "running": lazy("running"),
    "completed": lazy("completed"),
    "failed": lazy("failed"),
    "already_completed": lazy("already completed"),
    "queued": lazy("queued"),
}


#: The names of the numbers behind a reason (``risk.reasons``: the stored ``reason_details``).
DETAIL_KEYS: dict[str, str] = {
    "on_hand": lazy("on hand"),
    "on_order": lazy("on order"),
    "forecast_daily": lazy("forecast per day"),
    "probability": lazy("probability"),
    "expedite_days": lazy("days for an expedited order"),
    "inventory_position": lazy("inventory position"),
    "reorder_point": lazy("reorder point"),
    "recent_daily_sales": lazy("recent sales per day"),
    "supplier_id": lazy("supplier"),
    "on_time_rate": lazy("on-time rate"),
    "mean_delay_days": lazy("mean delay (days)"),
    "count_age_days": lazy("days since the stock count"),
    "demand_cv": lazy("demand variation (CV)"),
    "date": lazy("date"),
    "name": lazy("name"),
    "kind": lazy("kind"),
    "severity": lazy("severity"),
    "detail": lazy("detail"),
    "po_id": lazy("PO"),
    "qty": lazy("quantity"),
    "p_short": lazy("probability of a short delivery"),
    "start_date": lazy("start"),
    "end_date": lazy("end"),
    "discount": lazy("discount"),
}

#: The phrases of an order line's explanation (``actions.replenish._explain``: "position 10 (on hand 10 + on
#: order 0 − backorders 0) ≤ reorder point 18; order-up-to 32 − position 10 = 22 → 24 (pack 12); MOQ 24 ok"),
#: longest first; ``%(a)s`` / ``%(b)s`` stand for the numbers of the phrase.
EXPLANATION_PHRASES: tuple[tuple[str, str], ...] = (
    (
        r"< order-up-to (\S+) at the review \(every (\S+) days\)",
        lazy("below the order-up-to level %(a)s at the review (every %(b)s days)"),
    ),
    (r"EOQ (\S+) \(demand (\S+)/yr\) is larger", lazy("EOQ %(a)s (demand %(b)s a year) is larger")),
    (r"capped at (\S+) by (\S+) days of cover", lazy("capped at %(a)s by %(b)s days of cover")),
    (r"raised to MOQ (\S+)", lazy("raised to the minimum order quantity %(a)s")),
    (r"MOQ (\S+) ok", lazy("minimum order quantity %(a)s met")),
    (r"order-up-to (\S+)", lazy("order-up-to level %(a)s")),
    (r"reorder point (\S+)", lazy("reorder point %(a)s")),
    (r"backorders (\S+)", lazy("backorders %(a)s")),
    (r"on hand (\S+)", lazy("on hand %(a)s")),
    (r"on order (\S+)", lazy("on order %(a)s")),
    (r"exported (\S+)", lazy("exported %(a)s")),
    (r"position (\S+)", lazy("position %(a)s")),
    (r"\(pack (\S+)\)", lazy("(pack of %(a)s)")),
)

_COMPILED_PHRASES = tuple((re.compile(r"(?<![\w-])" + p), m) for p, m in EXPLANATION_PHRASES)
_ANY_PHRASE = re.compile("|".join(f"(?<![\\w-])(?:{p})" for p, _ in EXPLANATION_PHRASES))


def explanation(text: str | None, gettext: Callable[[str], str]) -> str:
    """An order line's explanation in the reader's language: its fixed phrases translated, numbers kept."""
    if not text:
        return ""
    # one pass: every phrase is translated once, earlier phrases first where several start at a place (a
    # translation is never read again, so one containing another phrase's words is not translated twice)
    out: list[str] = []
    pos = 0
    while (start := _ANY_PHRASE.search(text, pos)) is not None:
        out.append(text[pos : start.start()])
        for pattern, message in _COMPILED_PHRASES:
            m = pattern.match(text, start.start())
            if m:
                groups = m.groups()
                out.append(gettext(message) % {"a": groups[0], "b": groups[1] if len(groups) > 1 else ""})
                pos = m.end()
                break
    out.append(text[pos:])
    return "".join(out)


def label(table: dict[str, str], code: object) -> str:
    """The display name (still to translate) of ``code`` in ``table``; the code itself when unknown."""
    text = "" if code is None else str(code)
    return table.get(text, text)


__all__ = [
    "ALERT_ACTIONS",
    "ALERT_STATES",
    "CHOICES",
    "DETAIL_KEYS",
    "LEVELS",
    "OVERRIDE_REASONS",
    "PROPOSAL_STATUSES",
    "REASONS",
    "ROLES",
    "RUN_STATUSES",
    "SERVICE_ALLOCATIONS",
    "VERDICTS",
    "label",
]
