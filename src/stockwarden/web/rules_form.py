"""The rules editor's form: which settings it shows, how a posted form becomes rules, and back.

The form edits a copy of the rules it was opened on (every setting it does not show is kept as it was).
Numbers are read strictly: a value that is not a number is an error on its field, never a guess.
Service levels and probabilities are shown in percent. The rules built from the form are then
validated by ``services.rules`` (the same Pydantic models as the API and the TOML file).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from stockwarden.web.i18n import lazy

THRESHOLD_KEYS = ("critical_probability", "warning_probability", "order_now_probability", "watch_probability")
CHANNEL_LEVELS = ("critical", "warning", "watch")
MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class Field:
    """One setting of the form: its dotted path, kind (pct, float, int, optfloat, bool, text, opttext, choice)."""

    path: str
    label: str
    kind: str
    help: str = ""
    choices: tuple[str, ...] = ()


SECTIONS: tuple[tuple[str, str, tuple[Field, ...]], ...] = (
    (
        "service",
        lazy("Service levels"),
        (
            Field(
                "risk.service_level",
                lazy("Default service level (%)"),
                "pct",
                lazy("used when no class or category sets one"),
            ),
            Field(
                "risk.service_level_by_abc.A", lazy("Class A (%)"), "pct", lazy("the items making most of the value")
            ),
            Field("risk.service_level_by_abc.B", lazy("Class B (%)"), "pct"),
            Field("risk.service_level_by_abc.C", lazy("Class C (%)"), "pct"),
            Field(
                "risk.service_allocation",
                lazy("Spread each category's target over its items"),
                "choice",
                lazy("the same expected shortage at the least inventory value"),
                ("flat", "stockout_days", "lost_sales"),
            ),
            Field("risk.service_level_floor", lazy("Lowest level the spreading may give (%)"), "pct"),
            Field("risk.service_level_ceiling", lazy("Highest level the spreading may give (%)"), "pct"),
        ),
    ),
    (
        "levels",
        lazy("Level thresholds"),
        (
            Field(
                "risk.thresholds.critical_probability",
                lazy("Critical from (%)"),
                "pct",
                lazy("chance of a stockout before an expedited order could arrive"),
            ),
            Field(
                "risk.thresholds.warning_probability",
                lazy("Warning from (%)"),
                "pct",
                lazy("chance of a stockout within lead time plus review period"),
            ),
            Field(
                "risk.thresholds.order_now_probability",
                lazy("Order now from (%)"),
                "pct",
                lazy("chance of a stockout that an order placed today can still prevent"),
            ),
            Field("risk.thresholds.watch_probability", lazy("Watch from (%)"), "pct"),
        ),
    ),
    (
        "review",
        lazy("Review periods and lead times"),
        (
            Field(
                "risk.review_period_days",
                lazy("Review period (days)"),
                "int",
                lazy("days between order reviews, added to the lead time"),
            ),
            Field("risk.expedite_lead_time_days", lazy("Expedited order arrives in (days)"), "float"),
            Field(
                "leadtime.default_lead_time_days",
                lazy("Lead time when nothing is known (days)"),
                "float",
                lazy("used for suppliers without received orders"),
            ),
            Field("leadtime.fallback_cv", lazy("Spread of that lead time (coefficient of variation)"), "float"),
            Field("leadtime.max_days", lazy("Longest lead time considered (days)"), "int"),
            Field(
                "leadtime.adapt_to_shifts",
                lazy("Follow a supplier's lead-time changes"),
                "bool",
                lazy("after a detected change, use only the deliveries since"),
            ),
        ),
    ),
    (
        "lots",
        lazy("Lot sizing and approval"),
        (
            Field("orders.use_eoq", lazy("Order at least the economic order quantity"), "bool"),
            Field("orders.ordering_cost", lazy("Cost of placing one order line"), "float"),
            Field("orders.holding_rate", lazy("Holding cost per year (share of unit cost)"), "float"),
            Field("orders.demand_window_days", lazy("Days of demand behind the EOQ"), "int"),
            Field(
                "orders.max_cover_days",
                lazy("Never order more than this many days of cover (empty: no cap)"),
                "optfloat",
            ),
            Field("orders.default_min_order_value", lazy("Minimum order value of a supplier (0: none)"), "float"),
            Field("orders.budget", lazy("Cash budget per run (empty: none)"), "optfloat"),
            Field("orders.auto_approve_max_value", lazy("Approve lines automatically up to this value"), "float"),
        ),
    ),
    (
        "alerts",
        lazy("Alerts and escalation"),
        (
            Field(
                "alerts.open_level", lazy("Open an alert from level"), "choice", "", ("watch", "warning", "critical")
            ),
            Field(
                "alerts.escalate_after_hours", lazy("Escalate a critical alert left unacknowledged (hours)"), "float"
            ),
            Field("alerts.clear_after_runs", lazy("Close after this many runs below the level"), "int"),
            Field("alerts.clear_probability", lazy("Close at once below this chance (%)"), "pct"),
        ),
    ),
    (
        "quiet",
        lazy("Quiet hours"),
        (
            Field("notify.quiet_hours", lazy("Hold digests during (HH:MM-HH:MM, empty: never)"), "opttext"),
            Field("notify.timezone", lazy("Time zone (IANA name, e.g. Asia/Shanghai)"), "text"),
        ),
    ),
)

TABLES: dict[str, tuple[str, str, str]] = {
    # path: (title, key label, value kind)
    "risk.service_level_by_category": (lazy("Service level per category (%)"), lazy("Category"), "pct"),
    "risk.review_period_days_by_category": (lazy("Review period per category (days)"), lazy("Category"), "int"),
    "orders.supplier_min_order_value": (lazy("Minimum order value per supplier"), lazy("Supplier"), "float"),
    "orders.approver_roles": (lazy("Approval limit per role (value of one line)"), lazy("Role"), "float"),
}


def get_path(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (None when absent)."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path (creating dicts on the way; None removes the key)."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def shown(value: Any, kind: str) -> str:
    """A setting as the form shows it (percent for pct, plain decimal numbers for input type=number)."""
    if value is None:
        return ""
    if kind == "pct":  # two decimals of a percent; an untouched field keeps the exact stored value
        return _plain(round(float(value) * 100, 2))
    if kind in ("float", "optfloat", "int"):
        return _plain(float(value))
    return str(value)


def _plain(x: float) -> str:
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


class FormProblems(dict[str, str]):
    """Field path -> message (still to translate, with ``%(value)s``)."""


def _number(raw: str, kind: str, path: str, problems: FormProblems) -> Any:
    text = raw.strip()
    if text == "":
        if kind.startswith("opt"):
            return None
        problems[path] = lazy("A value is needed.")
        return None
    try:
        value = float(text)
    except ValueError:
        problems[path] = lazy("%(value)s is not a number (use digits and a dot for decimals).")
        problems[path + "#value"] = text
        return None
    if not math.isfinite(value):
        problems[path] = lazy("%(value)s is not a number (use digits and a dot for decimals).")
        problems[path + "#value"] = text
        return None
    if kind == "int":
        if value != int(value):
            problems[path] = lazy("%(value)s is not a whole number.")
            problems[path + "#value"] = text
            return None
        return int(value)
    if kind == "pct":
        return value / 100.0
    return value


def _read(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _list(text: str) -> list[str]:
    return [x.strip() for x in text.replace("，", ",").split(",") if x.strip()]


def apply_form(base: dict[str, Any], form: FormData) -> tuple[dict[str, Any], FormProblems]:
    """The rules of ``base`` (a ``model_dump(mode="json")``) with the form's values; and the problems found."""
    data = copy.deepcopy(base)
    problems = FormProblems()
    for _key, _title, fields in SECTIONS:
        for f in fields:
            name = "f:" + f.path
            if f.kind == "bool":
                set_path(data, f.path, _read(form, name) == "1")
            elif f.kind in ("text", "opttext", "choice"):
                text = _read(form, name).strip()
                if f.kind == "choice" and text not in f.choices:
                    problems[f.path] = lazy("Choose one of the offered values.")
                    continue
                set_path(data, f.path, text or (None if f.kind == "opttext" else ""))
            else:
                if name not in form:
                    continue
                if _read(form, name).strip() == shown(get_path(base, f.path), f.kind):
                    continue  # untouched: keep the exact value (a percentage shown rounded is not re-read)
                value = _number(_read(form, name), f.kind, f.path, problems)
                if value is not None or f.kind.startswith("opt"):
                    set_path(data, f.path, value)
    for path, (_title, _key_label, kind) in TABLES.items():
        keys = [k if isinstance(k, str) else "" for k in form.getlist(f"t:{path}:key")][:MAX_ROWS]
        values = [v if isinstance(v, str) else "" for v in form.getlist(f"t:{path}:value")][:MAX_ROWS]
        if f"t:{path}:present" not in form:
            continue
        table: dict[str, Any] = {}
        for i, (key, raw) in enumerate(zip(keys, values, strict=False)):
            key = key.strip()
            if not key and not raw.strip():
                continue
            where = f"{path}.{key or '#' + str(i + 1)}"
            if not key:
                problems[where] = lazy("Give the name this value applies to.")
                continue
            if key in table:
                problems[where] = lazy("%(value)s is listed twice.")
                problems[where + "#value"] = key
                continue
            before = (get_path(base, path) or {}).get(key)
            if before is not None and raw.strip() == shown(before, kind):
                table[key] = before  # untouched: the exact value
                continue
            value = _number(raw, kind, where, problems)
            if value is not None:
                table[key] = value
        set_path(data, path, table)
    _apply_category_thresholds(data, base, form, problems)
    _apply_channels(data, form, problems)
    return data, problems


