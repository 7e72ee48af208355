"""Quality: the optional reorder_rules dataset table, alert-effectiveness snapshots, kept forecasts and scores.

Revision ID: 0006_quality
Revises: 0005_app
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_quality"
down_revision: str | Sequence[str] | None = "0005_app"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MEASURES = (
    "episodes",
    "warned_in_time",
    "warned_1d",
    "median_warning_lead_days",
    "alerts",
    "effective",
    "false_alarms",
    "alerts_per_week",
    "alerts_per_planner_per_week",
    "feedback_useful",
    "feedback_false_alarm",
)


def upgrade() -> None:
    """Create reorder_rules, quality_snapshots, forecast_snapshots and forecast_scores."""
    op.create_table(
        "reorder_rules",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("attrs_json", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("min_qty", sa.Float(), nullable=False),
        sa.Column("max_qty", sa.Float(), nullable=True),
        sa.Column("safety_stock", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reorder_rules"),
    )
    op.create_table(
        "quality_snapshots",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("group_by", sa.String(40), nullable=False),
        sa.Column("group_value", sa.Text(), nullable=False),
        *(sa.Column(m, sa.Float(), nullable=True) for m in MEASURES),
        sa.PrimaryKeyConstraint("id", name="pk_quality_snapshots"),
    )
    op.create_index("ix_quality_snapshots_period", "quality_snapshots", ["period_end", "group_by"])
    op.create_table(
        "forecast_snapshots",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("demand_class", sa.Text(), nullable=True),
        sa.Column("nb_size", sa.Float(), nullable=True),
        sa.Column("mean_f32", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "sku", "location_id", name="pk_forecast_snapshots"),
    )
    op.create_table(
        "forecast_scores",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("days_ahead", sa.Integer(), nullable=False),
        sa.Column("group_by", sa.String(40), nullable=False),
        sa.Column("group_value", sa.Text(), nullable=False),
        sa.Column("n_series", sa.Integer(), nullable=False),
        sa.Column("wape", sa.Float(), nullable=True),
        sa.Column("bias", sa.Float(), nullable=True),
        sa.Column("pinball", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_forecast_scores"),
    )
    op.create_index("ix_forecast_scores_as_of", "forecast_scores", ["as_of", "group_by"])


def downgrade() -> None:
    """Drop the quality tables."""
    op.drop_index("ix_forecast_scores_as_of", table_name="forecast_scores")
    op.drop_table("forecast_scores")
    op.drop_table("forecast_snapshots")
    op.drop_index("ix_quality_snapshots_period", table_name="quality_snapshots")
    op.drop_table("quality_snapshots")
    op.drop_table("reorder_rules")
