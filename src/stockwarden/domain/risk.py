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
