"""Turn a risk assessment frame (issue 4 contract) into alert signals, one per SKU-location.

The assessment has the columns ``as_of, sku, location_id, level, stockout_probability,
expected_stockout_date, days_of_cover, on_hand, on_order, reorder_point, safety_stock, order_up_to,
suggested_order_qty, reasons`` (reasons: a ``;``-separated string or a sequence of codes).
An optional ``category`` column, or the dataset's ``items`` frame, gives the category for routing.

Roles (who should hear about a signal) are derived, so channels can filter on them:

* ``planner``: every alert;
* ``buyer``: an order is suggested (``suggested_order_qty > 0``);
* ``store_manager``: the location's ``kind`` is ``store``;
* ``supplier_manager``: a supply reason is present (``supplier_late``, ``open_po_overdue``,
  ``short_delivery_risk``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pandas as pd

from stockwarden.domain.alert import AlertKind, AlertLevel, AlertSignal
from stockwarden.errors import SchemaError

ASSESSMENT_COLUMNS = (
    "sku",
    "location_id",
    "level",
    "stockout_probability",
    "expected_stockout_date",
    "days_of_cover",
    "suggested_order_qty",
    "reasons",
)
SUPPLY_REASONS = frozenset({"supplier_late", "open_po_overdue", "short_delivery_risk"})


def build_signals(
    assessment: pd.DataFrame,
    *,
    items: pd.DataFrame | None = None,
    locations: pd.DataFrame | None = None,
) -> list[AlertSignal]:
    """One stockout-risk signal per assessment row.

    Args:
        assessment: the risk assessment (issue-4 columns; extra columns are ignored).
        items: the dataset's items (``sku``, ``category``), for routing by category.
        locations: the dataset's locations (``location_id``, ``kind``), for the store-manager role.

    Returns:
        Signals in the assessment's row order.

    Raises:
        SchemaError: a contract column is missing or a level is unknown.
    """
    missing = [c for c in ASSESSMENT_COLUMNS if c not in assessment.columns]
    if missing:
        raise SchemaError(f"assessment is missing column(s) {', '.join(missing)}", table="assessment")
    frame = assessment
    if "category" not in frame.columns and items is not None and len(items):
        frame = frame.merge(items[["sku", "category"]].drop_duplicates("sku"), on="sku", how="left")
    stores: set[str] = set()
    if locations is not None and len(locations) and "kind" in locations.columns:
        kinds = locations["kind"].astype("string").str.lower()
        stores = set(locations.loc[kinds.eq("store").fillna(False).to_numpy(), "location_id"].astype(str))
    levels = {lv.value: lv for lv in AlertLevel}
    bad = sorted(set(frame["level"].astype(str).str.lower()) - set(levels))
    if bad:
        raise SchemaError(
            f"assessment has unknown level(s) {', '.join(bad)}; expected one of {', '.join(levels)}", table="assessment"
        )
    n = len(frame)
    categories = frame["category"].tolist() if "category" in frame.columns else [None] * n
    signals: list[AlertSignal] = []
    columns = zip(
        frame["sku"].astype(str).tolist(),
        frame["location_id"].astype(str).tolist(),
        frame["level"].astype(str).str.lower().tolist(),
        frame["stockout_probability"].tolist(),
        frame["expected_stockout_date"].tolist(),
        frame["reasons"].tolist(),
        frame["days_of_cover"].tolist(),
        frame["suggested_order_qty"].tolist(),
        categories,
        strict=True,
    )
    for sku, location, level, probability, date, reason_value, cover, qty_value, category in columns:
        reasons = _reasons(reason_value)
        qty = _number(qty_value) or 0.0
        roles = ["planner"]
        if qty > 0:
            roles.append("buyer")
        if location in stores:
            roles.append("store_manager")
        if SUPPLY_REASONS.intersection(reasons):
            roles.append("supplier_manager")
        signals.append(
            AlertSignal(
                kind=AlertKind.STOCKOUT_RISK,
                sku=sku,
                location_id=location,
                level=levels[level],
                stockout_probability=float(_number(probability) or 0.0),
                expected_stockout_date=_date(date),
                reasons=reasons,
                days_of_cover=_number(cover),
                suggested_order_qty=qty,
                category=str(category) if isinstance(category, str) and category else None,
                roles=tuple(roles),
            )
        )
    return signals


def _reasons(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(";") if p.strip())
    if isinstance(value, Sequence):
        return tuple(str(p) for p in value if str(p))
    return ()


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _date(value: object) -> dt.date | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.date()
