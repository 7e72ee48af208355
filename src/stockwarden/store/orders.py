"""Tables of order proposals: draft purchase orders, their lines, and the approval log.

* ``order_proposals``: one row per draft purchase order (``po_id`` unique): supplier, receiving location,
  dates, the supplier minimum and the notes of the proposal run.
* ``order_proposal_lines``: one row per proposal line with the numbers behind its quantity and its
  explanation; ``status`` follows :class:`stockwarden.domain.order.ProposalStatus`. A partial unique
  index allows at most one *draft* per (sku, location_id): re-running a date updates it, never duplicates.
* ``order_approval_log``: every change of a line (who, when, event, from, to, qty and value before/after,
  reason code, comment), append-only.

Migration: ``migrations/versions/0003_orders.py``. Repository functions: :mod:`stockwarden.store.order_repo`.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.store.base import Base

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DRAFT_LINE = sa.text("status = 'draft'")


class OrderProposalRow(Base):
    """A draft purchase order (see :class:`stockwarden.domain.order.DraftPurchaseOrder`)."""

    __tablename__ = "order_proposals"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    po_id: Mapped[str] = mapped_column(sa.String(120), unique=True)
    supplier_id: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    location_id: Mapped[str] = mapped_column(sa.Text)
    as_of: Mapped[date] = mapped_column(sa.Date)
    order_date: Mapped[date] = mapped_column(sa.Date)
    order_by_date: Mapped[date] = mapped_column(sa.Date)
    expected_arrival_date: Mapped[date] = mapped_column(sa.Date)
    min_order_value: Mapped[float] = mapped_column(sa.Float, default=0.0)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    rules_version: Mapped[str] = mapped_column(sa.String(40), default="")
    run_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class OrderProposalLineRow(Base):
    """A proposal line (see :class:`stockwarden.domain.order.ProposalLine` for each column)."""

    __tablename__ = "order_proposal_lines"
    __table_args__ = (
        sa.Index(
            "uq_order_lines_draft_key",
            "sku",
            "location_id",
            unique=True,
            sqlite_where=DRAFT_LINE,
            postgresql_where=DRAFT_LINE,
        ),
        sa.Index("ix_order_lines_status", "status"),
    )

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order_proposals.id", ondelete="CASCADE"), index=True)
    po_id: Mapped[str] = mapped_column(sa.String(120))
    line_no: Mapped[int] = mapped_column(sa.Integer)
    sku: Mapped[str] = mapped_column(sa.Text)
    location_id: Mapped[str] = mapped_column(sa.Text)
    supplier_id: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    as_of: Mapped[date] = mapped_column(sa.Date)
    qty: Mapped[float] = mapped_column(sa.Float)
    proposed_qty: Mapped[float] = mapped_column(sa.Float)
    need_qty: Mapped[float] = mapped_column(sa.Float)
    inventory_position: Mapped[float] = mapped_column(sa.Float)
    on_hand: Mapped[float] = mapped_column(sa.Float)
    on_order: Mapped[float] = mapped_column(sa.Float)
    backorders: Mapped[float] = mapped_column(sa.Float)
    reorder_point: Mapped[float] = mapped_column(sa.Float)
    order_up_to: Mapped[float] = mapped_column(sa.Float)
    pack_size: Mapped[float] = mapped_column(sa.Float)
    moq: Mapped[float] = mapped_column(sa.Float)
    unit_cost: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    lead_time_days: Mapped[float] = mapped_column(sa.Float)
    stockout_probability: Mapped[float] = mapped_column(sa.Float)
    level: Mapped[str] = mapped_column(sa.String(20))
    expected_stockout_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    order_by_date: Mapped[date] = mapped_column(sa.Date)
    expected_arrival_date: Mapped[date] = mapped_column(sa.Date)
    expected_units_short: Mapped[float] = mapped_column(sa.Float)
    avoided_stockout_cost: Mapped[float] = mapped_column(sa.Float)
    avoided_cost_per_money: Mapped[float | None] = mapped_column(sa.Float, nullable=True)  # NULL = infinite
    reasons: Mapped[str] = mapped_column(sa.Text, default="")
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    override_reason: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    ordered_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    exported_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    rules_version: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class OrderApprovalLogRow(Base):
    """One entry of the approval log (see :class:`stockwarden.domain.order.AuditEntry`)."""

    __tablename__ = "order_approval_log"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_proposal_lines.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(sa.String(20))
    qty_before: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    qty_after: Mapped[float] = mapped_column(sa.Float)
    value_before: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    value_after: Mapped[float] = mapped_column(sa.Float)
    reason_code: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    comment: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    run_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)


__all__ = ["OrderApprovalLogRow", "OrderProposalLineRow", "OrderProposalRow"]
