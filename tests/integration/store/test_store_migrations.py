"""The Alembic migrations build exactly the schema the table modules declare."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stockwarden.store import load_table_modules
from stockwarden.store.base import Base
from stockwarden.store.db import current_revisions, make_engine, upgrade_database
from stockwarden.store.tables import DATASET_TABLES

DATASET_NAMES = {"items", "locations", "suppliers", "sales", "inventory", "purchase_orders", "promotions", "events"}


def test_upgrade_of_an_empty_database_creates_every_table_at_head(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revisions(engine) == set()
    upgrade_database(engine)
    load_table_modules()
    names = set(sa.inspect(engine).get_table_names())
    assert DATASET_NAMES | {"import_batches", "import_rejects", "import_history"} <= names
    assert set(Base.metadata.tables) <= names
    assert "0001_dataset" in current_revisions(engine) or current_revisions(engine)
    engine.dispose()


def test_migrations_match_the_declared_tables(engine: sa.Engine) -> None:
    load_table_modules()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_upgrade_twice_changes_nothing(engine: sa.Engine) -> None:
    before = current_revisions(engine)
    upgrade_database(engine)
    assert current_revisions(engine) == before


def test_every_dataset_table_has_the_storage_key_columns() -> None:
    for table in DATASET_TABLES.values():
        assert {"id", "seq", "row_hash", "line", "attrs_json", "batch_id"} <= set(table.c.keys())
