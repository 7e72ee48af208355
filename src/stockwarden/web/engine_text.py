"""The engine's English sentences in the reader's language, at the display edge.

The engine stores its explanations in English (anomaly details, data-health warnings and their
examples, the notes the alert lifecycle writes into the handling log, rules-version comments); the
stored text is never changed. Here each known sentence shape is a regular expression with named
groups and a catalogue message with the same names, so ``"PO PO000288 (ELE-0003 at WH-SH, 160 units
from SUP-02) is 39 days late: ..."`` becomes ``"采购单 PO000288（…）已逾期 39 天：…"``; numbers and ids
are kept, ISO dates are localised.

Group names carry how a value is shown:

* ``x_*``: a phrase of its own, translated recursively (``"promised"``, ``"the other suppliers"``);
* ``r_*``: a ``;``-separated list of reason codes (the alert lifecycle's ``reasons a;b``);
* ``l_*``: a risk level code;
* anything else is kept as is, except an ISO date, which is localised.

A text that matches no whole sentence is split at ``"; "`` and each part translated on its own; a part
that matches nothing stays as stored (``tests/web/test_i18n.py`` renders every page in Chinese on the
demo company and fails on English words left over, so a new engine sentence is noticed).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from stockwarden.web import labels
from stockwarden.web.i18n import Translator, lazy

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_N = r"[-+]?[\d.,]+(?:e[-+]?\d+)?"  # a number as the engine prints it (:g, :.1f, 1,234.50)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One sentence shape: a full-match regular expression and its catalogue message."""

    pattern: re.Pattern[str]
    message: str


def _p(pattern: str, message: str) -> Phrase:
    return Phrase(re.compile(pattern), message)


