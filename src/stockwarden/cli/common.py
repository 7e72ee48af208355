"""Helpers shared by CLI commands: which database, where the dataset comes from, dates and result files."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from stockwarden.config import DEFAULT_DATABASE_URL, IngestRules, RulesConfig, load_rules
from stockwarden.errors import DatasetNotFound, InputError, OutputError, StoreError
from stockwarden.ingest import Dataset, read_dataset
from stockwarden.ingest.options import DATE_ORDERS, DEFAULT_OPTIONS, ReadOptions, options_from_rules
from stockwarden.ingest.read import ColumnMapping, load_mapping, load_mapping_options

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DATABASE_ENV = "STOCKWARDEN_DATABASE_URL"
AllowStaleOpt = Annotated[
    bool,
    typer.Option(
        "--allow-stale",
        help="go on when --as-of is more than health.stale_feed_days after the newest data; every row then has "
        "a data_health column (ok, stale with the reason, no_data)",
    ),
]


def resolve_db_url(db: str | None) -> str:
    """The database URL to use: ``--db``, else ``STOCKWARDEN_DATABASE_URL``, else ``sqlite:///stockwarden.db``.

    The default SQLite file lives in the current working directory.
    """
    if db and db.strip():
        return db.strip()
    env = os.environ.get(DATABASE_ENV, "").strip()
    return env or DEFAULT_DATABASE_URL


def require_existing_database(url: str) -> None:
    """Refuse a SQLite URL whose file does not exist (read commands must not create an empty database).

    Raises:
        StoreError: naming the path and how to fix it.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # make_engine reports a malformed URL
    if not parsed.drivername.startswith("sqlite"):
        return
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    if not Path(database).is_file():
        raise StoreError(
            f"the database {database} holds no imported data: the file does not exist (check --db or "
            f"{DATABASE_ENV}); run 'stockwarden import DATASET' first"
        )


def read_options(
    rules: IngestRules | None = None,
    *,
    date_order: str | None = None,
    decimal_comma: bool | None = None,
    mapping: Path | str | ColumnMapping | None = None,
) -> ReadOptions:
    """How dataset files are read: the rules' ``[ingest]`` section, then the mapping file's ``[options]``,
    then the command-line options (each overrides the one before).

    Raises:
        InputError: when ``date_order`` is not ymd, dmy or mdy.
        MappingError: when the mapping file's ``[options]`` are invalid.
    """
    options = DEFAULT_OPTIONS if rules is None else options_from_rules(rules)
    if mapping is not None and not isinstance(mapping, dict):
        options = load_mapping_options(Path(mapping), options)
    if date_order is not None:
        if date_order not in DATE_ORDERS:
            raise InputError(f"--date-order {date_order!r} is not one of {', '.join(DATE_ORDERS)}")
        options = replace(options, date_order=date_order)  # type: ignore[arg-type]
    if decimal_comma is not None:
        options = replace(options, decimal_comma=decimal_comma)
    return options


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
    options: ReadOptions | None = None,
) -> Dataset:
    """The dataset a command works on: a folder when ``dataset`` is given, otherwise the database.

    Args:
        dataset: a dataset folder (read and validated; nothing is stored), or None to use the database.
        db: the ``--db`` option (see :func:`resolve_db_url`); used only when ``dataset`` is None.
        mapping: a mapping file (or parsed mapping) for reading a folder.
        required_tables: tables a folder must have (default: the spec's, sales and inventory).
        options: how a folder's files are read (default: the mapping file's ``[options]``, else the defaults).

    Raises:
        DatasetNotFound: when the folder does not exist.
        SchemaError: when the folder cannot be used.
        StoreError: when the database cannot be reached or holds no imported data.
    """
    if dataset is not None:
        folder = Path(dataset)
        if not folder.is_dir():
            raise DatasetNotFound(f"dataset folder {folder} does not exist or is not a folder")
        opts = options if options is not None else read_options(mapping=mapping)
        return read_dataset(folder, mapping=resolve_mapping(mapping), required_tables=required_tables, options=opts)[0]
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.data import load_dataset

    with cli_context(db, read_only=True) as (ctx, actor):
        return load_dataset(ctx, actor=actor)  # type: ignore[no-any-return]


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
    from stockwarden.cli.appctx import cli_context
    from stockwarden.services.data import load_day

    day = parse_day(as_of, None, option="--as-of").date() if as_of is not None else None
    with cli_context(db, read_only=True) as (ctx, actor):
        ds, got = load_day(ctx, actor=actor, as_of=day)
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


OUTPUT_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".json", ".xlsx")


def write_frame(frame: pd.DataFrame, out: Path) -> None:
    """Write a result frame as CSV (``.csv`` or no extension), Parquet, JSON records or an Excel workbook.

    CSV and XLSX cells that would start a spreadsheet formula get a leading ``'`` (CSV injection; see
    ``actions.export.safe_for_spreadsheet``); Parquet and JSON keep the exact values.

    Raises:
        OutputError: when the extension is none of .csv, .parquet, .json, .xlsx, or the file cannot be
            written (a one-line message at the CLI boundary).
    """
    from stockwarden.actions.export import safe_for_spreadsheet

    suffix = out.suffix.lower()
    if suffix and suffix not in OUTPUT_SUFFIXES:
        raise OutputError(f"cannot write {out}: unknown output format {suffix!r}; use {', '.join(OUTPUT_SUFFIXES)}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            frame.to_parquet(out, index=False)
        elif suffix == ".json":
            frame.to_json(out, orient="records", date_format="iso", indent=1)
        elif suffix == ".xlsx":
            sheet = safe_for_spreadsheet(frame)
            for col in sheet.columns:
                if isinstance(sheet[col].dtype, pd.DatetimeTZDtype):
                    sheet[col] = sheet[col].dt.tz_localize(None)
            sheet.to_excel(out, index=False, engine="openpyxl")
        else:
            safe_for_spreadsheet(frame).to_csv(out, index=False, date_format="%Y-%m-%d")
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None


DEFAULT_CONFIG = Path("stockwarden.toml")


def load_config(config: Path | None) -> RulesConfig:
    """The rules: ``--config``, else ``./stockwarden.toml`` when it exists, else the defaults."""
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    return load_rules(config)


def open_engine(db: str | None, *, create: bool = True) -> Engine:
    """The database engine for ``--db`` (see :func:`resolve_db_url`), migrated to the current schema.

    Args:
        db: the ``--db`` option.
        create: a SQLite file that does not exist is created (commands that write); False for commands
            that only read, so a mistyped ``--db`` is refused rather than looking like "no data".

    Raises:
        StoreError: when ``create`` is False and ``--db`` names a SQLite file that does not exist.
    """
    from stockwarden.store.db import make_engine, upgrade_database

    url = resolve_db_url(db)
    if not create:
        require_existing_database(url)
    engine = make_engine(url)
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
    "AllowStaleOpt",
    "current_user",
    "load_config",
    "open_dataset",
    "open_engine",
    "parse_day",
    "read_options",
    "require_existing_database",
    "resolve_db_url",
    "resolve_mapping",
    "utc_now",
    "write_frame",
]
