"""Import templates: every table gets a CSV and a sheet whose example row imports cleanly; notes cover every column."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from stockwarden.errors import InputError
from stockwarden.ingest import read_dataset
from stockwarden.ingest.schema import TABLE_ORDER, TABLES
from stockwarden.ingest.template import NOTES_SHEET, WORKBOOK_NAME, notes_rows, write_templates


def test_the_csv_templates_import_with_every_example_row_accepted(tmp_path: Path) -> None:
    paths = write_templates(tmp_path / "tpl")
    assert [p.name for p in paths] == [f"{n}.csv" for n in TABLE_ORDER] + [WORKBOOK_NAME]
    ds, result = read_dataset(tmp_path / "tpl")
    assert set(result.results) == set(TABLE_ORDER)
    for name, res in result.results.items():
        assert (res.n_read, len(res.accepted), len(res.rejected)) == (1, 1, 0), name
    assert ds.purchase_orders.loc[0, "status"] == "received"
    assert ds.items.loc[0, "pack_size"] == 12


def test_each_csv_has_the_table_columns_in_schema_order(tmp_path: Path) -> None:
    write_templates(tmp_path)
    for name in TABLE_ORDER:
        header, example = (tmp_path / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert header.split(",") == list(TABLES[name].column_names)
        assert example.split(",")[0] == TABLES[name].example[TABLES[name].column_names[0]]


def test_every_workbook_sheet_imports_as_a_table_file(tmp_path: Path) -> None:
    write_templates(tmp_path / "tpl")
    wb = load_workbook(tmp_path / "tpl" / WORKBOOK_NAME)
    assert wb.sheetnames == [NOTES_SHEET, *TABLE_ORDER]
    folder = tmp_path / "from_xlsx"
    folder.mkdir()
    for name in TABLE_ORDER:
        one = Workbook()
        for row in wb[name].iter_rows(values_only=True):
            one.active.append(row)
        one.save(folder / f"{name}.xlsx")
    ds, result = read_dataset(folder)
    for name, res in result.results.items():
        assert (len(res.accepted), len(res.rejected)) == (1, 0), (name, res.rejected)
    assert str(ds.sales.loc[0, "date"].date()) == TABLES["sales"].example["date"]


def test_the_notes_explain_every_column_in_english_and_chinese(tmp_path: Path) -> None:
    rows = notes_rows()
    described = {(r[0], r[1]) for r in rows if r[1]}
    assert described == {(t, c) for t in TABLE_ORDER for c in TABLES[t].column_names}
    for table, column, required, _kind, _default, en, zh, _aliases in rows:
        assert en and zh, (table, column)
        if column:
            assert required.startswith("yes") == TABLES[table].column(column).required
    write_templates(tmp_path)
    notes = load_workbook(tmp_path / WORKBOOK_NAME)[NOTES_SHEET]
    values = [tuple(c.value for c in row) for row in notes.iter_rows(min_row=2)]
    assert ("sku" in {v[1] for v in values}) and any(v[7] and "商品编码" in v[7] for v in values)
    pack = next(v for v in values if v[:2] == ("items", "pack_size"))
    assert pack[4] == "1"  # the default is shown


def test_existing_files_are_never_overwritten_without_permission(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("date,sku,qty\n2024-01-01,X,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"sales\.csv"):
        write_templates(tmp_path)
    assert "X,1" in (tmp_path / "sales.csv").read_text(encoding="utf-8")
    write_templates(tmp_path, overwrite=True)
    assert "A-100" in (tmp_path / "sales.csv").read_text(encoding="utf-8")
