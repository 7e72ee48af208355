"""Helpers shared by CLI commands: which database, and where the dataset comes from."""

from __future__ import annotations

import os
from pathlib import Path

from stockwarden.config import DEFAULT_DATABASE_URL
from stockwarden.errors import DatasetNotFound
from stockwarden.ingest import Dataset, read_dataset
from stockwarden.ingest.read import ColumnMapping, load_mapping

DATABASE_ENV = "STOCKWARDEN_DATABASE_URL"


def resolve_db_url(db: str | None) -> str:
    """The database URL to use: ``--db``, else ``STOCKWARDEN_DATABASE_URL``, else ``sqlite:///stockwarden.db``.

    The default SQLite file lives in the current working directory.
    """
    if db and db.strip():
        return db.strip()
    env = os.environ.get(DATABASE_ENV, "").strip()
    return env or DEFAULT_DATABASE_URL


def resolve_mapping(mapping: Path | str | ColumnMapping | None) -> ColumnMapping | None:
    """A column mapping from a mapping-file path (read and checked) or an already parsed mapping."""
    if mapping is None or isinstance(mapping, dict):
        return mapping
    return load_mapping(Path(mapping))


def open_dataset(
    dataset: str | None,
    db: str | None,
    mapping: Path | str | ColumnMapping | None = None,
    *,
    required_tables: tuple[str, ...] | None = None,
) -> Dataset:
    """The dataset a command works on: a folder when ``dataset`` is given, otherwise the database.

    Args:
        dataset: a dataset folder (read and validated; nothing is stored), or None to use the database.
        db: the ``--db`` option (see :func:`resolve_db_url`); used only when ``dataset`` is None.
        mapping: a mapping file (or parsed mapping) for reading a folder.
        required_tables: tables a folder must have (default: the spec's, sales and inventory).

    Raises:
        DatasetNotFound: when the folder does not exist.
        SchemaError: when the folder cannot be used.
        StoreError: when the database cannot be reached or holds no imported data.
    """
    if dataset is not None:
        folder = Path(dataset)
        if not folder.is_dir():
            raise DatasetNotFound(f"dataset folder {folder} does not exist or is not a folder")
        return read_dataset(folder, mapping=resolve_mapping(mapping), required_tables=required_tables)[0]
    from stockwarden.store.db import make_engine, upgrade_database
    from stockwarden.store.repo import load_dataset_from_db

    engine = make_engine(resolve_db_url(db))
    try:
        upgrade_database(engine)
        return load_dataset_from_db(engine)
    finally:
        engine.dispose()


__all__ = ["DATABASE_ENV", "open_dataset", "resolve_db_url", "resolve_mapping"]
