"""Every validation rule: the bad row is put aside with its line, column, value and a planner's reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.ingest_helpers import reject_at, validate_text

from stockwarden.errors import SchemaError
from stockwarden.ingest.validate import References

# (table, csv text whose line 3 is the only bad row, column, value, words expected in the reason)
BAD_ROWS = [
    ("sales", "date,sku,qty\n2024-01-01,A,1\n,A,2\n", "date", "", "date is empty but required"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-01-02,,2\n", "sku", "", "sku is empty"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-01-02,A,\n", "qty", "", "qty is empty"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-13-45,A,2\n", "date", "2024-13-45", "not a date"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-02-30,A,2\n", "date", "2024-02-30", "not a date"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\nyesterday,A,2\n", "date", "yesterday", "not a date"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-01-02,A,three\n", "qty", "three", "qty is not a number"),
    ("sales", "date,sku,qty\n2024-01-01,A,1\n2024-01-02,A,inf\n", "qty", "inf", "not a finite number"),
    ("sales", "date,sku,qty,price\n2024-01-01,A,1,2\n2024-01-02,A,1,-2\n", "price", "-2", "price is negative"),
    (
        "sales",
        "date,sku,qty,on_promotion\n2024-01-01,A,1,0\n2024-01-02,A,1,maybe\n",
        "on_promotion",
        "maybe",
        "must be 0 or 1",
    ),
    ("inventory", "date,sku,on_hand\n2024-01-01,A,1\n2024-01-02,A,-5\n", "on_hand", "-5", "on_hand is negative"),
    ("items", "sku,pack_size\nA,6\nB,0\n", "pack_size", "0", "greater than 0"),
    ("items", "sku,service_level\nA,0.95\nB,1.5\n", "service_level", "1.5", "above 1"),
    ("items", "sku,moq\nA,1\nB,-1\n", "moq", "-1", "moq is negative"),
    (
        "promotions",
        "sku,start_date,end_date,discount\nA,2024-01-01,2024-01-05,0.1\nB,2024-01-01,2024-01-05,2\n",
        "discount",
        "2",
        "above 1",
    ),
    (
        "promotions",
        "sku,start_date,end_date\nA,2024-01-01,2024-01-05\nB,2024-01-05,2024-01-01\n",
        "end_date",
        "2024-01-01",
        "end_date is before start_date",
    ),
    ("events", "date,name\n2024-01-01,New Year\n2024-01-02,\n", "name", "", "name is empty"),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date\nP1,A,5,2024-01-01\nP2,A,0,2024-01-01\n",
        "qty",
        "0",
        "greater than 0",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,line_no\nP1,A,5,2024-01-01,1\nP2,A,5,2024-01-01,1.5\n",
        "line_no",
        "1.5",
        "whole number",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,status\nP1,A,5,2024-01-01,open\nP2,A,5,2024-01-01,lost\n",
        "status",
        "lost",
        "must be one of open, received, cancelled",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,received_date\nP1,A,5,2024-01-05,2024-01-09\nP2,A,5,2024-01-05,2024-01-02\n",
        "received_date",
        "2024-01-02",
        "received_date is before order_date",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,promised_date\nP1,A,5,2024-01-05,2024-01-09\nP2,A,5,2024-01-05,2024-01-01\n",
        "promised_date",
        "2024-01-01",
        "promised_date is before order_date",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,status\nP1,A,5,2024-01-05,open\nP2,A,5,2024-01-05,received\n",
        "received_date",
        "",
        "status is received but received_date is empty",
    ),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,received_date,status\nP1,A,5,2024-01-05,,open\nP2,A,5,2024-01-05,2024-01-07,open\n",
        "status",
        "open",
        "status is open but received_date is filled",
    ),
    ("items", "sku,name\nA,Widget\nA,Other name\n", "sku", "A", "also on line 2"),
    ("inventory", "date,sku,on_hand\n2024-01-01,A,4\n2024-01-01,A,5\n", "on_hand", "5", "different count"),
    (
        "purchase_orders",
        "po_id,sku,qty,order_date,line_no\nP1,A,5,2024-01-01,1\nP1,B,5,2024-01-01,1\n",
        "line_no",
        "1",
        "same line_no",
    ),
    (
        "sales",
        "date,sku,qty\n2024-01-01,A,1\n2024-01-02,A,1,extra\n",
        "",
        "2024-01-02,A,1,extra",
        "the line has 4 fields but the header has 3",
    ),
]


@pytest.mark.parametrize(
    ("table", "text", "column", "value", "reason"),
    BAD_ROWS,
    ids=[f"{t}-{c or 'line'}-{r[:24]}" for t, _, c, _, r in BAD_ROWS],
)
def test_a_bad_row_is_put_aside_with_line_column_value_and_reason(
    tmp_path: Path, table: str, text: str, column: str, value: str, reason: str
) -> None:
    res = validate_text(tmp_path, table, text)
    bad = reject_at(res, 3)
    assert (bad["table"], bad["file"], bad["column"], bad["value"]) == (table, f"{table}.csv", column, value)
    assert reason in bad["reason"]
    assert len(res.accepted) == 1 and res.accepted["line"].tolist() == [2]
    assert res.n_read == len(res.accepted) + len(res.rejected) + res.n_duplicates == 2


@pytest.mark.parametrize(
    ("column", "known", "table"),
    [("sku", "skus", "items"), ("location_id", "locations", "locations"), ("supplier_id", "suppliers", "suppliers")],
)
def test_a_reference_to_an_unknown_code_is_put_aside(tmp_path: Path, column: str, known: str, table: str) -> None:
    text = (
        "po_id,sku,qty,order_date,location_id,supplier_id\n"
        "P1,K,5,2024-01-01,K,K\n"
        f"P2,{'X' if column == 'sku' else 'K'},5,2024-01-01,{'X' if column == 'location_id' else 'K'},"
        f"{'X' if column == 'supplier_id' else 'K'}\n"
    )
    refs = References(skus=frozenset({"K"}), locations=frozenset({"K"}), suppliers=frozenset({"K"}))
    res = validate_text(tmp_path, "purchase_orders", text, refs)
    bad = reject_at(res, 3)
    assert (bad["column"], bad["value"]) == (column, "X")
    assert f"{column} is not in {table}" in bad["reason"]


def test_an_empty_location_is_main_and_its_rejection_says_so(tmp_path: Path) -> None:
    refs = References(locations=frozenset({"WH1"}))
    res = validate_text(tmp_path, "sales", "date,sku,qty,location_id\n2024-01-01,A,1,WH1\n2024-01-02,A,1,\n", refs)
    bad = reject_at(res, 3)
    assert bad["column"] == "location_id" and bad["value"] == ""
    assert "empty, so it means MAIN" in bad["reason"] and "add MAIN to locations" in bad["reason"]


def test_an_empty_location_is_accepted_as_main_when_locations_has_main(tmp_path: Path) -> None:
    refs = References(locations=frozenset({"MAIN"}))
    res = validate_text(tmp_path, "sales", "date,sku,qty\n2024-01-01,A,1\n", refs)
    assert res.rejected.empty and res.accepted["location_id"].tolist() == ["MAIN"]


def test_exact_repeats_are_counted_as_duplicates_not_rejected(tmp_path: Path) -> None:
    text = "date,sku,qty,order_id\n2024-01-01,A,1,o1\n2024-01-01,A,1,o1\n2024-01-01,A,1,o2\n 2024-01-01 ,A,1,o1\n"
    res = validate_text(tmp_path, "sales", text)
    assert res.n_duplicates == 2 and res.rejected.empty
    assert res.accepted["order_id"].tolist() == ["o1", "o2"]


def test_sales_lines_for_the_same_day_are_all_kept(tmp_path: Path) -> None:
    res = validate_text(tmp_path, "sales", "date,sku,qty\n2024-01-01,A,1\n2024-01-01,A,2\n2024-01-01,A,3\n")
    assert res.accepted["qty"].sum() == 6 and res.n_duplicates == 0


def test_line_numbers_stay_exact_across_blank_and_malformed_lines(tmp_path: Path) -> None:
    text = "date,sku,qty\n2024-01-01,A,1\n\n2024-01-02,A,2\nbroken\n2024-01-03,A,x\n2024-01-04,A,4\n"
    res = validate_text(tmp_path, "sales", text)
    assert res.accepted["line"].tolist() == [2, 4, 7]
    assert reject_at(res, 5)["reason"].startswith("the line has 1 fields")
    assert reject_at(res, 6)["column"] == "qty"
    assert res.n_read == 5


def test_cells_are_parsed_like_a_spreadsheet_user_expects(tmp_path: Path) -> None:
    text = (
        "date,sku,qty,on_promotion,price\n"
        '2024/01/05, A ,"1,234",是,1.5\n'
        "2024-01-06T10:30:00,B,2,yes,\n"
        "2024-1-7,C,-3,0,0\n"
    )
    res = validate_text(tmp_path, "sales", text)
    assert res.rejected.empty
    acc = res.accepted
    assert acc["date"].tolist() == list(pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"]))
    assert acc["sku"].tolist() == ["A", "B", "C"]
    assert acc["qty"].tolist() == [1234.0, 2.0, -3.0]  # a negative sale is a return
    assert acc["on_promotion"].tolist() == [1.0, 1.0, 0.0]
    assert np.isnan(acc["price"].iloc[1])


def test_columns_have_the_documented_dtypes_and_defaults(tmp_path: Path) -> None:
    res = validate_text(
        tmp_path,
        "purchase_orders",
        "po_id,sku,qty,order_date,received_date\nP1,A,5,2024-01-01,2024-01-04\nP1,B,6,2024-01-01,\n",
    )
    acc = res.accepted
    assert str(acc["order_date"].dtype) == "datetime64[ns]" and acc["qty"].dtype == np.float64
    assert acc["sku"].dtype == object and acc["location_id"].tolist() == ["MAIN", "MAIN"]
    assert acc["status"].tolist() == ["received", "open"]
    assert acc["received_qty"].iloc[0] == 5.0 and np.isnan(acc["received_qty"].iloc[1])
    assert acc["line_no"].tolist() == [1.0, 2.0]  # numbered by position within the PO


def test_a_missing_required_column_makes_the_file_unusable(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="required column 'qty' is missing"):
        validate_text(tmp_path, "sales", "date,sku,quantity\n2024-01-01,A,1\n")


def test_extra_columns_are_kept_as_text(tmp_path: Path) -> None:
    res = validate_text(tmp_path, "sales", "date,sku,qty,channel\n2024-01-01,A,1,web\n")
    assert res.extra_columns == ("channel",) and res.accepted["channel"].tolist() == ["web"]