#: Whole sentences and the parts of ``"; "``-joined notes, tried in order (first full match wins).
PHRASES: tuple[Phrase, ...] = (
    # --- anomalies (anomaly/supply.py, demand.py, stock.py): the "detail" column ---
    _p(
        rf"PO (?P<po>\S+) \((?P<sku>.+?) at (?P<loc>.+?), (?P<qty>{_N}) units from (?P<sup>.+?)\) is (?P<days>{_N}) "
        r"days late: (?P<x_promise>promised|expected \(nominal lead time\)) (?P<date>\S+), still not received",
        lazy(
            "PO %(po)s (%(sku)s at %(loc)s, %(qty)s units from %(sup)s) is %(days)s days late: "
            "%(promise)s %(date)s, still not received"
        ),
    ),
    _p(
        rf"(?P<sup>.+?) delivered only (?P<got>{_N}) of (?P<qty>{_N}) units of (?P<sku>.+?) on PO (?P<po>\S+) "
        r"\((?P<pct>\d+%)\) on (?P<date>\S+)",
        lazy("%(sup)s delivered only %(got)s of %(qty)s units of %(sku)s on PO %(po)s (%(pct)s) on %(date)s"),
    ),
    _p(
        rf"(?P<sup>.+?): (?P<x_stat>median|mean) (?P<x_what>delay|lead time) (?P<x_dir>rose|fell) from (?P<a>{_N}) "
        rf"to (?P<b>{_N}) days over the last (?P<n>\d+) deliveries \(since (?P<since>\S+), detected (?P<det>\S+)\)",
        lazy(
            "%(sup)s: %(stat)s %(what)s %(dir)s from %(a)s to %(b)s days over the last %(n)s deliveries "
            "(since %(since)s, detected %(det)s)"
        ),
    ),
    _p(
        r"(?P<sup>.+?): only (?P<k>\d+) of the last (?P<n>\d+) deliveries on time \((?P<rate>\d+%)\), "
        r"against (?P<ref>\d+%) for (?P<x_ref>its own past|the other suppliers)",
        lazy("%(sup)s: only %(k)s of the last %(n)s deliveries on time (%(rate)s), against %(ref)s for %(ref_who)s"),
    ),
    _p(
        rf"(?P<sup>.+?): delivery dates became erratic: delays over the last (?P<n>\d+) deliveries vary by "
        rf"\u00b1(?P<a>{_N}) days \(standard deviation\) against \u00b1(?P<b>{_N}) before",
        lazy(
            "%(sup)s: delivery dates became erratic: delays over the last %(n)s deliveries vary by ±%(a)s days "
            "(standard deviation) against ±%(b)s before"
        ),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): sold (?P<obs>{_N}) units (?P<x_span>on \S+|in the week to \S+) "
        rf"against about (?P<exp>{_N}) expected",
        lazy("%(sku)s at %(loc)s: sold %(obs)s units %(span)s against about %(exp)s expected"),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): sold only (?P<obs>{_N}) units (?P<x_span>on \S+|in the week to \S+) "
        rf"against about (?P<exp>{_N}) expected",
        lazy("%(sku)s at %(loc)s: sold only %(obs)s units %(span)s against about %(exp)s expected"),
    ),
    _p(r"explained by (?P<x_why>.+)", lazy("explained by %(why)s")),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): (?P<oh>{_N}) units on record but no sale for (?P<z>\d+) days "
        r"\(it usually sells on (?P<rate>\d+%) of days; chance of such a gap (?P<x_p>.+?)\): check the shelf",
        lazy(
            "%(sku)s at %(loc)s: %(oh)s units on record but no sale for %(z)s days (it usually sells on %(rate)s "
            "of days; chance of such a gap %(p)s): check the shelf"
        ),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): sales since the count of (?P<c>{_N}) on (?P<date>\S+) exceed the stock "
        rf"plus receipts by (?P<n>{_N}) units \(unrecorded receipt or wrong count\)",
        lazy(
            "%(sku)s at %(loc)s: sales since the count of %(c)s on %(date)s exceed the stock plus receipts by "
            "%(n)s units (unrecorded receipt or wrong count)"
        ),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): last counted (?P<age>\d+) days ago \((?P<date>\S+)\) while (?P<n>{_N}) "
        r"units were sold since",
        lazy("%(sku)s at %(loc)s: last counted %(age)s days ago (%(date)s) while %(n)s units were sold since"),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): counted (?P<oh>{_N}) on (?P<date>\S+), (?P<d>{_N}) "
        r"(?P<x_what>more than expected \(unrecorded receipt or return\?\)|less than expected \(unrecorded "
        rf"shrinkage or sales\?\)); the count of (?P<pc>{_N}) on (?P<pd>\S+) rolled forward gives (?P<exp>{_N})",
        lazy(
            "%(sku)s at %(loc)s: counted %(oh)s on %(date)s, %(d)s %(what)s; the count of %(pc)s on %(pd)s "
            "rolled forward gives %(exp)s"
        ),
    ),
    _p(
        rf"(?P<sku>.+?) at (?P<loc>.+?): count of (?P<n>{_N}) on (?P<date>\S+)",
        lazy("%(sku)s at %(loc)s: count of %(n)s on %(date)s"),
    ),
    # --- data-health warnings (ingest/health.py): the message and its examples ---
    _p(
        r"There are no (?P<x_what>sales|stock counts) on or before (?P<date>\S+): stock cannot be assessed "
        r"without them\.",
        lazy("There are no %(what)s on or before %(date)s: stock cannot be assessed without them."),
    ),
    _p(
        r"No items table: pack sizes, minimum order quantities, lead times and service levels fall back to the "
        r"defaults\.",
        lazy(
            "No items table: pack sizes, minimum order quantities, lead times and service levels fall back to the "
            "defaults."
        ),
    ),
    _p(
        r"No purchase orders: stock already on order is unknown and counted as zero, so risk may be overstated\.",
        lazy("No purchase orders: stock already on order is unknown and counted as zero, so risk may be overstated."),
    ),
    _p(
        r"The newest stock count at (?P<loc>.+?) is from (?P<date>\S+), (?P<age>\d+) days before (?P<day>\S+) "
        r"\(limit (?P<lim>\d+)\): its on-hand stock is an estimate rolled forward from sales and receipts; "
        r"count it again\.",
        lazy(
            "The newest stock count at %(loc)s is from %(date)s, %(age)s days before %(day)s (limit %(lim)s): its "
            "on-hand stock is an estimate rolled forward from sales and receipts; count it again."
        ),
    ),
    _p(
        r"(?P<n>\d+) SKU-locations still selling have not been counted for more than (?P<lim>\d+) days although "
        r"their location counts other items; their stock is an estimate\.",
        lazy(
            "%(n)s SKU-locations still selling have not been counted for more than %(lim)s days although their "
            "location counts other items; their stock is an estimate."
        ),
    ),
    _p(
        r"(?P<n>\d+) SKU-locations have sales but no stock count, so their on-hand stock is unknown; add them to "
        r"the inventory export\.",
        lazy(
            "%(n)s SKU-locations have sales but no stock count, so their on-hand stock is unknown; add them to "
            "the inventory export."
        ),
    ),
    _p(
        r"(?P<a>\d+) open purchase order lines? \((?P<b>\d+) POs?\) (?:is|are) more than (?P<lim>\d+) days past "
        r"their promised date: chase the supplier, or close them if they will not come\.",
        lazy(
            "%(a)s open purchase order lines (%(b)s POs) are more than %(lim)s days past their promised date: "
            "chase the supplier, or close them if they will not come."
        ),
    ),
    _p(
        r"No sales recorded at (?P<x_where>any location|\d+ of \d+ locations) for more than (?P<lim>\d+) days "
        r"before (?P<date>\S+): the sales feed may have stopped, and demand there would look like zero\.",
        lazy(
            "No sales recorded at %(where)s for more than %(lim)s days before %(date)s: the sales feed may have "
            "stopped, and demand there would look like zero."
        ),
    ),
    _p(r"(?P<a>\d+) of (?P<b>\d+) locations", lazy("%(a)s of %(b)s locations")),
    _p(
        r"No purchase order was placed or received since (?P<since>\S+) \((?P<n>\d+) days before (?P<date>\S+)\): "
        r"the purchase-order export may be stale, and stock on order would be missed\.",
        lazy(
            "No purchase order was placed or received since %(since)s (%(n)s days before %(date)s): the "
            "purchase-order export may be stale, and stock on order would be missed."
        ),
    ),
    _p(
        r"(?P<n>\d+) items have no lead time, neither their own nor their supplier's: it will be learned from past "
        r"deliveries, else the configured default is used\.",
        lazy(
            "%(n)s items have no lead time, neither their own nor their supplier's: it will be learned from past "
            "deliveries, else the configured default is used."
        ),
    ),
    _p(
        r"(?P<n>\d+) (?P<x_table>sales|inventory|purchase orders) rows are dated after (?P<date>\S+); they are "
        r"ignored for results as of that date\.",
        lazy("%(n)s %(table)s rows are dated after %(date)s; they are ignored for results as of that date."),
    ),
    _p(r"(?P<loc>\S+): last sale (?P<date>\S+)", lazy("%(loc)s: last sale %(date)s")),
    _p(r"last activity (?P<date>\S+)", lazy("last activity %(date)s")),
    _p(r"newest (?P<date>\S+)", lazy("newest %(date)s")),
    _p(r"(?P<sku>\S+) @ (?P<loc>\S+): last counted (?P<date>\S+)", lazy("%(sku)s @ %(loc)s: last counted %(date)s")),
    _p(
        r"(?P<po>\S+): (?P<sup>\S+) -> (?P<loc>\S+), (?P<n>\d+) lines?, (?P<d>\d+) days late",
        lazy("%(po)s: %(sup)s → %(loc)s, %(n)s lines, %(d)s days late"),
    ),
    # --- the alert lifecycle's notes in the handling log (alerts/lifecycle.py) ---
    _p(rf"P\(stockout\) (?P<a>{_N})->(?P<b>{_N})", lazy("probability of a stockout %(a)s → %(b)s")),
    _p(rf"P\(stockout\) (?P<a>{_N}) < (?P<b>{_N})", lazy("probability of a stockout %(a)s < %(b)s")),
    _p(rf"P\(stockout\) (?P<a>{_N})", lazy("probability of a stockout %(a)s")),
    _p(r"date (?P<a>\S+)->(?P<b>\S+)", lazy("expected stockout %(a)s → %(b)s")),
    _p(r"date (?P<a>\S+)", lazy("expected stockout %(a)s")),
    _p(r"reasons (?P<r_a>\S+)->(?P<r_b>\S+)", lazy("reasons %(a)s → %(b)s")),
    _p(r"reasons (?P<r_a>\S+)", lazy("reasons %(a)s")),
    _p(r"level (?P<l_a>\w+)->(?P<l_b>\w+)", lazy("level %(a)s → %(b)s")),
    _p(r"snooze ended (?P<date>\S+)", lazy("snooze ended %(date)s")),
    _p(r"below (?P<l_level>\w+) for (?P<n>\d+) run\(s\)", lazy("below %(level)s for %(n)s runs")),
    _p(r"level rose above (?P<l_level>\w+)", lazy("level rose above %(level)s")),
    _p(r"risk rose to (?P<l_level>\w+); opened a new alert", lazy("risk rose to %(level)s; opened a new alert")),
    _p(r"risk cleared; a new alert opens if it returns", lazy("risk cleared; a new alert opens if it returns")),
    _p(r"critical and unacknowledged for (?P<d>.+)", lazy("critical and unacknowledged for %(d)s")),
    _p(r"until (?P<date>\S+) and until worse", lazy("until %(date)s and until it gets worse")),
    _p(r"until worse", lazy("until it gets worse")),
    _p(r"until (?P<date>\d{4}-\d\d-\d\d)", lazy("until %(date)s")),
    _p(
        rf"value (?P<v>{_N}) \u2264 auto-approve limit (?P<lim>{_N})",
        lazy("value %(v)s ≤ auto-approve limit %(lim)s"),
    ),
    _p(r"re-proposed as of (?P<date>\S+): (?P<e_why>.+)", lazy("re-proposed as of %(date)s: %(why)s")),
    _p(r"(?P<c_v>useful|false_alarm|already_handled): (?P<note>.*)", lazy("%(v)s: %(note)s")),
    # --- reasons of rejected rows (ingest/parse.py, ingest/validate.py); the column is the file's header ---
    _p(r"(?P<col>\w+) is empty but required", lazy("%(col)s is empty but required")),
    _p(r"(?P<col>\w+) must be one of (?P<choices>.+)", lazy("%(col)s must be one of %(choices)s")),
    _p(
        r"(?P<col>\w+) is ambiguous: day-first or month-first is not stated; write YYYY-MM-DD or give the day/month "
        r"order with --date-order dmy or mdy \(or date_order in the mapping file\)",
        lazy(
            "%(col)s is ambiguous: day-first or month-first is not stated; write YYYY-MM-DD or give the day/month "
            "order with --date-order dmy or mdy (or date_order in the mapping file)"
        ),
    ),
    _p(
        r"(?P<col>\w+) is outside the supported range (?P<a>\S+) to (?P<b>\S+)",
        lazy("%(col)s is outside the supported range %(a)s to %(b)s"),
    ),
    _p(
        r"(?P<col>\w+) is not a date \(expected YYYY-MM-DD, YYYY/MM/DD, YYYY\.MM\.DD, YYYYMMDD or YYYY年M月D日\)",
        lazy("%(col)s is not a date (expected YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD or YYYY年M月D日)"),
    ),
    _p(r"(?P<col>\w+) must be 0 or 1", lazy("%(col)s must be 0 or 1")),
    _p(r"(?P<col>\w+) is not a finite number", lazy("%(col)s is not a finite number")),
    _p(
        r"(?P<col>\w+) is not a number \(decimal comma: 1,5 or 1\.234,5; groups of three only\)",
        lazy("%(col)s is not a number (decimal comma: 1,5 or 1.234,5; groups of three only)"),
    ),
    _p(
        r"(?P<col>\w+) is not a number: a comma is read only as a thousands separator in groups of three "
        r"\(1,234\); for decimal commas \(1,5\) give --decimal-comma \(or decimal_comma in the mapping file\)",
        lazy(
            "%(col)s is not a number: a comma is read only as a thousands separator in groups of three (1,234); "
            "for decimal commas (1,5) give --decimal-comma (or decimal_comma in the mapping file)"
        ),
    ),
    _p(r"(?P<col>\w+) is not a number", lazy("%(col)s is not a number")),
    _p(r"(?P<col>\w+) must be greater than 0", lazy("%(col)s must be greater than 0")),
    _p(r"(?P<col>\w+) is negative", lazy("%(col)s is negative")),
    _p(rf"(?P<col>\w+) is below (?P<v>{_N})", lazy("%(col)s is below %(v)s")),
    _p(rf"(?P<col>\w+) is above (?P<v>{_N})", lazy("%(col)s is above %(v)s")),
    _p(r"(?P<col>\w+) must be a whole number", lazy("%(col)s must be a whole number")),
    _p(
        r"(?P<col>\w+) is not in (?P<table>\w+) \(add it to (?P=table) or correct the code\)",
        lazy("%(col)s is not in %(table)s (add it to %(table)s or correct the code)"),
    ),
    _p(
        r"the line has (?P<k>\d+) fields but the header has (?P<h>\d+) \(check quotes and separators\)",
        lazy("the line has %(k)s fields but the header has %(h)s (check quotes and separators)"),
    ),
    _p(r"received_date is before order_date", lazy("received_date is before order_date")),
    _p(r"promised_date is before order_date", lazy("promised_date is before order_date")),
    _p(r"status is received but received_date is empty", lazy("status is received but received_date is empty")),
    _p(r"end_date is before start_date", lazy("end_date is before start_date")),
    _p(r"max_qty is below min_qty \(the reorder point\)", lazy("max_qty is below min_qty (the reorder point)")),
    _p(
        r"sku (?P<v>.+) is also on line (?P<first>\d+); each sku must appear once in items",
        lazy("sku %(v)s is also on line %(first)s; each sku must appear once in items"),
    ),
    _p(
        r"line (?P<first>\d+) already has a different count for the same date, sku and location",
        lazy("line %(first)s already has a different count for the same date, sku and location"),
    ),
    # --- rules versions (services/rules.py) ---
    _p(r"seeded from the built-in defaults", lazy("seeded from the built-in defaults")),
    _p(r"seeded from (?P<path>.+)", lazy("seeded from %(path)s")),
)