def _apply_category_thresholds(
    data: dict[str, Any], base: dict[str, Any], form: FormData, problems: FormProblems
) -> None:
    path = "risk.thresholds_by_category"
    if f"t:{path}:present" not in form:
        return
    cats = [c if isinstance(c, str) else "" for c in form.getlist(f"t:{path}:key")][:MAX_ROWS]
    default = get_path(data, "risk.thresholds") or {}
    out: dict[str, Any] = {}
    for i, cat in enumerate(cats):
        cat = cat.strip()
        raws = [_read_nth(form, f"t:{path}:{k}", i) for k in THRESHOLD_KEYS]
        if not cat and not any(r.strip() for r in raws):
            continue
        where = f"{path}.{cat or '#' + str(i + 1)}"
        if not cat:
            problems[where] = lazy("Give the name this value applies to.")
            continue
        row: dict[str, Any] = {}
        old_row = (get_path(base, path) or {}).get(cat) or {}
        for key, raw in zip(THRESHOLD_KEYS, raws, strict=True):
            if key in old_row and raw.strip() == shown(old_row[key], "pct"):
                row[key] = old_row[key]
                continue
            value = _number(raw, "pct", f"{where}.{key}", problems) if raw.strip() else default.get(key)
            if value is not None:
                row[key] = value
        out[cat] = row
    set_path(data, path, out)


