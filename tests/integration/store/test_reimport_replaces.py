"""Issue 16 case 7: a re-export states its keys in full, so fewer lines never leave a stale one behind.

The rule (docs/import.md, "Re-imports"): a file that contains a replacement group (for sales a date, sku
and location; for other tables the natural key) replaces all stored lines of that group. Groups the file
does not mention are kept (incremental exports), and the import report lists the groups replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from tests.ingest_helpers import minimal_folder, write_text

from stockwarden.store.repo import import_dataset, load_dataset_from_db

INVENTORY = "date,sku,on_hand\n2024-01-01,A,3\n"


def _sales(engine: sa.Engine) -> list[tuple[str, str, float]]:
    s = load_dataset_from_db(engine).sales
    return sorted(zip(s["date"].dt.strftime("%Y-%m-%d"), s["sku"], s["qty"], strict=True))


def test_a_reexport_with_fewer_lines_for_a_day_leaves_exactly_the_files_lines(
    engine: sa.Engine, tmp_path: Path
) -> None:
    first = "date,sku,qty\n2024-01-01,A,1\n2024-01-01,A,2\n2024-01-02,A,4\n"
    folder = minimal_folder(tmp_path / "ds", sales=first, items=None, inventory=INVENTORY)
    import_dataset(engine, folder)
    write_text(folder, "sales.csv", "date,sku,qty\n2024-01-01,A,5\n")
    report = import_dataset(engine, folder)
    # 2024-01-01 now holds only the file's line (5, not 5 + the stale 2); 2024-01-02 is not in the file: kept
    assert _sales(engine) == [("2024-01-01", "A", 5.0), ("2024-01-02", "A", 4.0)]
    (warning,) = [w for w in report.import_warnings() if w["code"] == "lines_replaced"]
    assert warning["table"] == "sales"
    assert warning["groups"] == [
        {"key": {"date": "2024-01-01", "sku": "A", "location_id": "MAIN"}, "lines_before": 2, "lines_after": 1}
    ]
    assert report.to_json()["warnings"][0]["code"] == "lines_replaced"


def test_the_rule_groups_sales_by_day_sku_and_location_whatever_the_order_id(engine: sa.Engine, tmp_path: Path) -> None:
    first = "date,sku,qty,order_id\n2024-01-01,A,1,o1\n2024-01-01,A,2,o2\n2024-01-01,B,7,o3\n"
    folder = minimal_folder(tmp_path / "ds", sales=first, items=None, inventory=INVENTORY)
    import_dataset(engine, folder)
    write_text(folder, "sales.csv", "date,sku,qty,order_id\n2024-01-01,A,3,o1\n")
    import_dataset(engine, folder)
    assert _sales(engine) == [("2024-01-01", "A", 3.0), ("2024-01-01", "B", 7.0)]


def test_replaced_lines_are_kept_in_the_history_and_a_second_import_changes_nothing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = minimal_folder(
        tmp_path / "ds", sales="date,sku,qty\n2024-01-01,A,1\n2024-01-01,A,2\n", items=None, inventory=INVENTORY
    )
    import_dataset(engine, folder)
    write_text(folder, "sales.csv", "date,sku,qty\n2024-01-01,A,1\n")
    import_dataset(engine, folder)
    with engine.connect() as conn:
        history = [json.loads(r[0]) for r in conn.execute(sa.text("SELECT previous_json FROM import_history"))]
    assert [h["qty"] for h in history if h.get("removed")] == [2.0]
    again = import_dataset(engine, folder)
    assert again.tables["sales"].unchanged == 1 and not again.replaced
    assert _sales(engine) == [("2024-01-01", "A", 1.0)]