#: Single words and fixed phrases the sentences above put inside their groups (``x_*``).
WORDS: dict[str, str] = {
    "promised": lazy("promised"),
    "expected (nominal lead time)": lazy("expected (nominal lead time)"),
    "median": lazy("median"),
    "mean": lazy("mean"),
    "delay": lazy("delay"),
    "lead time": lazy("lead time"),
    "rose": lazy("rose"),
    "fell": lazy("fell"),
    "its own past": lazy("its own past"),
    "the other suppliers": lazy("the other suppliers"),
    "a promotion": lazy("a promotion"),
    "under one in a million": lazy("under one in a million"),
    "more than expected (unrecorded receipt or return?)": lazy("more than expected (unrecorded receipt or return?)"),
    "less than expected (unrecorded shrinkage or sales?)": lazy("less than expected (unrecorded shrinkage or sales?)"),
    "sales": lazy("sales"),
    "stock counts": lazy("stock counts"),
    "any location": lazy("any location"),
    "inventory": lazy("inventory"),
    "purchase orders": lazy("purchase orders"),
}
_SPAN_DAY = re.compile(r"on (\S+)")
_SPAN_WEEK = re.compile(r"in the week to (\S+)")
_EVENT = re.compile(r"(?P<name>.+) \((?P<date>\d{4}-\d\d-\d\d)\)")

