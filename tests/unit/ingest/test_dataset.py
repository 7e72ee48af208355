"""Reading a dataset folder: a valid folder loads whole; as-of hides what was not yet known."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.factories import make_dataset_folder

from stockwarden.ingest import read_dataset


def test_a_valid_folder_loads_every_row(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds")
    ds, result = read_dataset(folder)
    for name, res in result.results.items():
        assert res.n_read == len(res.accepted) + len(res.rejected) + res.n_duplicates, name
        assert len(res.rejected) == 0, name
    assert set(ds.present) >= {"sales", "inventory", "items", "purchase_orders"}


def test_as_of_reopens_pos_received_later_and_drops_future_rows(tmp_path: Path) -> None:
    ds, _ = read_dataset(make_dataset_folder(tmp_path / "ds"))
    cut = pd.Timestamp("2024-02-01")
    past = ds.as_of(cut)
    assert past.sales["date"].max() <= cut
    assert past.inventory["date"].max() <= cut
    assert (past.purchase_orders["order_date"] <= cut).all()
    reopened = past.purchase_orders[past.purchase_orders["received_date"].isna()]
    assert (reopened["status"] == "open").all()
    assert reopened["received_qty"].isna().all()


def test_as_of_twice_at_the_same_date_changes_nothing_and_copies_no_orders(tmp_path: Path) -> None:
    ds, _ = read_dataset(make_dataset_folder(tmp_path / "ds"))
    past = ds.as_of("2024-02-01")
    again = past.as_of("2024-02-01")
    for name in ("sales", "inventory", "purchase_orders"):
        pd.testing.assert_frame_equal(again.table(name), past.table(name), obj=name)
    # the run asks for its date several times: at a million SKU-locations each copy of the PO lines is GBs
    assert again.purchase_orders is past.purchase_orders
    assert ds.as_of("2024-01-15").purchase_orders is not ds.purchase_orders
