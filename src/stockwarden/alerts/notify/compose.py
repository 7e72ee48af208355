"""Compose a run's messages: route alerts to channels, one digest per channel, immediates, quiet hours.

Routing: a channel hears about an alert when the alert's level is in ``levels`` and, for each of
``categories``, ``locations`` and ``roles`` that is non-empty, the alert's category / location / one of
its roles is listed. Each channel gets **one digest per run** listing the new, worsened, escalated and
re-awakened alerts, most urgent first (level, then probability, then the earlier stockout date),
with a link per alert when ``notify.web_base_url`` is set; and **one immediate message** per new
critical alert (or alert that turned critical) and per escalation, unless ``immediate_critical`` is
off, at most ``immediate_max_per_run`` per channel (the most urgent; the digest lists them all, so a
first run on a large catalogue does not send hundreds of messages). During quiet hours digests are
held until the quiet hours end; immediates are not held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockwarden.alerts.notify import text
from stockwarden.alerts.notify.base import OutboxMessage
from stockwarden.config import NotifyChannel, NotifyRules
from stockwarden.domain.alert import Alert, AlertLevel, NotifyReason
from stockwarden.errors import ConfigError


@dataclass(frozen=True, slots=True)
class OrderHint:
    """The order proposal behind an alert, shown in its message (from the proposals step)."""

    qty: float
    po_id: str
    order_by_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class NotifyItem:
    """An alert change to announce: the alert as it is now, why, and the log line that said so."""

    alert: Alert
    reason: NotifyReason
    log_id: int


def channel_hears(channel: NotifyChannel, alert: Alert) -> bool:
    """True when ``channel``'s filters let ``alert`` through."""
    if str(alert.level) not in channel.levels:
        return False
    if channel.categories and alert.category not in channel.categories:
        return False
    if channel.locations and alert.location_id not in channel.locations:
        return False
    return not channel.roles or bool(set(channel.roles) & set(alert.roles))


def urgency_key(item: NotifyItem) -> tuple[int, float, dt.date, str, str]:
    """Sort key: most urgent first (level, probability, earlier date), then SKU and location."""
    a = item.alert
    return (-a.level.rank, -a.stockout_probability, a.expected_stockout_date or dt.date.max, a.sku, a.location_id)


def compose_messages(
    items: Sequence[NotifyItem],
    *,
    rules: NotifyRules,
    now: dt.datetime,
    as_of: dt.date,
    run_id: int,
    batch: str = "",
    orders: Mapping[tuple[str, str], OrderHint] | None = None,
) -> list[OutboxMessage]:
    """The messages of one run, each with a stable idempotency key.

    Args:
        items: the alert changes of the run that deserve a message.
        rules: channels and notification settings.
        now: the time of composition (for quiet hours; timezone-aware).
        as_of: the run's assessment date (shown in digest titles).
        run_id: the run (part of the digest keys: a resumed run recomposes the same keys).
        batch: distinguishes a later digest of the same run (escalations of a re-run on unchanged data).
        orders: the open order proposal per (sku, location_id); shown instead of the assessment's
            suggested quantity.

    Raises:
        ConfigError: a quiet-hours value or time zone is malformed.
    """
    ordered = sorted(items, key=urgency_key)
    messages: list[OutboxMessage] = []
    for channel in rules.channels:
        mine = [it for it in ordered if channel_hears(channel, it.alert)]
        if not mine:
            continue
        lang = channel.language
        if channel.immediate_critical:
            urgent = [it for it in mine if it.alert.level is AlertLevel.CRITICAL or it.reason is NotifyReason.ESCALATED]
            for it in urgent[: rules.immediate_max_per_run]:
                key = f"immediate:{channel.name}:log{it.log_id}"
                body = "\n".join(
                    [
                        text.alert_line(
                            lang, it.alert, it.reason, link=_link(rules, it.alert), order=_order(orders, it.alert)
                        ),
                        text.ref_line(key),
                    ]
                )
                messages.append(
                    OutboxMessage(
                        idempotency_key=key,
                        channel=channel.name,
                        kind="immediate",
                        title=text.immediate_title(lang, it.alert, it.reason),
                        body=body,
                        alert_ids=(_id(it.alert),),
                        run_id=run_id,
                    )
                )
        shown = mine[: rules.digest_max_alerts]
        lines = [
            text.alert_line(lang, it.alert, it.reason, link=_link(rules, it.alert), order=_order(orders, it.alert))
            for it in shown
        ]
        if len(mine) > len(shown):
            lines.append(text.more_line(lang, len(mine) - len(shown)))
        key = f"digest:{channel.name}:run{run_id}{batch}"
        lines.append(text.ref_line(key))
        messages.append(
            OutboxMessage(
                idempotency_key=key,
                channel=channel.name,
                kind="digest",
                title=text.digest_title(lang, count=len(mine), as_of=as_of),
                body="\n".join(lines),
                alert_ids=tuple(_id(it.alert) for it in mine),
                run_id=run_id,
                not_before=quiet_hours_end(channel.quiet_hours or rules.quiet_hours, now=now, timezone=rules.timezone),
            )
        )
    return messages


def quiet_hours_end(spec: str | None, *, now: dt.datetime, timezone: str) -> dt.datetime | None:
    """When ``now`` falls in the quiet hours ``"HH:MM-HH:MM"`` (local time), the UTC end of them; else None.

    Windows may cross midnight (``22:00-07:00``).

    Raises:
        ConfigError: the spec or the time zone is malformed.
    """
    if not spec:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"notify.timezone {timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)") from exc
    start, end = (parse_clock(p, what="quiet_hours") for p in spec.split("-", 1)) if "-" in spec else (None, None)
    if start is None or end is None:
        raise ConfigError(f"quiet_hours {spec!r}: expected HH:MM-HH:MM, e.g. 22:00-07:00")
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    if start <= end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.UTC)


def parse_clock(value: str, *, what: str) -> dt.time:
    """Parse ``HH:MM``.

    Raises:
        ConfigError: naming ``what`` when the value is not a time of day.
    """
    try:
        hours, minutes = (int(p) for p in value.strip().split(":"))
        return dt.time(hours, minutes)
    except ValueError as exc:
        raise ConfigError(f"{what}: {value!r} is not a time of day HH:MM") from exc


def _link(rules: NotifyRules, alert: Alert) -> str | None:
    if not rules.web_base_url or alert.alert_id is None:
        return None
    return f"{rules.web_base_url.rstrip('/')}/alerts/{alert.alert_id}"


def _order(orders: Mapping[tuple[str, str], OrderHint] | None, alert: Alert) -> OrderHint | None:
    return None if not orders else orders.get((alert.sku, alert.location_id))


def _id(alert: Alert) -> int:
    return alert.alert_id if alert.alert_id is not None else -1