#: The faces an audited action came through (``domain.actor.Via``).
VIA: dict[str, str] = {
    "cli": lazy("command line"),
    "api": lazy("API"),
    "web": lazy("web app"),
    "system": lazy("system"),
}
#: Objects and verbs of audit actions (``alert.ack``, ``user.create``...): shown as "verb object".
AUDIT_ACTIONS: dict[str, str] = {
    "login.success": lazy("signed in"),
    "login.failure": lazy("sign-in failed"),
    "logout": lazy("signed out"),
    "alert.ack": lazy("acknowledged an alert"),
    "alert.snooze": lazy("snoozed an alert"),
    "alert.resolve": lazy("resolved an alert"),
    "alert.comment": lazy("commented on an alert"),
    "alert.feedback": lazy("gave feedback on an alert"),
    "user.create": lazy("created a user"),
    "user.password": lazy("changed a password"),
    "user.roles": lazy("changed roles and scope"),
    "user.language": lazy("changed the language"),
    "user.enable": lazy("enabled a user"),
    "user.disable": lazy("disabled a user"),
    "token.create": lazy("created an API token"),
    "token.revoke": lazy("revoked an API token"),
    "run.start": lazy("started a run"),
    "rules.seed": lazy("seeded the rules"),
    "rules.save": lazy("saved the rules"),
    "rules.rollback": lazy("rolled the rules back"),
    "rules.propose": lazy("proposed rules for approval"),
    "rules.approve": lazy("approved proposed rules"),
    "rules.reject": lazy("rejected proposed rules"),
    "proposal.approve": lazy("approved a proposal"),
    "proposal.reject": lazy("rejected a proposal"),
    "proposal.change": lazy("changed a proposal"),
    "proposal.export": lazy("exported proposals"),
    "proposal.exported": lazy("marked proposals exported"),
    "proposal.create": lazy("made order proposals"),
    "outbox.requeue": lazy("re-queued failed notifications"),
    "data.import": lazy("imported data"),
    "api.error": lazy("API error"),
}
OBJECT_TYPES: dict[str, str] = {
    "alert": lazy("alert"),
    "user": lazy("user"),
    "token": lazy("token"),
    "run": lazy("run"),
    "rules": lazy("rules"),
    "proposal": lazy("proposal"),
    "export": lazy("export"),
    "import_batch": lazy("import"),
    "proposals": lazy("order proposals"),
    "outbox": lazy("notifications"),
}
#: Where the rules version came from (``rules_versions.source``).
RULES_SOURCES: dict[str, str] = {
    "defaults": lazy("built-in defaults"),
    "web": lazy("web app"),
    "api": lazy("API"),
    "cli": lazy("command line"),
    "file": lazy("file"),
    "rollback": lazy("roll back"),
}
#: Demand classes (Syntetos-Boylan, ``forecast.classify``).
DEMAND_CLASSES: dict[str, str] = {
    "smooth": lazy("smooth"),
    "erratic": lazy("erratic"),
    "intermittent": lazy("intermittent"),
    "lumpy": lazy("lumpy"),
}
#: Approval roles of ``orders.approver_roles`` that ship with the defaults (others are the company's own names).
APPROVER_ROLES: dict[str, str] = {
    "buyer": lazy("buyer"),
    "manager": lazy("manager"),
    "director": lazy("director"),
}
#: Statuses of an import batch (``import_batches.status``).
IMPORT_STATUSES: dict[str, str] = {
    "done": lazy("done"),
    "running": lazy("running"),
    "failed": lazy("failed"),
    "partial": lazy("partial"),
}
#: The dataset tables (``ingest.schema.TABLES``): shown with their file name, which the user must keep.
TABLES: dict[str, str] = {
    "items": lazy("items"),
    "locations": lazy("locations"),
    "suppliers": lazy("suppliers"),
    "sales": lazy("sales"),
    "inventory": lazy("stock counts"),
    "purchase_orders": lazy("purchase orders"),
    "promotions": lazy("promotions"),
    "events": lazy("events"),
    "reorder_rules": lazy("reorder rules"),
}
#: The system actor's name as shown.
SYSTEM_USER = "system"


