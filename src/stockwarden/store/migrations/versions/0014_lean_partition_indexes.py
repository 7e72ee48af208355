"""The partition indexes of sales and inventory go back to (location_id, sku), without the date and the
quantity that 0012_series_covering added.

Equal keys let a PostgreSQL B-tree keep one entry per SKU-location with a list of row addresses
(deduplication), so the index costs a few bytes a row instead of about 47: at a million SKU-locations
with 400 days that is about 12 GB less on disk and one index sort less per bulk load. One SKU-location's
history (the detail view) is then read from the table through the index: 0.24 ms instead of 0.10 ms.

Revision ID: 0014_lean_partition_indexes
Revises: 0013_lean_series
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_lean_partition_indexes"
down_revision: str | Sequence[str] | None = "0013_lean_series"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same names and columns as store.tables.PARTITION_INDEXES (kept literal: a migration must not change later).
BEFORE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku", "date", "qty")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku", "date", "on_hand")),
)
AFTER: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku")),
)


def _replace(indexes: tuple[tuple[str, str, tuple[str, ...]], ...]) -> None:
    for name, table, columns in indexes:
        op.drop_index(name, table_name=table, if_exists=True)
        op.create_index(name, table, list(columns))


def upgrade() -> None:
    """Rebuild the two partition indexes on (location_id, sku) alone."""
    _replace(AFTER)


def downgrade() -> None:
    """Rebuild them with the date and the quantity (0012_series_covering)."""
    _replace(BEFORE)
