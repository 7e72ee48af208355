"""``cli.common``: which database a command uses, and where its dataset comes from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder

from stockwarden.cli.common import open_dataset, resolve_db_url
from stockwarden.errors import DatasetNotFound, StoreError
from stockwarden.ingest import read_dataset
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset


def test_the_db_option_wins_then_the_environment_then_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCKWARDEN_DATABASE_URL", raising=False)
    assert resolve_db_url(None) == "sqlite:///stockwarden.db"
    monkeypatch.setenv("STOCKWARDEN_DATABASE_URL", "postgresql://x@h/db")
    assert resolve_db_url(None) == "postgresql://x@h/db"
    assert resolve_db_url(" sqlite:///other.db ") == "sqlite:///other.db"


def test_open_dataset_reads_a_folder_or_loads_the_database(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=30)
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    from_folder = open_dataset(str(folder), db)
    engine = make_engine(db)
    upgrade_database(engine)
    import_dataset(engine, folder)
    engine.dispose()
    from_db = open_dataset(None, db)
    pd.testing.assert_frame_equal(from_db.sales, from_folder.sales)
    pd.testing.assert_frame_equal(from_db.purchase_orders, read_dataset(folder)[0].purchase_orders)


def test_open_dataset_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound):
        open_dataset(str(tmp_path / "missing"), None)
    with pytest.raises(StoreError, match="holds no imported data"):
        open_dataset(None, f"sqlite:///{tmp_path / 'empty.db'}")
