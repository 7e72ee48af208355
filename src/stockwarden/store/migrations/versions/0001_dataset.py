"""Dataset tables, import batches, the reject quarantine and the change history.

Revision ID: 0001_dataset
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_dataset"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DATASET_TABLES = ("items", "locations", "suppliers", "sales", "inventory", "purchase_orders", "promotions", "events")


def _dataset_table(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("attrs_json", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )


def upgrade() -> None:
    """Create the dataset tables and the import bookkeeping tables."""
    op.create_table(
        "import_batches",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
    )
    op.create_table(
        "import_rejects",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID_TYPE, nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name="fk_import_rejects_batch_id_import_batches", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_rejects"),
    )
    op.create_index("ix_import_rejects_batch_id", "import_rejects", ["batch_id"])
    op.create_table(
        "import_history",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID_TYPE, nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("previous_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name="fk_import_history_batch_id_import_batches", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_history"),
    )
    op.create_index("ix_import_history_batch_id", "import_history", ["batch_id"])
    op.create_table(
        "import_digests",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("part", sa.String(length=40), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("hash_sum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "part", name="pk_import_digests"),
    )
    _dataset_table(
        "items",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("unit_cost", sa.Float(), nullable=True),
        sa.Column("pack_size", sa.Float(), nullable=True),
        sa.Column("moq", sa.Float(), nullable=True),
        sa.Column("supplier_id", sa.Text(), nullable=True),
        sa.Column("lead_time_days", sa.Float(), nullable=True),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.Column("shelf_life_days", sa.Float(), nullable=True),
    )
    _dataset_table(
        "locations",
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
    )
    _dataset_table(
        "suppliers",
        sa.Column("supplier_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("lead_time_days", sa.Float(), nullable=True),
    )
    _dataset_table(
        "sales",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=True),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("on_promotion", sa.Float(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
    )
    _dataset_table(
        "inventory",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("on_hand", sa.Float(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=True),
    )
    _dataset_table(
        "purchase_orders",
        sa.Column("po_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=True),
        sa.Column("supplier_id", sa.Text(), nullable=True),
        sa.Column("line_no", sa.Float(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=True),
        sa.Column("received_qty", sa.Float(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
    )
    _dataset_table(
        "promotions",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("discount", sa.Float(), nullable=True),
    )
    _dataset_table(
        "events",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("location_id", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    for name in reversed(DATASET_TABLES):
        op.drop_table(name)
    op.drop_table("import_digests")
    op.drop_index("ix_import_history_batch_id", table_name="import_history")
    op.drop_table("import_history")
    op.drop_index("ix_import_rejects_batch_id", table_name="import_rejects")
    op.drop_table("import_rejects")
    op.drop_table("import_batches")
