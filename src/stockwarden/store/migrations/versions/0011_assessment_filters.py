"""Indexes for the assessment list's category and supplier filters (the level and location filters had
theirs), so a filtered page of the latest run reads only its rows.

Revision ID: 0011_assessment_filters
Revises: 0010_rules_approval
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_assessment_filters"
down_revision: str | Sequence[str] | None = "0010_rules_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assessments_run_category", "assessments", ["run_id", "category"])
    op.create_index("ix_assessments_run_supplier", "assessments", ["run_id", "supplier_id"])


def downgrade() -> None:
    op.drop_index("ix_assessments_run_supplier", table_name="assessments")
    op.drop_index("ix_assessments_run_category", table_name="assessments")
