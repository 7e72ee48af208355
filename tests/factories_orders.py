"""Factories for order-proposal tests: in-memory datasets and assessment frames (no I/O)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from stockwarden.ingest.dataset import Dataset, empty_frame

AS_OF = dt.date(2024, 4, 15)


def _typed(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    base = empty_frame(table)
    if not rows:
        return base
    frame = pd.DataFrame(rows)
    for col in base.columns:
        if col not in frame:
            frame[col] = None
    frame = frame[list(base.columns)]
    return frame.astype(base.dtypes.to_dict())


def make_item(sku: str, **overrides: object) -> dict[str, object]:
    """One items row: pack 12, MOQ 24, cost 2.0, supplier S1, lead time 7 days unless overridden."""
    row: dict[str, object] = {
        "sku": sku,
        "name": f"Item {sku}",
        "category": "cat",
        "unit_cost": 2.0,
        "pack_size": 12.0,
        "moq": 24.0,
        "supplier_id": "S1",
        "lead_time_days": 7.0,
    }
    row.update(overrides)
    return row


def make_orders_dataset(
    items: list[dict[str, object]],
    *,
    purchase_orders: list[dict[str, object]] | None = None,
    sales: list[dict[str, object]] | None = None,
    suppliers: list[dict[str, object]] | None = None,
) -> Dataset:
    """A dataset in memory with the given items, POs, sales and suppliers (typed like ``ingest``)."""
    po_rows = [{"line_no": 1.0, "status": "open", "location_id": "WH1", **r} for r in purchase_orders or []]
    for r in po_rows:
        for col in ("order_date", "promised_date", "received_date"):
            if col in r and r[col] is not None:
                r[col] = pd.Timestamp(r[col])  # type: ignore[arg-type]
    sale_rows = [{**r, "date": pd.Timestamp(r["date"])} for r in sales or []]  # type: ignore[arg-type]
    return Dataset(
        items=_typed("items", items),
        suppliers=_typed("suppliers", suppliers or []),
        purchase_orders=_typed("purchase_orders", po_rows),
        sales=_typed("sales", sale_rows),
    )


def make_assessment_row(sku: str, **overrides: object) -> dict[str, object]:
    """One assessment row (issue-4 columns) for ``sku`` at WH1: below its reorder point by default."""
    row: dict[str, object] = {
        "as_of": AS_OF.isoformat(),
        "sku": sku,
        "location_id": "WH1",
        "level": "warning",
        "stockout_probability": 0.5,
        "expected_stockout_date": "2024-04-25",
        "days_of_cover": 10.0,
        "on_hand": 25.0,
        "on_order": 12.0,
        "reorder_point": 45.0,
        "safety_stock": 10.0,
        "order_up_to": 120.0,
        "suggested_order_qty": 84.0,
        "reasons": "below_reorder_point",
    }
    row.update(overrides)
    return row


def make_assessment(rows: list[dict[str, object]]) -> pd.DataFrame:
    """An assessment frame from rows made with :func:`make_assessment_row`."""
    return pd.DataFrame(rows)
