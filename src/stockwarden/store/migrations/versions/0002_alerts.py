"""Alerts, handling log, feedback, notification outbox, runs and run steps.

Revision ID: 0002_alerts
Revises: 0001_dataset
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_alerts"
down_revision: str | Sequence[str] | None = "0001_dataset"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
LIVE_ALERT = sa.text("state <> 'resolved'")


def upgrade() -> None:
    """Create the tables of the action loop."""
    op.create_table(
        "alerts",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("stockout_probability", sa.Float(), nullable=False),
        sa.Column("expected_stockout_date", sa.Date(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("days_of_cover", sa.Float(), nullable=True),
        sa.Column("suggested_order_qty", sa.Float(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("first_as_of", sa.Date(), nullable=False),
        sa.Column("last_as_of", sa.Date(), nullable=False),
        sa.Column("notified_level", sa.String(20), nullable=False),
        sa.Column("critical_since", TS, nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("snooze_until_worse", sa.Boolean(), nullable=False),
        sa.Column("snooze_level", sa.String(20), nullable=True),
        sa.Column("clear_runs", sa.Integer(), nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("is_latched", sa.Boolean(), nullable=False),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index(
        "uq_alerts_live_key",
        "alerts",
        ["kind", "sku", "location_id"],
        unique=True,
        sqlite_where=LIVE_ALERT,
        postgresql_where=LIVE_ALERT,
    )
    op.create_index("ix_alerts_state_level", "alerts", ["state", "level"])
    op.create_table(
        "alert_log",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("alert_id", ID_TYPE, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("from_level", sa.String(20), nullable=True),
        sa.Column("to_level", sa.String(20), nullable=True),
        sa.Column("notify", sa.String(20), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_alert_log_alert_id_alerts", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_log"),
    )
    op.create_index("ix_alert_log_alert_id", "alert_log", ["alert_id"])
    op.create_index("ix_alert_log_run_id", "alert_log", ["run_id"])
    op.create_table(
        "alert_feedback",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("alert_id", ID_TYPE, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("stockout_probability", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name="fk_alert_feedback_alert_id_alerts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_feedback"),
    )
    op.create_index("ix_alert_feedback_alert_id", "alert_feedback", ["alert_id"])
    op.create_table(
        "outbox",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("alert_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sending_since", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_run_id", "outbox", ["run_id"])
    op.create_table(
        "runs",
        sa.Column("id", ID_TYPE, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.String(120), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("data_hash", sa.String(40), nullable=False),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_key", name="uq_runs_run_key"),
    )
    op.create_table(
        "run_steps",
        sa.Column("run_id", ID_TYPE, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_steps_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "name", name="pk_run_steps"),
    )


def downgrade() -> None:
    """Drop the tables of the action loop."""
    for name in ("run_steps", "runs", "outbox", "alert_feedback", "alert_log", "alerts"):
        op.drop_table(name)
