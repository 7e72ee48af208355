"""Risk vocabulary: alert levels, reason codes and the assessment's column contract (pure values)."""

from __future__ import annotations

from enum import StrEnum


class RiskLevel(StrEnum):
    """How urgent a SKU-location is, most urgent first."""

    CRITICAL = "critical"
    WARNING = "warning"
    WATCH = "watch"
    OK = "ok"


LEVEL_RANK: dict[str, int] = {RiskLevel.CRITICAL: 0, RiskLevel.WARNING: 1, RiskLevel.WATCH: 2, RiskLevel.OK: 3}
"""Sort key: lower is more urgent."""


class ReasonCode(StrEnum):
    """Why a SKU-location is at risk; each comes with the numbers behind it in ``reason_details``."""

    ALREADY_OUT_OF_STOCK = "already_out_of_stock"
    BELOW_REORDER_POINT = "below_reorder_point"
    DEMAND_SURGE = "demand_surge"
    PROMOTION_AHEAD = "promotion_ahead"
    EVENT_AHEAD = "event_ahead"
    SUPPLIER_LATE = "supplier_late"
    OPEN_PO_OVERDUE = "open_po_overdue"
    SHORT_DELIVERY_RISK = "short_delivery_risk"
    STALE_COUNT = "stale_count"
    FORECAST_UNCERTAIN = "forecast_uncertain"
    LEAD_TIME_DRIFT = "lead_time_drift"
    PHANTOM_STOCK = "phantom_stock"
    NO_OPEN_ORDER = "no_open_order"
    STOCKOUT_BEFORE_EXPEDITE = "stockout_before_expedite"


ASSESSMENT_COLUMNS: tuple[str, ...] = (
    "as_of",
    "sku",
    "location_id",
    "level",
    "stockout_probability",
    "expected_stockout_date",
    "days_of_cover",
    "on_hand",
    "on_order",
    "reorder_point",
    "safety_stock",
    "order_up_to",
    "suggested_order_qty",
    "reasons",
)
"""The issue-4 contract columns of ``assess`` and ``backtest``, in order (extra columns follow)."""

EXTRA_COLUMNS: tuple[str, ...] = (
    "horizon_days",
    "lead_time_days",
    "lead_time_source",
    "learned_lead_time_days",
    "review_period_days",
    "service_level",
    "expected_short",
    "stockout_date_p10",
    "stockout_date_p90",
    "p_before_expedite",
    "p_before_lead_time",
    "p_order_window",
    "p_stockout_learned_interval",
    "projection_probability",
    "inventory_position",
    "backorders",
    "mean_daily_forecast",
    "recent_daily_sales",
    "protection_cv",
    "supplier_on_time_rate",
    "supplier_mean_delay_days",
    "max_days_overdue",
    "days_since_last_sale",
    "censored_share",
    "count_age_days",
    "category",
    "supplier_id",
    "abc",
    "demand_class",
    "reason_details",
)
"""Explanation columns that follow :data:`ASSESSMENT_COLUMNS` in every assessment frame."""

ALL_ASSESSMENT_COLUMNS: tuple[str, ...] = ASSESSMENT_COLUMNS + EXTRA_COLUMNS
"""Every column of ``assess``, in order: what a run stores and ``assessments export`` writes."""

_DATE_COLUMNS = frozenset({"as_of", "expected_stockout_date", "stockout_date_p10", "stockout_date_p90"})
_TEXT_COLUMNS = frozenset(
    {
        "sku",
        "location_id",
        "level",
        "reasons",
        "lead_time_source",
        "category",
        "supplier_id",
        "abc",
        "demand_class",
        "reason_details",
    }
)
_INT_COLUMNS = frozenset({"horizon_days", "review_period_days"})

ASSESSMENT_KINDS: dict[str, str] = {
    c: "date" if c in _DATE_COLUMNS else "text" if c in _TEXT_COLUMNS else "int" if c in _INT_COLUMNS else "float"
    for c in ALL_ASSESSMENT_COLUMNS
}
"""The kind of every assessment column (``date``, ``text``, ``int`` or ``float``), for storage and exports."""
