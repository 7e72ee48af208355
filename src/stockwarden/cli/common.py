"""Helpers shared by CLI commands: which database, where the dataset comes from, dates and result files."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from stockwarden.config import DEFAULT_DATABASE_URL, RulesConfig, load_rules
from stockwarden.errors import DatasetNotFound, InputError, OutputError
from stockwarden.ingest import Dataset, read_dataset
from stockwarden.ingest.read import ColumnMapping, load_mapping

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

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


def open_day(dataset: str | None, db: str | None, as_of: str | None) -> tuple[Dataset, pd.Timestamp]:
    """The dataset and date an assessment reads: a folder as it is, or the database exactly as the daily
    run reads it (exported orders counted as on order, ``stockwarden.pipeline.load_day``).

    Raises:
        DatasetNotFound, SchemaError, StoreError: as :func:`open_dataset`.
        ConfigError: when ``as_of`` is not a date.
    """
    if dataset is not None:
        ds = open_dataset(dataset, None)
        return ds, parse_day(as_of, ds.last_date, option="--as-of")
    from stockwarden.pipeline import load_day

    day = parse_day(as_of, None, option="--as-of").date() if as_of is not None else None
    engine = open_engine(db)
    try:
        ds, got = load_day(engine, day)
    finally:
        engine.dispose()
    return ds, pd.Timestamp(got)


def parse_day(value: str | None, default: pd.Timestamp | None, *, option: str = "--as-of") -> pd.Timestamp:
    """A date option (``--as-of``, ``--start``, ...); when absent, ``default`` (the dataset's newest date).

    Raises:
        InputError: naming the option when the value is not a date, or when it is absent and there is no default.
    """
    if value is None:
        if default is None:
            raise InputError(f"the dataset has no sales or inventory dates; give {option} YYYY-MM-DD")
        return pd.Timestamp(default).normalize()
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as exc:
        raise InputError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from exc


def write_frame(frame: pd.DataFrame, out: Path) -> None:
    """Write a result frame as CSV (default), Parquet (``.parquet``) or JSON records (``.json``).

    Raises:
        OutputError: when the file cannot be written (a one-line message at the CLI boundary).
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".parquet":
            frame.to_parquet(out, index=False)
        elif suffix == ".json":
            frame.to_json(out, orient="records", date_format="iso", indent=1)
        else:
            frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None


DEFAULT_CONFIG = Path("stockwarden.toml")


def load_config(config: Path | None) -> RulesConfig:
    """The rules: ``--config``, else ``./stockwarden.toml`` when it exists, else the defaults."""
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    return load_rules(config)


def open_engine(db: str | None) -> Engine:
    """The database engine for ``--db`` (see :func:`resolve_db_url`), migrated to the current schema."""
    from stockwarden.store.db import make_engine, upgrade_database

    engine = make_engine(resolve_db_url(db))
    upgrade_database(engine)
    return engine


def current_user(user: str | None) -> str:
    """Who acts, for handling and approval logs: ``--user``, else the login name, else ``cli``."""
    if user and user.strip():
        return user.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def utc_now() -> dt.datetime:
    """The clock, read at the CLI edge and passed into the core."""
    return dt.datetime.now(dt.UTC)


__all__ = [
    "DATABASE_ENV",
    "DEFAULT_CONFIG",
    "current_user",
    "load_config",
    "open_dataset",
    "open_engine",
    "parse_day",
    "resolve_db_url",
    "resolve_mapping",
    "utc_now",
    "write_frame",
]
