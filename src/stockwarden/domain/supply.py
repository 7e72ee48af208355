"""Supply-side domain values: where a lead-time estimate came from, short deliveries, anomaly codes.

Pure values only (enums, frozen dataclasses, column contracts); the estimation lives in
``stockwarden.forecast.leadtime`` and the detectors in ``stockwarden.anomaly``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LeadTimeSource(StrEnum):
    """Where a lead-time distribution comes from, best first."""

    SUPPLIER_SKU_HISTORY = "supplier_sku_history"
    """Received POs of this supplier for this SKU (shrunk toward the supplier's)."""
    SUPPLIER_HISTORY = "supplier_history"
    """Received POs of this supplier, all SKUs."""
    ITEM_NOMINAL = "item_nominal"
    """Fallback: the item's ``lead_time_days``."""
    SUPPLIER_NOMINAL = "supplier_nominal"
    """Fallback: the supplier's nominal ``lead_time_days``."""
    DEFAULT = "default"
    """Fallback: the configured default lead time."""

    @property
    def is_fallback(self) -> bool:
        """True when no delivery history was behind the estimate."""
        return self not in (LeadTimeSource.SUPPLIER_SKU_HISTORY, LeadTimeSource.SUPPLIER_HISTORY)


class LeadTimeLevel(StrEnum):
    """Granularity of a row of the lead-time table."""

    SUPPLIER = "supplier"
    SUPPLIER_SKU = "supplier_sku"


@dataclass(frozen=True, slots=True)
class ShortDeliveryInfo:
    """How likely a delivery is to be short, and by how much.

    Attributes:
        probability: P(received_qty < qty) for the next delivery (0-1).
        fill_ratio_when_short: expected received_qty / qty given a short delivery (0-1).
        expected_fill_ratio: expected received_qty / qty overall (0-1).
        source: where the estimate came from (a :class:`LeadTimeSource` value).
    """

    probability: float
    fill_ratio_when_short: float
    expected_fill_ratio: float
    source: str


LEADTIME_TABLE_COLUMNS: tuple[str, ...] = (
    "level",
    "supplier_id",
    "sku",
    "po_count",
    "mean_lead_time_days",
    "p50_lead_time_days",
    "p90_lead_time_days",
    "on_time_rate",
    "mean_delay_days",
    "short_delivery_rate",
    "source",
)
"""Columns of ``LeadTimeModel.table`` and of the ``stockwarden leadtimes`` output file."""


class Severity(StrEnum):
    """How urgent an anomaly is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AnomalyKind(StrEnum):
    """What an anomaly record is about."""

    OVERDUE_PO = "overdue_po"
    SHORT_DELIVERY = "short_delivery"
    LEAD_TIME_DRIFT = "lead_time_drift"
    SUPPLIER_UNRELIABLE = "supplier_unreliable"
    DEMAND_SPIKE = "demand_spike"
    DEMAND_DROP = "demand_drop"
    PHANTOM_STOCK = "phantom_stock"
    NEGATIVE_STOCK = "negative_stock"
    STALE_COUNT = "stale_count"
    COUNT_MISMATCH = "count_mismatch"


ANOMALY_COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    "detected_on",
    "supplier_id",
    "sku",
    "location_id",
    "po_id",
    "started_on",
    "metric",
    "expected",
    "observed",
    "detail",
)
"""Columns of an anomaly frame and of the ``stockwarden anomalies`` output file (issue 5)."""

ANOMALY_EXTRA_COLUMNS: tuple[str, ...] = ("affected",)
"""Extra columns: ``affected`` lists the SKU-locations a supply anomaly puts at risk ("sku@location;...")."""
