"""Rules versions awaiting approval: a status (proposed, in force, rejected), who decided and when, and the
order in which versions came into force (the rules in force are the in-force version activated last).

Revision ID: 0010_rules_approval
Revises: 0009_user_prefs
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_rules_approval"
down_revision: str | Sequence[str] | None = "0009_user_prefs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("rules_versions", sa.Column("status", sa.String(16), nullable=False, server_default="in_force"))
    op.add_column("rules_versions", sa.Column("activation", ID_TYPE, nullable=True))
    op.add_column("rules_versions", sa.Column("decided_by", sa.String(120), nullable=True))
    op.add_column("rules_versions", sa.Column("decided_at", TS, nullable=True))
    # every version saved so far came into force when it was saved
    op.execute("UPDATE rules_versions SET activation = id")
    op.create_index("ix_rules_versions_activation", "rules_versions", ["activation"])


def downgrade() -> None:
    op.drop_index("ix_rules_versions_activation", table_name="rules_versions")
    # versions that never came into force would read as in force without the status: drop them
    op.execute("DELETE FROM rules_versions WHERE status <> 'in_force'")
    with op.batch_alter_table("rules_versions") as batch:
        for name in ("decided_at", "decided_by", "activation", "status"):
            batch.drop_column(name)
