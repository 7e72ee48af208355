"""Assessment frames become alert signals with levels, reasons and roles."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from tests.factories_alerts import make_assessment

from stockwarden.alerts.build import build_signals
from stockwarden.domain.alert import AlertLevel
from stockwarden.errors import SchemaError


def test_each_assessment_row_becomes_a_signal_with_its_numbers():
    frame = make_assessment([("A", "critical", 0.9), ("B", "ok", 0.01)])
    a, b = build_signals(frame, items=pd.DataFrame({"sku": ["A", "B"], "category": ["drinks", "snacks"]}))
    assert a.level is AlertLevel.CRITICAL and a.stockout_probability == 0.9
    assert a.expected_stockout_date == dt.date(2024, 5, 5) and b.expected_stockout_date is None
    assert a.reasons == ("below_reorder_point", "supplier_late") and b.reasons == ()
    assert a.category == "drinks"
    assert a.roles == ("planner", "buyer", "supplier_manager") and b.roles == ("planner",)


def test_store_locations_add_the_store_manager_role():
    frame = make_assessment([("A", "warning", 0.6)], location_id="S1")
    (sig,) = build_signals(frame, locations=pd.DataFrame({"location_id": ["S1"], "kind": ["Store"]}))
    assert "store_manager" in sig.roles


def test_a_missing_contract_column_or_unknown_level_is_a_clear_error():
    frame = make_assessment([("A", "warning", 0.6)])
    with pytest.raises(SchemaError, match=r"missing column.*reasons"):
        build_signals(frame.drop(columns="reasons"))
    frame.loc[0, "level"] = "red"
    with pytest.raises(SchemaError, match=r"unknown level.*red"):
        build_signals(frame)
