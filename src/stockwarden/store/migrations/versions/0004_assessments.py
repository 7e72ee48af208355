"""Stored assessments: every column of ``assess`` for every SKU-location of every run.

Revision ID: 0004_assessments
Revises: 0003_orders
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_assessments"
down_revision: str | Sequence[str] | None = "0003_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the assessment columns as of this revision (frozen here: later contract changes get their own revision)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("as_of", "date"),
    ("sku", "text"),
    ("location_id", "text"),
    ("level", "text"),
    ("stockout_probability", "float"),
    ("expected_stockout_date", "date"),
    ("days_of_cover", "float"),
    ("on_hand", "float"),
    ("on_order", "float"),
    ("reorder_point", "float"),
    ("safety_stock", "float"),
    ("order_up_to", "float"),
    ("suggested_order_qty", "float"),
    ("reasons", "text"),
    ("horizon_days", "int"),
    ("lead_time_days", "float"),
    ("lead_time_source", "text"),
    ("learned_lead_time_days", "float"),
    ("review_period_days", "int"),
    ("service_level", "float"),
    ("expected_short", "float"),
    ("stockout_date_p10", "date"),
    ("stockout_date_p90", "date"),
    ("p_before_expedite", "float"),
    ("p_before_lead_time", "float"),
    ("p_order_window", "float"),
    ("p_stockout_learned_interval", "float"),
    ("projection_probability", "float"),
    ("inventory_position", "float"),
    ("backorders", "float"),
    ("mean_daily_forecast", "float"),
    ("recent_daily_sales", "float"),
    ("protection_cv", "float"),
    ("supplier_on_time_rate", "float"),
    ("supplier_mean_delay_days", "float"),
    ("max_days_overdue", "float"),
    ("days_since_last_sale", "float"),
    ("censored_share", "float"),
    ("count_age_days", "float"),
    ("category", "text"),
    ("supplier_id", "text"),
    ("abc", "text"),
    ("demand_class", "text"),
    ("reason_details", "text"),
)
TYPES = {"date": sa.Date(), "text": sa.Text(), "int": sa.Integer(), "float": sa.Float()}


def upgrade() -> None:
    """Create the ``assessments`` table and the indexes the lists filter and sort by."""
    op.create_table(
        "assessments",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        *(
            sa.Column(name, TYPES[kind], nullable=name not in ("as_of", "sku", "location_id", "level"))
            for name, kind in COLUMNS
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_assessments_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "sku", "location_id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_run_level", "assessments", ["run_id", "level"])
    op.create_index("ix_assessments_run_location", "assessments", ["run_id", "location_id"])
    op.create_index("ix_assessments_run_probability", "assessments", ["run_id", "stockout_probability"])


def downgrade() -> None:
    """Drop the ``assessments`` table."""
    op.drop_index("ix_assessments_run_probability", table_name="assessments")
    op.drop_index("ix_assessments_run_location", table_name="assessments")
    op.drop_index("ix_assessments_run_level", table_name="assessments")
    op.drop_table("assessments")
