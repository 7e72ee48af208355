"""The partition indexes of sales and inventory also carry the quantity, so one SKU-location's recent
history (the detail view of the API and the web app) is read from the index alone, in key order, not
from rows scattered over the whole table.

Revision ID: 0012_series_covering
Revises: 0011_assessment_filters
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_series_covering"
down_revision: str | Sequence[str] | None = "0011_assessment_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same names and columns as store.tables.PARTITION_INDEXES (kept literal: a migration must not change later).
BEFORE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku", "date")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku", "date")),
)
AFTER: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku", "date", "qty")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku", "date", "on_hand")),
)


def _replace(indexes: tuple[tuple[str, str, tuple[str, ...]], ...]) -> None:
    for name, table, columns in indexes:
        op.drop_index(name, table_name=table, if_exists=True)
        op.create_index(name, table, list(columns))


def upgrade() -> None:
    """Rebuild the two partition indexes with the quantity column at the end."""
    _replace(AFTER)


def downgrade() -> None:
    """Rebuild them without it."""
    _replace(BEFORE)
