"""Lead-time model: lead-time, delay and short-delivery distributions learnt from PO history.

See :mod:`stockwarden.forecast.leadtime.model` for the maths. Public entry points:
:func:`estimate_lead_times` and :class:`LeadTimeModel`.
"""

from stockwarden.forecast.leadtime.fit import estimate_lead_times
from stockwarden.forecast.leadtime.model import LeadTimeModel, received_po_history

__all__ = ["LeadTimeModel", "estimate_lead_times", "received_po_history"]
