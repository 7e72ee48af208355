"""Hand-made assessment frames (issue-4 contract columns) and alert signals for alert tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from stockwarden.domain.alert import AlertKind, AlertLevel, AlertSignal

NOW = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2024, 4, 30)


def make_signal(
    sku: str = "SKU-1",
    level: str = "warning",
    probability: float = 0.5,
    *,
    location_id: str = "WH1",
    date: dt.date | None = dt.date(2024, 5, 10),
    reasons: tuple[str, ...] = ("below_reorder_point",),
    qty: float = 12.0,
    category: str | None = "cat",
) -> AlertSignal:
    """One stockout-risk signal."""
    return AlertSignal(
        kind=AlertKind.STOCKOUT_RISK,
        sku=sku,
        location_id=location_id,
        level=AlertLevel(level),
        stockout_probability=probability,
        expected_stockout_date=date,
        reasons=reasons,
        days_of_cover=5.0,
        suggested_order_qty=qty,
        category=category,
        roles=("planner", "buyer") if qty > 0 else ("planner",),
    )


def make_assessment(
    rows: list[tuple[str, str, float]], *, as_of: dt.date = AS_OF, location_id: str = "WH1"
) -> pd.DataFrame:
    """An assessment frame with the issue-4 columns from (sku, level, probability) triples."""
    records = []
    for sku, level, p in rows:
        is_risky = level in ("warning", "critical")
        records.append(
            {
                "as_of": pd.Timestamp(as_of),
                "sku": sku,
                "location_id": location_id,
                "level": level,
                "stockout_probability": p,
                "expected_stockout_date": pd.Timestamp(as_of) + pd.Timedelta(days=5) if p >= 0.5 else pd.NaT,
                "days_of_cover": 4.0 if is_risky else 30.0,
                "on_hand": 10.0,
                "on_order": 0.0,
                "reorder_point": 20.0,
                "safety_stock": 5.0,
                "order_up_to": 40.0,
                "suggested_order_qty": 30.0 if is_risky else 0.0,
                "reasons": "below_reorder_point;supplier_late" if is_risky else "",
            }
        )
    return pd.DataFrame.from_records(records)
