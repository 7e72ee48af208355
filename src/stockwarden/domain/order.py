"""Order proposals: statuses, override reasons, proposal lines and draft purchase orders.

Pure values only. A :class:`ProposalLine` is one SKU-location's suggested order with the numbers
behind it and a sentence explaining them; lines for one supplier (and receiving location) form a
:class:`DraftPurchaseOrder`; a run's proposals are a :class:`ProposalSet`.

Lifecycle of a line (``actions/approval.py`` enforces it)::

    draft ──approve──> approved ──export──> exported
      │                                       ^
      ├──change (qty + reason)──> changed ────┘
      └──reject (reason)──> rejected
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class ProposalStatus(StrEnum):
    """Where a proposal line stands (stable values, stored in the database)."""

    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGED = "changed"  # approved with a different quantity (an override reason is required)
    EXPORTED = "exported"

    @property
    def is_approved(self) -> bool:
        """True for approved lines that have not been exported yet (approved or changed)."""
        return self in (ProposalStatus.APPROVED, ProposalStatus.CHANGED)

    @property
    def is_open(self) -> bool:
        """True while the line can still be exported (draft, approved or changed)."""
        return self in (ProposalStatus.DRAFT, ProposalStatus.APPROVED, ProposalStatus.CHANGED)


class OverrideReason(StrEnum):
    """Why a planner changed or rejected a proposal (stable codes, stored with the audit entry)."""

    DEMAND_KNOWLEDGE = "demand_knowledge"  # the planner knows demand differs from the forecast
    PROMOTION = "promotion"  # a promotion or event not in the data
    SUPPLIER_ISSUE = "supplier_issue"  # supplier cannot deliver, allocation, price change
    STOCK_ELSEWHERE = "stock_elsewhere"  # stock available at another location / transfer instead
    BUDGET = "budget"  # cash constraint
    OVERSTOCK = "overstock"  # enough stock, space or shelf-life limits
    PHASE_OUT = "phase_out"  # item being discontinued or substituted
    DATA_ERROR = "data_error"  # the stock count or open orders in the data are wrong
    ALREADY_ORDERED = "already_ordered"  # ordered outside stockwarden
    OTHER = "other"


class ProposalEvent(StrEnum):
    """Dotted event names written to the approval log."""

    CREATED = "order.proposed"
    APPROVED = "order.approved"
    AUTO_APPROVED = "order.auto_approved"
    CHANGED = "order.changed"
    REJECTED = "order.rejected"
    EXPORTED = "order.exported"


@dataclass(frozen=True, slots=True)
class ProposalLine:
    """One suggested order line for a SKU at a location.

    Attributes:
        sku: item.
        location_id: receiving location.
        supplier_id: supplier (None when unknown).
        po_id: the draft purchase order this line belongs to.
        line_no: position in that order (1-based).
        qty: units proposed (a multiple of ``pack_size``, at least ``moq``).
        need_qty: order-up-to level minus inventory position, before rounding.
        inventory_position: on hand + on order - backorders (+ exported orders not yet in the data).
        on_hand: units on hand.
        on_order: units on open purchase orders.
        backorders: units owed to customers.
        reorder_point: the reorder point from the assessment.
        order_up_to: the order-up-to level from the assessment.
        pack_size: order multiple.
        moq: minimum order quantity.
        unit_cost: purchase cost per unit (NaN when unknown).
        lead_time_days: lead time used for the expected arrival.
        stockout_probability: P(stockout within the protection interval if nothing is ordered).
        level: the assessment's alert level.
        expected_stockout_date: when a stockout is expected (None when none is).
        order_by_date: last day to order so the goods arrive before the expected stockout.
        expected_arrival_date: arrival if ordered on the proposal date.
        expected_units_short: units expected to be short if nothing is ordered.
        avoided_stockout_cost: money of lost margin the order avoids (for budget ranking).
        avoided_cost_per_money: ``avoided_stockout_cost / value``, the budget ranking key (inf at no cost).
        reasons: the assessment's reason codes.
        explanation: how the quantity was computed, in words and numbers.
        status: lifecycle status.
        proposal_id: database id once stored (None before).
    """

    sku: str
    location_id: str
    supplier_id: str | None
    po_id: str
    line_no: int
    qty: float
    need_qty: float
    inventory_position: float
    on_hand: float
    on_order: float
    backorders: float
    reorder_point: float
    order_up_to: float
    pack_size: float
    moq: float
    unit_cost: float
    lead_time_days: float
    stockout_probability: float
    level: str
    expected_stockout_date: dt.date | None
    order_by_date: dt.date
    expected_arrival_date: dt.date
    expected_units_short: float
    avoided_stockout_cost: float
    reasons: tuple[str, ...]
    explanation: str
    avoided_cost_per_money: float = 0.0
    status: ProposalStatus = ProposalStatus.DRAFT
    proposal_id: int | None = None

    @property
    def value(self) -> float:
        """Money to spend on this line (0 when the unit cost is unknown)."""
        return 0.0 if self.unit_cost != self.unit_cost else self.qty * self.unit_cost

    @property
    def key(self) -> tuple[str, str]:
        """The SKU-location this line orders for."""
        return (self.sku, self.location_id)


@dataclass(frozen=True, slots=True)
class DraftPurchaseOrder:
    """Proposal lines for one supplier and receiving location.

    Attributes:
        po_id: order number (``<prefix>-<yyyymmdd>-<supplier>-<location>``).
        supplier_id: supplier (None when the items name none).
        location_id: receiving location.
        order_date: the proposal date (the order is placed when it is approved and exported).
        order_by_date: the earliest order-by date of its lines.
        expected_arrival_date: latest expected arrival of its lines.
        lines: the lines, most at risk first.
        min_order_value: the supplier's minimum order value (0 = none).
        notes: what was done to the order as a whole (top-ups, budget cuts), one sentence each.
    """

    po_id: str
    supplier_id: str | None
    location_id: str
    order_date: dt.date
    order_by_date: dt.date
    expected_arrival_date: dt.date
    lines: tuple[ProposalLine, ...]
    min_order_value: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def total_value(self) -> float:
        """Sum of the line values."""
        return float(sum(line.value for line in self.lines))

    @property
    def is_below_minimum(self) -> bool:
        """True when the order value is under the supplier's minimum (after a budget cut)."""
        return self.min_order_value > 0 and self.total_value < self.min_order_value - 1e-9


