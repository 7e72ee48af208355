"""The demo's risk table is sorted by urgency and its reasons stay short."""

from __future__ import annotations

import pandas as pd

from stockwarden.cli.demo_view import short_reasons, sort_by_urgency


def test_the_risk_table_puts_the_most_urgent_first() -> None:
    frame = pd.DataFrame(
        {
            "sku": ["ok", "watch", "warn-late", "crit", "warn-soon", "warn-likely"],
            "location_id": ["L"] * 6,
            "level": ["ok", "watch", "warning", "critical", "warning", "warning"],
            "stockout_probability": [0.01, 0.3, 0.6, 0.2, 0.6, 0.9],
            "expected_stockout_date": [None, "2025-12-01", "2025-11-20", "2025-11-01", "2025-11-05", None],
        }
    )
    assert sort_by_urgency(frame)["sku"].tolist() == ["crit", "warn-likely", "warn-soon", "warn-late", "watch", "ok"]


def test_reasons_are_cut_to_the_first_few_with_a_count_of_the_rest() -> None:
    assert short_reasons("a;b;c;d;e", keep=2) == "a, b +3"
    assert short_reasons("a", keep=2) == "a"
    assert short_reasons("", keep=2) == ""
    assert short_reasons(float("nan")) == ""
