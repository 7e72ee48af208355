"""Order proposals: draft purchase orders, proposal lines, approval log.

Revision ID: 0003_orders
Revises: 0002_alerts
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_orders"
down_revision: str | Sequence[str] | None = "0002_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
DRAFT_LINE = sa.text("status = 'draft'")


def upgrade() -> None:
    """Create the order proposal tables."""
    op.create_table(
        "order_proposals",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("po_id", sa.String(120), nullable=False),
        sa.Column("supplier_id", sa.Text(), nullable=True),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("order_by_date", sa.Date(), nullable=False),
        sa.Column("expected_arrival_date", sa.Date(), nullable=False),
        sa.Column("min_order_value", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_proposals"),
        sa.UniqueConstraint("po_id", name="uq_order_proposals_po_id"),
    )
    op.create_table(
        "order_proposal_lines",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("order_id", ID_TYPE, nullable=False),
        sa.Column("po_id", sa.String(120), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("supplier_id", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        *(
            sa.Column(name, sa.Float(), nullable=False)
            for name in (
                "qty",
                "proposed_qty",
                "need_qty",
                "inventory_position",
                "on_hand",
                "on_order",
                "backorders",
                "reorder_point",
                "order_up_to",
                "pack_size",
                "moq",
            )
        ),
        sa.Column("unit_cost", sa.Float(), nullable=True),
        sa.Column("lead_time_days", sa.Float(), nullable=False),
        sa.Column("stockout_probability", sa.Float(), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("expected_stockout_date", sa.Date(), nullable=True),
        sa.Column("order_by_date", sa.Date(), nullable=False),
        sa.Column("expected_arrival_date", sa.Date(), nullable=False),
        sa.Column("expected_units_short", sa.Float(), nullable=False),
        sa.Column("avoided_stockout_cost", sa.Float(), nullable=False),
        sa.Column("avoided_cost_per_money", sa.Float(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("override_reason", sa.String(40), nullable=True),
        sa.Column("ordered_on", sa.Date(), nullable=True),
        sa.Column("exported_at", TS, nullable=True),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["order_proposals.id"],
            name="fk_order_proposal_lines_order_id_order_proposals",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_proposal_lines"),
    )
    op.create_index("ix_order_proposal_lines_order_id", "order_proposal_lines", ["order_id"])
    op.create_index("ix_order_lines_status", "order_proposal_lines", ["status"])
    op.create_index(
        "uq_order_lines_draft_key",
        "order_proposal_lines",
        ["sku", "location_id"],
        unique=True,
        sqlite_where=DRAFT_LINE,
        postgresql_where=DRAFT_LINE,
    )
    op.create_table(
        "order_approval_log",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("line_id", ID_TYPE, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(40), nullable=True),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("qty_before", sa.Float(), nullable=True),
        sa.Column("qty_after", sa.Float(), nullable=False),
        sa.Column("value_before", sa.Float(), nullable=True),
        sa.Column("value_after", sa.Float(), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["order_proposal_lines.id"],
            name="fk_order_approval_log_line_id_order_proposal_lines",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_approval_log"),
    )
    op.create_index("ix_order_approval_log_line_id", "order_approval_log", ["line_id"])


def downgrade() -> None:
    """Drop the order proposal tables."""
    for name in ("order_approval_log", "order_proposal_lines", "order_proposals"):
        op.drop_table(name)
