"""Drop the (sku, location_id) indexes of sales, inventory and purchase_orders: the partition indexes
(location_id, sku, ...) answer every read that used them (each names the SKU and the location), and they
cost 7-11 bytes per row (3-5% of a large database) and an index build in every bulk load.

Revision ID: 0013_lean_series
Revises: 0012_series_covering
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_lean_series"
down_revision: str | Sequence[str] | None = "0012_series_covering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The indexes of migration 0005_app (kept literal: a migration must not change later).
DROPPED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_sku_location", "sales", ("sku", "location_id")),
    ("ix_inventory_sku_location", "inventory", ("sku", "location_id")),
    ("ix_purchase_orders_sku_location", "purchase_orders", ("sku", "location_id")),
)


def upgrade() -> None:
    """Drop the three (sku, location_id) indexes."""
    for name, table, _columns in DROPPED:
        op.drop_index(name, table_name=table, if_exists=True)


def downgrade() -> None:
    """Build them again."""
    for name, table, columns in DROPPED:
        op.create_index(name, table, list(columns))
