"""Message text in English and Chinese: titles, one line per alert, reason codes in words."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from stockwarden.domain.alert import Alert, AlertLevel, NotifyReason

if TYPE_CHECKING:
    from stockwarden.alerts.notify.compose import OrderHint

LEVEL_WORDS = {
    "en": {
        AlertLevel.CRITICAL: "CRITICAL",
        AlertLevel.WARNING: "WARNING",
        AlertLevel.WATCH: "WATCH",
        AlertLevel.OK: "OK",
    },
    "zh": {AlertLevel.CRITICAL: "严重", AlertLevel.WARNING: "警告", AlertLevel.WATCH: "关注", AlertLevel.OK: "正常"},
}
REASON_WORDS = {
    "en": {},
    "zh": {
        "below_reorder_point": "低于再订货点",
        "demand_surge": "需求激增",
        "promotion_ahead": "即将促销",
        "event_ahead": "即将有活动",
        "supplier_late": "供应商延迟",
        "open_po_overdue": "采购单逾期",
        "short_delivery_risk": "可能短交",
        "already_out_of_stock": "已缺货",
        "stale_count": "盘点过旧",
        "forecast_uncertain": "预测不确定",
    },
}
CHANGE_WORDS = {
    "en": {
        NotifyReason.NEW: "new",
        NotifyReason.WORSENED: "worse",
        NotifyReason.ESCALATED: "escalated",
        NotifyReason.WOKEN: "snooze ended",
    },
    "zh": {
        NotifyReason.NEW: "新",
        NotifyReason.WORSENED: "恶化",
        NotifyReason.ESCALATED: "已升级",
        NotifyReason.WOKEN: "暂停结束",
    },
}


def digest_title(language: str, *, count: int, as_of: dt.date) -> str:
    """The title of a run's digest."""
    if language == "zh":
        return f"stockwarden 缺货预警：{count} 条新增或恶化（{as_of.isoformat()}）"
    return f"stockwarden: {count} new or worsened stockout alert{'s' if count != 1 else ''} ({as_of.isoformat()})"


def immediate_title(language: str, alert: Alert, reason: NotifyReason) -> str:
    """The title of an immediate message (new critical or escalated alert)."""
    if language == "zh":
        what = "已升级：" if reason is NotifyReason.ESCALATED else ""
        return f"stockwarden {what}严重缺货风险 {alert.sku} @ {alert.location_id}"
    what = "ESCALATED: " if reason is NotifyReason.ESCALATED else ""
    return f"stockwarden {what}critical stockout risk {alert.sku} @ {alert.location_id}"


def alert_line(
    language: str, alert: Alert, reason: NotifyReason, *, link: str | None, order: OrderHint | None = None
) -> str:
    """One alert in one line: level, where, probability, date, cover, reasons, proposed order."""
    words = REASON_WORDS.get(language, {})
    reasons = [words.get(r, r) for r in alert.reasons]
    level = LEVEL_WORDS[language][alert.level]
    change = CHANGE_WORDS[language][reason]
    pct = round(100 * alert.stockout_probability)
    date = alert.expected_stockout_date.isoformat() if alert.expected_stockout_date else "-"
    cover = f"{alert.days_of_cover:.1f}" if alert.days_of_cover is not None else "-"
    qty = f"{order.qty:g}" if order else f"{alert.suggested_order_qty:g}"
    if language == "zh":
        how = (
            (
                f"建议订货 {qty}（采购单 {order.po_id}"
                + (f"，最晚下单 {order.order_by_date.isoformat()}" if order and order.order_by_date else "")
                + "）"
            )
            if order
            else f"建议订货 {qty}"
        )
        text = (
            f"【{level}】{alert.sku} @ {alert.location_id}（{change}，#{alert.alert_id}）缺货概率 {pct}%，"
            f"预计缺货日 {date}，可售天数 {cover}；原因：{'、'.join(reasons) or '-'}；{how}"
        )
    else:
        how = (
            (
                f"proposed order {qty} (PO {order.po_id}"
                + (f", order by {order.order_by_date.isoformat()}" if order and order.order_by_date else "")
                + ")"
            )
            if order
            else f"suggested order {qty}"
        )
        text = (
            f"[{level}] {alert.sku} @ {alert.location_id} ({change}, #{alert.alert_id}) P(stockout) {pct}%, "
            f"expected {date}, cover {cover} d; reasons: {', '.join(reasons) or '-'}; {how}"
        )
    return f"{text}\n  {link}" if link else text


def more_line(language: str, n_more: int) -> str:
    """The line counting alerts left out of a long digest."""
    return f"……另有 {n_more} 条" if language == "zh" else f"... and {n_more} more"


def ref_line(key: str) -> str:
    """The last line of every message: its idempotency key, so a receiver can drop a repeat."""
    return f"ref: {key}"
