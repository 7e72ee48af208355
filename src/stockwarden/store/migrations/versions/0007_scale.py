"""Partition indexes on the large dataset tables, and the partition checkpoints of a partitioned run.

Revision ID: 0007_scale
Revises: 0006_quality
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_scale"
down_revision: str | Sequence[str] | None = "0006_quality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same names and columns as store.tables.PARTITION_INDEXES (kept literal: a migration must not change later).
INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_sales_location_sku", "sales", ("location_id", "sku", "date")),
    ("ix_inventory_location_sku", "inventory", ("location_id", "sku", "date")),
    ("ix_purchase_orders_location_sku", "purchase_orders", ("location_id", "sku")),
)


ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the partition indexes and the ``run_partitions`` table."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))
    op.create_table(
        "run_partitions",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.String(120), nullable=False),
        sa.Column("plan", sa.String(40), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("n_series", sa.Integer(), nullable=False),
        sa.Column("assessed", sa.Integer(), nullable=False),
        sa.Column("anomalies", sa.Integer(), nullable=False),
        sa.Column("assessment", sa.LargeBinary(), nullable=False),
        sa.Column("warnings_json", sa.Text(), nullable=False),
        sa.Column("seconds_json", sa.Text(), nullable=False),
        sa.Column("worker", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_key", "plan", "partition", name="uq_run_partitions_key"),
    )


def downgrade() -> None:
    """Drop the ``run_partitions`` table and the partition indexes."""
    op.drop_table("run_partitions")
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
