"""Properties of the lead-time model's distributions on random PO histories (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.factories_supply import frame, po_rows, supply_dataset

from stockwarden.forecast.leadtime import estimate_lead_times

AS_OF = pd.Timestamp("2024-12-31")


@settings(max_examples=25, deadline=None)
@given(
    delays=st.lists(st.integers(-5, 40), min_size=0, max_size=40),
    elapsed=st.lists(st.integers(-30, 400), min_size=1, max_size=8),
    has_promise=st.booleans(),
)
def test_arrival_and_lead_time_pmfs_are_distributions(delays: list[int], elapsed: list[int], has_promise: bool) -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=delays, every_days=5)
    pos = [p for p in pos if pd.Timestamp(p["received_date"]) <= AS_OF]
    model = estimate_lead_times(supply_dataset(pos), as_of=AS_OF)
    lead, _ = model.lead_time_pmf("S", "A")
    assert (lead >= 0).all() and lead.sum() <= 1 + 1e-9
    rows = [
        {
            "po_id": f"X{i}",
            "sku": "A",
            "supplier_id": "S",
            "qty": 1,
            "order_date": AS_OF - pd.Timedelta(days=e + 7),
            "promised_date": (AS_OF - pd.Timedelta(days=e)) if has_promise else None,
        }
        for i, e in enumerate(elapsed)
    ]
    arrivals = model.arrival_pmfs(frame("purchase_orders", rows), AS_OF)
    assert arrivals.shape == (len(elapsed), model.max_days + 1)
    assert (arrivals >= 0).all()
    assert (arrivals[:, 0] == 0).all()
    sums = arrivals.sum(axis=1)
    assert (sums <= 1 + 1e-9).all()
    # An open PO arrives within max_days unless the history itself says it may take longer.
    assert (sums > 0.5).all()
    assert np.isfinite(arrivals).all()
