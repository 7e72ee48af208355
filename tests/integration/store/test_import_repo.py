"""Importing into the database (SQLite and PostgreSQL): idempotent upserts, history, quarantine, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.factories import make_dataset_folder
from tests.ingest_helpers import minimal_folder, write_text

from stockwarden.errors import StoreError
from stockwarden.ingest import read_dataset
from stockwarden.ingest.schema import TABLE_ORDER
from stockwarden.store.repo import import_dataset, list_rejects, load_dataset_from_db


def _counts(report, table: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return report.tables[table].counts()


def test_reimporting_the_same_folder_inserts_and_changes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=60)
    first = import_dataset(engine, folder)
    second = import_dataset(engine, folder)
    for name, t in first.tables.items():
        assert t.inserted == t.accepted and t.updated == 0, name
        again = second.tables[name]
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, t.accepted), name
    with engine.connect() as conn:
        n_sales = conn.execute(sa.text("SELECT count(*) FROM sales")).scalar_one()
        dup_keys = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT 1 FROM sales GROUP BY date, sku, location_id, "
                "order_id, seq HAVING count(*) > 1) AS d"
            )
        ).scalar_one()
    assert n_sales == first.tables["sales"].accepted and dup_keys == 0


def test_the_database_gives_back_exactly_what_the_folder_read_gives(engine: sa.Engine, tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=4, days=90)
    write_text(folder, "events.csv", "date,name,kind\n2024-02-10,Spring Festival,holiday\n")
    write_text(folder, "promotions.csv", "sku,start_date,end_date,discount\nSKU-000,2024-02-01,2024-02-07,0.2\n")
    import_dataset(engine, folder)
    from_db = load_dataset_from_db(engine)
    from_folder, _ = read_dataset(folder)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(from_db.table(name), from_folder.table(name), obj=name)
    assert from_db.present == from_folder.present


def test_extra_columns_survive_the_round_trip(engine: sa.Engine, tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds", sales="date,sku,qty,channel,备注\n2024-01-01,A,3,web,急\n")
    import_dataset(engine, folder)
    sales = load_dataset_from_db(engine).sales
    assert sales[["channel", "备注"]].iloc[0].tolist() == ["web", "急"]


def test_a_changed_row_updates_its_record_and_keeps_the_previous_values(engine: sa.Engine, tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    import_dataset(engine, folder)
    write_text(folder, "inventory.csv", "date,sku,on_hand,location_id\n2024-01-02,A,7,WH1\n2024-01-02,B,4,WH1\n")
    write_text(folder, "items.csv", "sku,name,supplier_id\nA,Widget v2,S1\nB,Gadget,S1\n")
    report = import_dataset(engine, folder)
    assert _counts(report, "inventory") | {} == {
        "read": 2,
        "accepted": 2,
        "rejected": 0,
        "duplicates": 0,
        "inserted": 1,
        "updated": 1,
        "unchanged": 0,
    }
    assert (report.tables["items"].updated, report.tables["items"].unchanged) == (1, 1)
    ds = load_dataset_from_db(engine)
    assert ds.inventory.set_index("sku")["on_hand"].to_dict() == {"A": 7.0, "B": 4.0}
    assert ds.items.set_index("sku")["name"]["A"] == "Widget v2"
    with engine.connect() as conn:
        history = conn.execute(
            sa.text("SELECT table_name, batch_id, previous_json FROM import_history ORDER BY id")
        ).all()
    assert [(h.table_name, h.batch_id) for h in history] == [("items", report.batch_id), ("inventory", report.batch_id)]
    assert json.loads(history[0].previous_json)["name"] == "Widget"
    assert json.loads(history[1].previous_json)["on_hand"] == 10.0
    third = import_dataset(engine, folder)
    assert all(t.updated == 0 and t.inserted == 0 for t in third.tables.values())


def test_sales_lines_of_one_day_are_stored_as_separate_records(engine: sa.Engine, tmp_path: Path) -> None:
    sales = "date,sku,qty\n2024-01-01,A,1\n2024-01-01,A,2\n2024-01-01,A,2\n2024-01-01,A,5\n"
    folder = minimal_folder(tmp_path / "ds", sales=sales, items=None, inventory="date,sku,on_hand\n2024-01-01,A,3\n")
    report = import_dataset(engine, folder)
    assert _counts(report, "sales")["duplicates"] == 1 and _counts(report, "sales")["inserted"] == 3
    assert load_dataset_from_db(engine).sales["qty"].sum() == 8.0
    assert import_dataset(engine, folder).tables["sales"].unchanged == 3


def test_a_new_export_adds_rows_without_deleting_earlier_ones(engine: sa.Engine, tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    import_dataset(engine, folder)
    write_text(folder, "sales.csv", "date,sku,qty,location_id\n2024-01-03,A,9,WH1\n")
    report = import_dataset(engine, folder)
    assert _counts(report, "sales")["inserted"] == 1
    assert sorted(load_dataset_from_db(engine).sales["qty"].tolist()) == [1.0, 3.0, 9.0]
    write_text(folder, "sales.csv", "date,sku,qty,location_id\n2024-01-01,A,3,WH1\n2024-01-03,A,9,WH1\n")
    assert _counts(import_dataset(engine, folder), "sales")["unchanged"] == 2


def test_rejected_rows_are_kept_in_quarantine_per_batch(engine: sa.Engine, tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds", sales="date,sku,qty\n2024-01-01,A,1\n2024-01-02,Z,1\nsoon,A,2\n")
    first = import_dataset(engine, folder)
    assert first.tables["sales"].rejected == 2
    latest = list_rejects(engine)
    assert latest[["table", "file", "line", "column", "value"]].values.tolist() == [
        ["sales", "sales.csv", 3, "sku", "Z"],
        ["sales", "sales.csv", 4, "date", "soon"],
    ]
    assert "sku is not in items" in latest["reason"].iloc[0]
    second = import_dataset(engine, folder)
    assert len(list_rejects(engine)) == 2 and set(list_rejects(engine)["batch_id"]) == {second.batch_id}
    assert len(list_rejects(engine, all_batches=True)) == 4
    assert list_rejects(engine, table="inventory").empty


def test_an_empty_database_has_no_dataset_to_load(engine: sa.Engine) -> None:
    with pytest.raises(StoreError, match="run 'stockwarden import DATASET' first"):
        load_dataset_from_db(engine)
    assert load_dataset_from_db(engine, require_data=False).sales.empty


def test_a_failed_import_leaves_the_database_unchanged(engine: sa.Engine, tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    import_dataset(engine, folder)
    before = load_dataset_from_db(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE events"))  # the import's last table write will fail
    write_text(folder, "events.csv", "date,name\n2024-01-01,New Year\n")
    write_text(folder, "sales.csv", "date,sku,qty,location_id\n2024-01-05,A,1,WH1\n")
    with pytest.raises(StoreError, match="cannot write to the database"):
        import_dataset(engine, folder)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sales")).scalar_one() == len(before.sales)
        assert conn.execute(sa.text("SELECT count(*) FROM import_batches")).scalar_one() == 1


def test_a_partial_export_of_a_day_updates_only_its_own_rows(engine: sa.Engine, tmp_path: Path) -> None:
    sales = "date,sku,qty,location_id\n2024-01-01,A,1,WH1\n2024-01-01,B,2,WH1\n2024-01-02,A,4,WH1\n"
    folder = minimal_folder(tmp_path / "ds", sales=sales)
    import_dataset(engine, folder)
    write_text(folder, "sales.csv", "date,sku,qty,location_id\n2024-01-01,B,5,WH1\n")
    report = import_dataset(engine, folder)
    assert (report.tables["sales"].inserted, report.tables["sales"].updated) == (0, 1)
    stored = load_dataset_from_db(engine).sales
    assert stored[["sku", "qty"]].values.tolist() == [["A", 1.0], ["B", 5.0], ["A", 4.0]]
    assert import_dataset(engine, folder).tables["sales"].unchanged == 1