@dataclass(frozen=True, slots=True)
class ProposalSet:
    """Everything one proposal run produced.

    Attributes:
        as_of: the assessment date.
        orders: draft purchase orders.
        cut_lines: lines left out because the cash budget ran out (lowest value for money first).
        skipped: per SKU-location considered but not proposed, the reason (``covered``, ``above_reorder_point``).
        budget: the cash budget applied (None = none).
        rules_version: hash of the rules used.
    """

    as_of: dt.date
    orders: tuple[DraftPurchaseOrder, ...]
    cut_lines: tuple[ProposalLine, ...] = ()
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)
    budget: float | None = None
    rules_version: str = ""

    @property
    def lines(self) -> tuple[ProposalLine, ...]:
        """All proposed lines, order by order."""
        return tuple(line for order in self.orders for line in order.lines)

    @property
    def total_value(self) -> float:
        """Sum of all order values."""
        return float(sum(o.total_value for o in self.orders))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change of a proposal line, as written to the approval log.

    Attributes:
        proposal_id: the line's database id (None before it is stored).
        sku: item (kept so the log reads on its own).
        location_id: location.
        event: dotted event name.
        at: when (UTC).
        user: who (``system`` for automatic steps).
        role: the role acted as (None when not relevant).
        from_status: status before (None at creation).
        to_status: status after.
        qty_before: quantity before.
        qty_after: quantity after.
        value_before: money before.
        value_after: money after.
        reason_code: override reason (required for change and reject).
        comment: free text.
    """

    proposal_id: int | None
    sku: str
    location_id: str
    event: ProposalEvent
    at: dt.datetime
    user: str
    role: str | None
    from_status: ProposalStatus | None
    to_status: ProposalStatus
    qty_before: float | None
    qty_after: float
    value_before: float | None
    value_after: float
    reason_code: str | None = None
    comment: str | None = None

    @property
    def deltas(self) -> dict[str, tuple[object, object]]:
        """What changed: ``{"status": (from, to), "qty": (before, after), ...}`` for fields that differ."""
        out: dict[str, tuple[object, object]] = {}
        if self.from_status != self.to_status:
            out["status"] = (self.from_status, self.to_status)
        if self.qty_before != self.qty_after:
            out["qty"] = (self.qty_before, self.qty_after)
        if self.value_before != self.value_after:
            out["value"] = (self.value_before, self.value_after)
        return out