def _value(name: str, value: str | None, t: Translator) -> str:
    if value is None:
        return ""
    if name == "x_why" and (m := _EVENT.fullmatch(value)):  # a calendar event: "Double 11 (2025-11-11)"
        return f"{m.group('name')} ({_value('date', m.group('date'), t)})"
    if name.startswith("x_"):
        return phrase(value, t)
    if name.startswith("r_"):
        if value == "-":
            return "—"
        sep = "、" if t.language == "zh_CN" else ", "
        return sep.join(t.gettext(labels.label(labels.REASONS, c)) for c in value.split(";") if c)
    if name.startswith("l_"):
        return t.gettext(labels.label(labels.LEVELS, value))
    if name.startswith("e_"):
        return labels.explanation(value, t.gettext)
    if name.startswith("c_"):
        return t.gettext(labels.label(labels.VERDICTS, value))
    if _DATE.match(value):
        return t.date(dt.date.fromisoformat(value))
    return value


def _key(name: str) -> str:
    """The placeholder of a group: its name without the kind prefix (``x_ref`` is ``ref_who``)."""
    if name == "x_ref":
        return "ref_who"
    return name[2:] if name[:2] in ("x_", "r_", "l_", "c_", "e_") else name


def phrase(text: str, t: Translator) -> str:
    """One phrase or sentence translated when its shape is known, else ``text`` unchanged."""
    if text in WORDS:
        return t.gettext(WORDS[text])
    if m := _SPAN_DAY.fullmatch(text):
        return t.gettext(lazy("on %(date)s")) % {"date": _value("date", m.group(1), t)}
    if m := _SPAN_WEEK.fullmatch(text):
        return t.gettext(lazy("in the week to %(date)s")) % {"date": _value("date", m.group(1), t)}
    for p in PHRASES:
        if m := p.pattern.fullmatch(text):
            values = {_key(k): _value(k, v, t) for k, v in m.groupdict().items()}
            return t.gettext(p.message) % values
    return text


