"""Issue 16: nothing is read as another value, and no file shape can hang the reader.

Each test names the issue's case it covers. A value is read exactly, or its row is put aside with a
reason; a file the reader cannot or must not parse is refused with one clear message.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pandas as pd
import pytest
from tests.ingest_helpers import minimal_folder, reject_at, write_text

from stockwarden.errors import MappingError, SchemaError
from stockwarden.ingest.dataset import read_dataset
from stockwarden.ingest.options import ReadLimits, ReadOptions, neutralise_formula, unneutralise_formula
from stockwarden.ingest.read import load_mapping, load_mapping_options, read_raw_table
from stockwarden.ingest.validate import ValidationResult, validate_table


def _sales(tmp_path: Path, rows: list[tuple[str, str]], *, options: ReadOptions | None = None) -> ValidationResult:
    text = "date,sku,qty\n" + "".join(f'"{d}",A,"{q}"\n' for d, q in rows)
    path = write_text(tmp_path, "sales.csv", text)
    opts = options or ReadOptions()
    return validate_table(read_raw_table(path, "sales", options=opts), options=opts)


def _date_of(res: ValidationResult, line: int) -> pd.Timestamp:
    row = res.accepted.loc[res.accepted["line"] == line]
    assert len(row) == 1, res.rejected
    return pd.Timestamp(row["date"].iloc[0])


def _qty_of(res: ValidationResult, line: int) -> float:
    row = res.accepted.loc[res.accepted["line"] == line]
    assert len(row) == 1, res.rejected
    return float(row["qty"].iloc[0])


# -- case 1: dates outside the representable range are rejected, never wrapped ---------------------------


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2263-01-01", "1677-01-01", "1899-12-31"])
def test_case1_a_date_outside_the_supported_range_is_rejected_not_wrapped(tmp_path: Path, text: str) -> None:
    res = _sales(tmp_path, [(text, "1")])
    assert res.accepted.empty
    bad = reject_at(res, 2)
    assert bad["value"] == text and "outside the supported range 1900-01-01 to 2199-12-31" in bad["reason"]


def test_case1_the_range_edges_are_read_exactly(tmp_path: Path) -> None:
    res = _sales(tmp_path, [("1900-01-01", "1"), ("2199-12-31", "1")])
    assert _date_of(res, 2) == pd.Timestamp("1900-01-01") and _date_of(res, 3) == pd.Timestamp("2199-12-31")


# -- case 2: ambiguous day/month forms are rejected unless the import states the order ----------------------


@pytest.mark.parametrize("text", ["05.03.2024", "13.03.2024", "5/3/2024", "05-03-2024"])
def test_case2_a_day_month_date_without_a_stated_order_is_rejected_as_ambiguous(tmp_path: Path, text: str) -> None:
    res = _sales(tmp_path, [(text, "1")])
    bad = reject_at(res, 2)
    assert "ambiguous" in bad["reason"] and "--date-order" in bad["reason"]


@pytest.mark.parametrize(
    ("order", "text", "expected"),
    [
        ("dmy", "05.03.2024", "2024-03-05"),
        ("dmy", "13.03.2024", "2024-03-13"),
        ("dmy", "5/3/2024", "2024-03-05"),
        ("mdy", "05.03.2024", "2024-05-03"),
        ("mdy", "5/3/2024", "2024-05-03"),
    ],
)
def test_case2_a_stated_order_reads_every_value_the_same_way(
    tmp_path: Path, order: str, text: str, expected: str
) -> None:
    res = _sales(tmp_path, [(text, "1")], options=ReadOptions(date_order=order))  # type: ignore[arg-type]
    assert _date_of(res, 2) == pd.Timestamp(expected)


def test_case2_a_stated_order_still_rejects_an_impossible_day(tmp_path: Path) -> None:
    res = _sales(tmp_path, [("13.03.2024", "1")], options=ReadOptions(date_order="mdy"))
    assert "not a date" in reject_at(res, 2)["reason"]


@pytest.mark.parametrize(
    "text",
    ["2024-03-05", "2024/03/05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "2024-03-05T23:59:59+08:00"],
)
def test_case2_unambiguous_forms_are_accepted_without_an_option(tmp_path: Path, text: str) -> None:
    assert _date_of(_sales(tmp_path, [(text, "1")]), 2) == pd.Timestamp("2024-03-05")


def test_case2_excel_serial_days_are_read_in_xlsx_files_only(tmp_path: Path) -> None:
    pd.DataFrame({"date": [45356, "2024-03-06"], "sku": ["A", "A"], "qty": [1, 2]}).to_excel(
        tmp_path / "sales.xlsx", index=False
    )
    res = validate_table(read_raw_table(tmp_path / "sales.xlsx", "sales"))
    assert list(res.accepted["date"]) == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    csv = _sales(tmp_path, [("45356", "1")])
    assert "not a date" in reject_at(csv, 2)["reason"]


# -- case 3: decimal commas are never read as thousands separators --------------------------------------


@pytest.mark.parametrize("text", ["1,5", "12,50", "1,2,3", "1.234,5", "1,23", ",5", "1,,234", "1,234,5"])
def test_case3_a_comma_outside_thousands_groups_is_rejected(tmp_path: Path, text: str) -> None:
    res = _sales(tmp_path, [("2024-01-01", text)])
    bad = reject_at(res, 2)
    assert bad["column"] == "qty" and "--decimal-comma" in bad["reason"]


@pytest.mark.parametrize(
    ("text", "value"), [("1,234", 1234.0), ("12,345,678", 12345678.0), ("-1,234.5", -1234.5), ("1 234", 1234.0)]
)
def test_case3_well_formed_thousands_groups_are_read(tmp_path: Path, text: str, value: float) -> None:
    assert _qty_of(_sales(tmp_path, [("2024-01-01", text)]), 2) == value


@pytest.mark.parametrize(("text", "value"), [("1,5", 1.5), ("12,50", 12.5), ("1.234,5", 1234.5), ("-3", -3.0)])
def test_case3_decimal_commas_are_read_when_the_import_says_so(tmp_path: Path, text: str, value: float) -> None:
    res = _sales(tmp_path, [("2024-01-01", text)], options=ReadOptions(decimal_comma=True))
    assert _qty_of(res, 2) == value


@pytest.mark.parametrize("text", ["1,2,3", "1.5", "1,234.5"])
def test_case3_with_decimal_commas_a_point_outside_groups_is_rejected(tmp_path: Path, text: str) -> None:
    res = _sales(tmp_path, [("2024-01-01", text)], options=ReadOptions(decimal_comma=True))
    assert "decimal comma" in reject_at(res, 2)["reason"]


# -- case 4: a duplicated header column refuses the file, naming the column ------------------------------


@pytest.mark.parametrize(
    ("header", "column"), [("date,sku,qty,qty", "qty"), ("date,sku,qty,price,Price", "Price"), ("date,sku,,qty,", "")]
)
def test_case4_a_column_named_twice_refuses_the_file(tmp_path: Path, header: str, column: str) -> None:
    path = write_text(
        tmp_path,
        "sales.csv",
        f"{header}\n" + ",".join(["2024-01-01", "A", "1", "2", "3"][: len(header.split(","))]) + "\n",
    )
    with pytest.raises(SchemaError, match=f"column '{column}' appears twice in the header") as err:
        read_raw_table(path, "sales")
    assert "sales.csv" in str(err.value)


def test_case4_a_duplicated_xlsx_header_is_refused_too(tmp_path: Path) -> None:
    frame = pd.DataFrame([["2024-01-01", "A", 1, 2]], columns=["date", "sku", "qty", "qty"])
    frame.to_excel(tmp_path / "sales.xlsx", index=False)
    with pytest.raises(SchemaError, match="column 'qty' appears twice"):
        read_raw_table(tmp_path / "sales.xlsx", "sales")


# -- case 11: input limits are checked before parsing --------------------------------------------------------


def test_case11_one_line_of_millions_of_empty_fields_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes(b"," * 5_000_000 + b"\n")
    started = time.perf_counter()
    with pytest.raises(SchemaError) as err:
        read_raw_table(path, "sales")
    assert time.perf_counter() - started < 5  # generous on a loaded machine; it takes ~20 ms
    message = str(err.value)
    assert "limit" in message and "ingest.max_line_bytes" in message and len(message) < 300


def test_case11_a_normal_header_and_a_row_of_millions_of_fields_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes(b"date,sku,qty\n2024-01-01,A,1\n" + b"," * 900_000 + b"\n")
    with pytest.raises(SchemaError, match=r"line 3 has 900,001 fields; the limit is 1,024 .*max_fields_per_row"):
        read_raw_table(path, "sales")


def test_case11_the_limits_are_configurable(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(300))
    path = write_text(tmp_path, "sales.csv", f"date,sku,qty,{header}\n")
    with pytest.raises(
        SchemaError, match=r"the header has 303 columns; the limit is 256 \(setting ingest.max_columns\)"
    ) as e:
        read_raw_table(path, "sales")
    assert "c299" not in str(e.value)  # the message does not echo the column names
    wide = ReadOptions(limits=ReadLimits(max_columns=400))
    assert len(read_raw_table(path, "sales", options=wide).frame.columns) == 303
    small = ReadOptions(limits=ReadLimits(max_line_bytes=64))
    line = write_text(tmp_path / "b", "sales.csv", "date,sku,qty\n2024-01-01,A,1," + "x" * 100 + "\n")
    with pytest.raises(SchemaError, match="line 2 is 115 bytes long; the limit is 64"):
        read_raw_table(line, "sales", options=small)
    size = ReadOptions(limits=ReadLimits(max_file_bytes=10))
    with pytest.raises(SchemaError, match=r"ingest\.max_file_bytes"):
        read_raw_table(line, "sales", options=size)


def test_case11_a_gzip_bomb_is_refused_by_its_decompressed_size(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(b"date,sku,qty\n" + b"2024-01-01,A,1\n" * 100_000))
    options = ReadOptions(limits=ReadLimits(max_file_bytes=100_000))
    with pytest.raises(SchemaError, match="decompresses to more than 100,000 bytes"):
        read_raw_table(path, "sales", options=options)


# -- case 14: line numbers are physical lines, also after a value spanning lines ----------------------------


def test_case14_reject_lines_are_physical_lines_after_a_multi_line_value(tmp_path: Path) -> None:
    text = 'date,sku,qty,order_id\n2024-01-01,A,1,"first\nsecond\nthird"\n2024-01-02,A,x,o2\n2024-01-03,A,2,o3\n'
    path = write_text(tmp_path, "sales.csv", text)
    res = validate_table(read_raw_table(path, "sales"))
    assert reject_at(res, 5)["value"] == "x"
    assert list(res.accepted["line"]) == [2, 6]
    assert res.accepted["order_id"].iloc[0] == "first\nsecond\nthird"


def test_case14_a_malformed_line_after_a_multi_line_value_keeps_its_physical_line(tmp_path: Path) -> None:
    text = 'date,sku,qty,order_id\n2024-01-01,A,1,"a\nb"\n\n2024-01-02,A,1\n2024-01-03,A,2,o3\n'
    res = validate_table(read_raw_table(write_text(tmp_path, "sales.csv", text), "sales"))
    assert "3 fields but the header has 4" in reject_at(res, 5)["reason"]
    assert list(res.accepted["line"]) == [2, 6]


# -- case 15: messages that name the problem, not the parser's internals ------------------------------------


def test_case15_an_unclosed_quote_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.csv", 'date,sku,qty\n2024-01-01,A,1\n2024-01-02,"B,2\n2024-01-03,C,3\n')
    with pytest.raises(SchemaError, match="quoted value starting on line 3 is never closed") as err:
        read_raw_table(path, "sales")
    assert "C error" not in str(err.value) and "row 1" not in str(err.value)


def test_case15_a_csv_renamed_xlsx_says_what_it_is(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.xlsx", "date,sku,qty\n2024-01-01,A,1\n")
    with pytest.raises(SchemaError, match=r"not an Excel workbook .* looks like text") as err:
        read_raw_table(path, "sales")
    assert "zip" not in str(err.value).lower()


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_case15_semicolon_tab_and_pipe_separated_files_are_read(tmp_path: Path, sep: str) -> None:
    text = sep.join(["date", "sku", "qty"]) + "\n" + sep.join(["2024-01-01", "A", "1,5"]) + "\n"
    path = write_text(tmp_path, "sales.csv", text)
    options = ReadOptions(decimal_comma=True)
    res = validate_table(read_raw_table(path, "sales", options=options), options=options)
    assert res.rejected.empty and float(res.accepted["qty"].iloc[0]) == 1.5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_case15_utf16_files_are_decoded(tmp_path: Path, encoding: str) -> None:
    path = write_text(tmp_path, "sales.csv", "date,sku,qty\n2024-01-01,货号A,3\n", encoding=encoding)
    res = validate_table(read_raw_table(path, "sales"))
    assert res.rejected.empty and list(res.accepted["sku"]) == ["货号A"]


# -- case 13 (reader side): our formula escaping is undone on re-import ----------------------------------


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil","x")', "+1", "-A", "@SUM(1)", "'=x", "''+y", "'plain"])
def test_case13_escaping_is_exactly_undone(value: str) -> None:
    escaped = neutralise_formula(value)
    assert not escaped.startswith(("=", "+", "-", "@"))
    assert unneutralise_formula(escaped) == value


def test_case13_an_escaped_sku_is_read_back_exactly(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.csv", "date,sku,qty\n2024-01-01,'=cmd|' /C calc'!A0,1\n")
    res = validate_table(read_raw_table(path, "sales"))
    assert list(res.accepted["sku"]) == ["=cmd|' /C calc'!A0"]


# -- the mapping file can state the forms, and misspelt table files are reported ------------------------------


def test_a_mapping_file_states_the_date_order_and_decimal_comma(tmp_path: Path) -> None:
    mapping = write_text(
        tmp_path, "m.toml", '[options]\ndate_order = "dmy"\ndecimal_comma = true\n[sales]\n"Menge" = "qty"\n'
    )
    options = load_mapping_options(mapping)
    assert options.date_order == "dmy" and options.decimal_comma
    assert load_mapping(mapping) == {"sales": {"menge": "qty"}}
    bad = write_text(tmp_path, "bad.toml", '[options]\ndate_order = "guess"\n')
    with pytest.raises(MappingError, match="date_order = 'guess' is not one of ymd, dmy, mdy"):
        load_mapping_options(bad)


def test_case16_a_misspelt_table_file_is_reported_not_silently_ignored(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds", extra={"purchase_order.csv": "po_id,sku,qty,order_date\n"})
    _, result = read_dataset(folder)
    (note,) = result.notes()
    assert "purchase_order.csv was not read" in note and "did you mean purchase_orders" in note


def test_case15_an_unclosed_quote_before_many_rows_refuses_the_file_instead_of_swallowing_rows(tmp_path: Path) -> None:
    rows = "".join(f"2024-01-01,S{i},1\n" for i in range(10_000))  # far more than csv's default 128 KiB field limit
    path = write_text(tmp_path, "sales.csv", 'date,sku,qty\n"' + rows)
    with pytest.raises(SchemaError, match="quoted value starting on line 2 is never closed"):
        read_raw_table(path, "sales")


def test_case14_lines_swallowed_by_a_bad_quote_are_named_in_the_reject(tmp_path: Path) -> None:
    text = 'date,sku,qty\n2024-01-01,"a\nb"x,1\n2024-01-02,B,2\n'
    res = validate_table(read_raw_table(write_text(tmp_path, "sales.csv", text), "sales"))
    assert "lines 2-3 were read as one value" in reject_at(res, 2)["reason"]
    assert list(res.accepted["line"]) == [4] and res.n_read == 2


def test_case11_a_gzip_bomb_of_one_long_line_is_refused_while_decompressing(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(b"0" * 50_000_000))
    with pytest.raises(SchemaError, match=r"line 1 is more than 1,048,576 bytes long"):
        read_raw_table(path, "sales")


def test_a_truncated_or_multi_member_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(b"date,sku,qty\n2024-01-01,A,1\n") + gzip.compress(b"2024-01-02,B,2\n"))
    assert list(read_raw_table(path, "sales").frame["sku"]) == ["A", "B"]
    path.write_bytes(gzip.compress(b"date,sku,qty\n" + b"2024-01-01,A,1\n" * 1000)[:-12])
    with pytest.raises(SchemaError, match="truncated"):
        read_raw_table(path, "sales")
