"""The optional reorder_rules table (format v1.1): read, checked, Chinese headers, template."""

from __future__ import annotations

from pathlib import Path

from tests.factories import make_dataset_folder, write_table

from stockwarden.ingest import read_dataset
from stockwarden.ingest.template import write_templates


def test_reorder_rules_are_read_with_chinese_headers(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=30)
    (folder / "reorder_rules.csv").write_text(
        "商品编码,仓库,再订货点,最高库存,安全库存\nSKU-000,WH1,20,60,5\nSKU-001,WH1,8,,\n", encoding="utf-8"
    )
    ds, result = read_dataset(folder)
    rules = ds.reorder_rules.sort_values("sku").reset_index(drop=True)
    assert rules[["sku", "location_id"]].values.tolist() == [["SKU-000", "WH1"], ["SKU-001", "WH1"]]
    assert rules["min_qty"].tolist() == [20.0, 8.0]
    assert rules["max_qty"].iloc[0] == 60.0 and rules["max_qty"].isna().iloc[1]
    assert result.results["reorder_rules"].n_read == 2


def test_bad_reorder_rules_are_put_aside_with_the_reason(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=30)
    write_table(
        folder,
        "reorder_rules",
        [
            {"sku": "SKU-000", "location_id": "WH1", "min_qty": 20, "max_qty": 10},
            {"sku": "SKU-001", "location_id": "WH1", "min_qty": 5, "max_qty": 15},
            {"sku": "SKU-001", "location_id": "WH1", "min_qty": 6, "max_qty": 16},
            {"sku": "NOPE", "location_id": "WH1", "min_qty": 1, "max_qty": 2},
            {"sku": "SKU-000", "location_id": "WH1", "min_qty": "", "max_qty": 2},
        ],
    )
    ds, result = read_dataset(folder)
    rejected = result.results["reorder_rules"].rejected
    reasons = " | ".join(rejected["reason"])
    assert "max_qty is below min_qty" in reasons
    assert "sku is not in items" in reasons
    assert "already has a rule for the same sku and location" in reasons
    assert ds.reorder_rules["min_qty"].tolist() == [5.0]
    assert len(rejected) == 4


def test_the_template_has_a_reorder_rules_file(tmp_path: Path) -> None:
    paths = write_templates(tmp_path / "tpl")
    assert (tmp_path / "tpl" / "reorder_rules.csv") in paths
    header = (tmp_path / "tpl" / "reorder_rules.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "sku,location_id,min_qty,max_qty,safety_stock"