def engine_text(text: object, t: Translator) -> str:
    """A sentence the engine stored in English, in ``t``'s language (see the module docstring)."""
    if text is None:
        return ""
    s = str(text)
    if not s:
        return s
    whole = phrase(s, t)
    if whole is not s and whole != s:
        return whole
    if "; " not in s:
        return whole
    parts = s.split("; ")
    shown = [phrase(part, t) for part in parts]
    if shown == parts:  # nothing known in it (a comment a user typed): as it was written
        return s
    sep = "；" if t.language == "zh_CN" else "; "
    return sep.join(shown)


def via(code: object, t: Translator) -> str:
    """The face an audited action came through (``web`` → "web app")."""
    return t.gettext(labels.label(VIA, code))


def audit_action(code: object, t: Translator) -> str:
    """An audit action code as a phrase (``alert.ack`` → "acknowledged an alert"); unknown codes as they are."""
    return t.gettext(labels.label(AUDIT_ACTIONS, code))


def user_name(name: object, t: Translator) -> str:
    """A user's name; the engine's own actor (``system``) in the reader's language."""
    text = "" if name is None else str(name)
    return t.gettext(VIA["system"]) if text == SYSTEM_USER else text


def table_label(name: object, t: Translator) -> str:
    """A dataset table by its name in ``t``'s language and its file name, which stays (``商品 (items)``)."""
    code = "" if name is None else str(name)
    shown = t.gettext(TABLES[code]) if code in TABLES else code
    return code if shown == code else f"{shown} ({code})"


def bind(t: Translator) -> dict[str, Callable[..., str]]:
    """The template helpers of this module bound to a request's translator."""
    return {
        "engine_text": lambda text: engine_text(text, t),
        "via_label": lambda code: via(code, t),
        "audit_action_label": lambda code: audit_action(code, t),
        "object_type_label": lambda code: t.gettext(labels.label(OBJECT_TYPES, code)),
        "rules_source_label": lambda code: t.gettext(labels.label(RULES_SOURCES, code)),
        "demand_class_label": lambda code: t.gettext(labels.label(DEMAND_CLASSES, code)),
        "approver_role_label": lambda code: t.gettext(labels.label(APPROVER_ROLES, code)),
        "import_status_label": lambda code: t.gettext(labels.label(IMPORT_STATUSES, code)),
        "user_name": lambda name: user_name(name, t),
        "table_label": lambda name: table_label(name, t),
    }


__all__ = [
    "AUDIT_ACTIONS",
    "DEMAND_CLASSES",
    "PHRASES",
    "VIA",
    "audit_action",
    "bind",
    "engine_text",
    "phrase",
    "user_name",
    "via",
]
