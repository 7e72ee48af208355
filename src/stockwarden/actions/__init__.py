"""From assessment to action: order proposals, their approval, and the ERP export.

* :mod:`~stockwarden.actions.replenish`: :func:`propose_orders` (pure) turns a risk assessment into draft
  purchase orders, each line explained in words and numbers.
* :mod:`~stockwarden.actions.budget`: supplier minimum order values and the cash budget.
* :mod:`~stockwarden.actions.approval`: the state machine ``draft -> approved | rejected | changed ->
  exported`` with role limits, auto-approval, pluggable checks and audit entries.
* :mod:`~stockwarden.actions.export`: the ERP import file (CSV / XLSX, Chinese headers on request), the
  JSON webhook, and exported orders fed back as open purchase orders.

Storage lives in :mod:`stockwarden.store.order_repo`; the CLI in ``stockwarden proposals ...``.
"""

from stockwarden.actions.approval import Actor, approve_line, auto_approve, change_line, mark_exported, reject_line
from stockwarden.actions.export import (
    EXPORT_COLUMNS,
    build_export,
    exported_orders_as_pos,
    merge_exported_orders,
    post_webhook,
    webhook_payload,
    write_export,
)
from stockwarden.actions.replenish import compute_eoq, propose_orders

__all__ = [
    "EXPORT_COLUMNS",
    "Actor",
    "approve_line",
    "auto_approve",
    "build_export",
    "change_line",
    "compute_eoq",
    "exported_orders_as_pos",
    "mark_exported",
    "merge_exported_orders",
    "post_webhook",
    "propose_orders",
    "reject_line",
    "webhook_payload",
    "write_export",
]
