"""Reading files: encodings, Chinese headers, Excel, parquet, gzip, mapping files, unreadable files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from tests.ingest_helpers import minimal_folder, write_text

from stockwarden.errors import MappingError, SchemaError
from stockwarden.ingest import read_dataset
from stockwarden.ingest.read import load_mapping, read_raw_table
from stockwarden.ingest.validate import validate_table

CHINESE_SALES = (
    "日期,商品编码,仓库,销量,售价\n2024-01-01,A-1,WH1,3,9.5\n2024-01-02,A-1,WH1,4,9.5\n2024-01-02,商品甲,WH1,1,2\n"
)


def _sales(path: Path, *, mapping: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    res = validate_table(read_raw_table(path, "sales", mapping=mapping))
    assert res.rejected.empty, res.rejected
    return res.accepted


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_chinese_headers_are_recognised_in_every_common_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_text(tmp_path, "sales.csv", CHINESE_SALES, encoding=encoding)
    raw = read_raw_table(path, "sales")
    assert raw.encoding == ("gb18030" if encoding.startswith("gb") else "utf-8")
    acc = _sales(path)
    assert acc["sku"].tolist() == ["A-1", "A-1", "商品甲"]
    assert acc["qty"].tolist() == [3.0, 4.0, 1.0] and acc["price"].tolist() == [9.5, 9.5, 2.0]
    assert acc["location_id"].tolist() == ["WH1"] * 3


def test_a_bom_does_not_end_up_in_the_first_header(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.csv", "date,sku,qty\n2024-01-01,A,1\n", encoding="utf-8-sig")
    assert list(read_raw_table(path, "sales").frame.columns) == ["date", "sku", "qty"]


def test_headers_match_case_insensitively_and_extra_columns_are_kept(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.csv", "Date,SKU, Qty ,Channel\n2024-01-01,A,1,web\n")
    acc = _sales(path)
    assert acc["qty"].tolist() == [1.0] and acc["Channel"].tolist() == ["web"]


def test_gzip_csv_reads_like_plain_csv(tmp_path: Path) -> None:
    (tmp_path / "sales.csv.gz").write_bytes(gzip.compress(CHINESE_SALES.encode("gbk")))
    assert len(_sales(tmp_path / "sales.csv.gz")) == 3


def test_xlsx_first_sheet_is_read_with_spreadsheet_line_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "日期": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "商品编码": ["A", "B"],
            "数量": [3, 4.5],
            "仓库": ["WH1", None],
        }
    )
    frame.to_excel(tmp_path / "sales.xlsx", index=False)
    acc = _sales(tmp_path / "sales.xlsx")
    assert acc["date"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-02"]))
    assert acc["qty"].tolist() == [3.0, 4.5] and acc["location_id"].tolist() == ["WH1", "MAIN"]
    assert acc["line"].tolist() == [2, 3]


def test_blank_spreadsheet_rows_are_skipped_and_lines_kept(tmp_path: Path) -> None:
    frame = pd.DataFrame({"date": ["2024-01-01", None, "2024-01-03"], "sku": ["A", None, "B"], "qty": [1, None, 2]})
    frame.to_excel(tmp_path / "sales.xlsx", index=False)
    res = validate_table(read_raw_table(tmp_path / "sales.xlsx", "sales"))
    assert res.rejected.empty and res.n_read == 2 and res.accepted["line"].tolist() == [2, 4]


def test_parquet_with_typed_columns_is_read(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "sku": ["A", "B"], "qty": [3, 4], "price": [1.25, None]}
    )
    frame.to_parquet(tmp_path / "sales.parquet")
    acc = _sales(tmp_path / "sales.parquet")
    assert acc["qty"].tolist() == [3.0, 4.0] and acc["price"].iloc[0] == 1.25 and pd.isna(acc["price"].iloc[1])
    assert acc["date"].dt.day.tolist() == [1, 2]


def test_parquet_nullable_integer_gaps_read_as_empty_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"date": ["2024-01-01", "2024-01-02"], "sku": ["A", "B"], "qty": pd.array([3, None], dtype="Int64")}
    )
    frame.to_parquet(tmp_path / "sales.parquet")
    res = validate_table(read_raw_table(tmp_path / "sales.parquet", "sales"))
    assert res.accepted["qty"].tolist() == [3.0]
    assert res.rejected["reason"].tolist() == ["qty is empty but required"]
    assert res.rejected["value"].tolist() == [""]


def test_a_quoted_value_spanning_lines_is_read(tmp_path: Path) -> None:
    path = write_text(tmp_path, "items.csv", 'sku,name\nA,"two\nlines"\nB,plain\n')
    res = validate_table(read_raw_table(path, "items"))
    assert res.accepted["name"].tolist() == ["two\nlines", "plain"]


def test_a_mapping_file_maps_any_erp_header(tmp_path: Path) -> None:
    mapping_path = write_text(
        tmp_path,
        "mapping.toml",
        '[sales]\n"Item No." = "sku"\n"Qty shipped" = "qty"\n["inventory.csv"]\n"Stock" = "on_hand"\n',
    )
    mapping = load_mapping(mapping_path)
    path = write_text(tmp_path / "ds", "sales.csv", "date,Item No.,Qty shipped\n2024-01-01,A,2\n")
    assert _sales(path, mapping=mapping)["qty"].tolist() == [2.0]
    assert mapping["inventory"] == {"stock": "on_hand"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sales\n", "not valid TOML"),
        ('[nowhere]\n"a" = "sku"\n', "names no dataset table"),
        ('[sales]\n"a" = "colour"\n', "not a column of sales"),
        ('sales = "x"\n', "must be a table"),
    ],
)
def test_a_bad_mapping_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_mapping(write_text(tmp_path, "m.toml", text))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("sales.csv", b"", "empty"),
        ("sales.csv.gz", b"not gzip at all", "is not a gzip file .it looks like text"),
        (
            "sales.xlsx",
            b"date,sku,qty\n2024-01-01,A,1\n",
            "is not an Excel workbook .xlsx. .it looks like text, e.g. CSV",
        ),
        ("sales.parquet", b"not parquet", "is not a Parquet file"),
        ("sales.csv.gz", b"\x1f\x8b broken", "cannot read the file"),
        (
            "sales.csv",
            b'date,sku,qty\n2024-01-01,"A,1\n2024-01-02,B,2\n',
            "quoted value starting on line 2 is never closed",
        ),
    ],
)
def test_an_unreadable_file_is_a_schema_error_naming_it(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SchemaError, match=message) as err:
        validate_table(read_raw_table(tmp_path / name, "sales"))
    assert name in str(err.value)


def test_two_headers_meaning_the_same_column_are_refused(tmp_path: Path) -> None:
    path = write_text(tmp_path, "sales.csv", "date,sku,qty,数量\n2024-01-01,A,1,1\n")
    with pytest.raises(SchemaError, match="both mean 'qty'"):
        read_raw_table(path, "sales")


def test_a_folder_without_inventory_is_refused(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    (folder / "inventory.csv").unlink()
    with pytest.raises(SchemaError, match="required table inventory is missing"):
        read_dataset(folder)


def test_a_table_in_two_formats_is_ambiguous(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    (folder / "sales.csv.gz").write_bytes(gzip.compress((folder / "sales.csv").read_bytes()))
    with pytest.raises(SchemaError, match="several files"):
        read_dataset(folder)