def _read_nth(form: FormData, name: str, i: int) -> str:
    values = form.getlist(name)
    value = values[i] if i < len(values) else ""
    return value if isinstance(value, str) else ""


def _apply_channels(data: dict[str, Any], form: FormData, problems: FormProblems) -> None:
    raw_count = _read(form, "ch:count")
    if not raw_count.isdigit():
        return
    channels = []
    for i in range(min(int(raw_count), MAX_ROWS)):
        p = f"ch:{i}:"
        name, url = _read(form, p + "name").strip(), _read(form, p + "url").strip()
        if _read(form, p + "remove") == "1" or (not name and not url):
            continue
        where = f"notify.channels.{i}"
        if not name or not url:
            problems[where] = lazy("A channel needs a name and an address (apprise URL).")
            continue
        quiet = _read(form, p + "quiet_hours").strip()
        channels.append(
            {
                "name": name,
                "url": url,
                "levels": [lv for lv in CHANNEL_LEVELS if _read(form, f"{p}level:{lv}") == "1"],
                "categories": _list(_read(form, p + "categories")),
                "locations": _list(_read(form, p + "locations")),
                "roles": _list(_read(form, p + "roles")),
                "language": "zh" if _read(form, p + "language") == "zh" else "en",
                "immediate_critical": _read(form, p + "immediate_critical") == "1",
                **({"quiet_hours": quiet} if quiet else {}),
            }
        )
    set_path(data, "notify.channels", channels)


_BOUND = re.compile(r"^Input should be (less|greater) than( or equal to)? (-?[0-9.eE+-]+)$")
_BOUND_MESSAGES = {
    ("less", False): lazy("Must be below %(limit)s."),
    ("less", True): lazy("Must be at most %(limit)s."),
    ("greater", False): lazy("Must be above %(limit)s."),
    ("greater", True): lazy("Must be at least %(limit)s."),
}


def kind_of(path: str) -> str | None:
    """The form kind of a setting's dotted path (``pct``, ``int``...), including table entries; None if not on
    the form."""
    for _key, _title, fields in SECTIONS:
        for f in fields:
            if f.path == path:
                return f.kind
    for table, (_title, _key_label, kind) in TABLES.items():
        if path.startswith(table + "."):
            return kind
    if path.startswith("risk.thresholds_by_category."):
        return "pct"
    return None


def error_paths(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Validation errors of ``services.rules`` (``loc``, ``msg``) by dotted path, in the unit the form shows.

    A bound ("Input should be less than 1") on a setting the form shows in percent is said in percent
    ("Must be below 100 %"), so that a planner who typed 150 is not told about 1; the bounds are
    translatable messages with the limit in ``<path>#limit``."""
    out: dict[str, str] = {}
    for e in errors:
        loc = str(e.get("loc", ""))
        msg = str(e.get("msg", ""))
        match = _BOUND.match(msg)
        kind = kind_of(loc)
        if match and kind is not None:
            side, or_equal, number = match.group(1), bool(match.group(2)), float(match.group(3))
            limit = f"{_plain(number * 100)} %" if kind == "pct" else _plain(number)
            out[loc] = _BOUND_MESSAGES[(side, or_equal)]
            out[loc + "#limit"] = limit
        else:
            out[loc] = msg
    return out


def problems_under(problems: dict[str, str], path: str) -> list[tuple[str, str]]:
    """The problems at ``path`` or below it (for the field or the table that shows them)."""
    return [(k, v) for k, v in problems.items() if (k == path or k.startswith(path + ".")) and "#" not in k]


__all__ = [
    "CHANNEL_LEVELS",
    "SECTIONS",
    "TABLES",
    "THRESHOLD_KEYS",
    "Field",
    "FormProblems",
    "apply_form",
    "error_paths",
    "get_path",
    "kind_of",
    "problems_under",
    "set_path",
    "shown",
]
