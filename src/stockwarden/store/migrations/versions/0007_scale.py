"""Partition indexes on the large dataset tables (a partitioned run loads one location or SKU set at a time).

Revision ID: 0007_scale
Revises: 0003_orders
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_scale"
down_revision: str | Sequence[str] | None = "0003_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same names and columns as store.tables.PARTITION_INDEXES (kept literal: a migration must not change later).
INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku", "date")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku", "date")),
    ("ix_purchase_orders_location_sku", "purchase_orders", ("location_id", "sku")),
)


def upgrade() -> None:
    """Create the partition indexes."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))


def downgrade() -> None:
    """Drop the partition indexes."""
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
