"""Use-cases of the data: import a dataset folder, an uploaded set of files or a zip, rows pushed by an
ERP (``ingest``), and the rejects. Every path goes through the same ``store.repo.import_dataset``: the
same validation, quarantine, idempotency and report as ``stockwarden import``.

Uploads are checked before anything is read: each file is at most ``settings.max_upload_bytes``; a zip
may not hold absolute paths, ``..`` parts or links, nor inflate beyond ``settings.max_unzipped_bytes``
or a ratio of :data:`MAX_ZIP_RATIO` (decompression bombs), and holds at most :data:`MAX_ZIP_MEMBERS` files.

A scoped actor (a warehouse user) may import only :data:`~stockwarden.domain.actor.WAREHOUSE_IMPORT_TABLES`
and only rows of their locations; anything else is refused before the import starts.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from stockwarden.domain.actor import WAREHOUSE_IMPORT_TABLES, Actor, Permission, Role, Scope
from stockwarden.errors import InputError, PayloadTooLarge, PermissionDenied
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require
from stockwarden.services.context import AppContext, session_scope
from stockwarden.store.repo import COUNT_KEYS, REJECT_COLUMNS, ImportReport
from stockwarden.store.repo import Progress as ImportProgress

MAX_ZIP_RATIO = 200
MAX_ZIP_MEMBERS = 200
MAX_INGEST_ROWS = 1_000_000
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx", ".toml")


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: the report in the ``stockwarden import --json`` shape, and its batch."""

    batch_id: int
    report: dict[str, Any]
    details: Any = field(default=None, repr=False, compare=False)
    """The store's ``ImportReport`` (per-table counts, the rejects frame, the dataset read) for faces that
    render more than the JSON report."""
    health: Any = field(default=None, repr=False, compare=False)
    """The data-health report of what was imported (``ingest.health.HealthReport``), when checked."""


def _table_names() -> tuple[str, ...]:
    from stockwarden.ingest.schema import TABLE_ORDER

    return tuple(TABLE_ORDER)


def _table_of(filename: str) -> str | None:
    name = filename.lower()
    for suffix in DATA_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if stem in _table_names() else None
    return None


def _check_import_scope(actor: Actor, folder: Path) -> None:
    """Refuse tables a scoped/warehouse actor may not import, and rows outside their locations."""
    restricted = Role.ADMIN not in actor.roles and Role.PLANNER not in actor.roles
    if not restricted and actor.scope.is_unrestricted:
        return
    import pandas as pd

    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        table = _table_of(path.name)
        if table is None:
            continue
        if restricted and table not in WAREHOUSE_IMPORT_TABLES:
            raise PermissionDenied(
                f"user {actor.username!r} may import only {', '.join(sorted(WAREHOUSE_IMPORT_TABLES))}, not {table}"
            )
        if actor.scope.locations and path.name.lower().endswith((".csv", ".csv.gz")):
            try:
                frame = pd.read_csv(path, dtype=str, usecols=lambda c: str(c).strip() == "location_id")
            except (ValueError, OSError, UnicodeDecodeError):
                continue  # unreadable files are reported by the import itself
            if "location_id" not in frame.columns:
                raise PermissionDenied(
                    f"{path.name}: rows without location_id would go to the default location, outside your scope"
                )
            outside = sorted(set(frame["location_id"].dropna().str.strip()) - set(actor.scope.locations))
            if outside:
                raise PermissionDenied(f"{path.name}: locations outside your scope: {', '.join(outside[:10])}")


def import_dataset(
    ctx: AppContext,
    folder: Path,
    *,
    actor: Actor,
    mapping: Any = None,
    progress: Any = None,
    required_tables: tuple[str, ...] | None = None,
    source: str | None = None,
    with_health: bool = True,
    options: Any = None,
    rules: Any = None,
) -> ImportOutcome:
    """Import a dataset folder (validate, upsert, quarantine the bad rows) and audit it.

    ``rules`` (``RulesConfig``): whose ``[health]`` checks and ``[ingest]`` reading options apply (default:
    the rules in force). ``options`` (``ingest.options.ReadOptions``): how cells are read; default: the
    ``[ingest]`` section of those rules (date order, decimal mark, input limits).

    Raises:
        DatasetNotFound, SchemaError, MappingError: the folder cannot be imported at all.
        PermissionDenied: the actor may not import these tables or locations.
    """
    from stockwarden.store.repo import import_dataset as _import

    require(actor, Permission.IMPORT)
    if not folder.is_dir():
        from stockwarden.errors import DatasetNotFound

        raise DatasetNotFound(f"dataset folder {folder} does not exist or is not a folder")
    _check_import_scope(actor, folder)
    if rules is None:
        from stockwarden.services.rules import current_rules

        rules = current_rules(ctx)[1]
    if options is None:
        from stockwarden.ingest.options import options_from_rules

        options = options_from_rules(rules.ingest)
    report = _import(
        ctx.engine, folder, mapping=mapping, progress=progress, required_tables=required_tables, options=options
    )
    health = None
    if with_health:
        from stockwarden.ingest.health import check_health

        health = check_health(report.dataset, rules=rules.health)
    body = report.to_json(list(health.warnings_json()) if health is not None else [])
    with session_scope(ctx) as s:
        record(
            s,
            actor,
            action="data.import",
            object_type="import_batch",
            object_id=report.batch_id,
            after={
                "source": source or str(folder),
                "tables": body["tables"],
                "rejected": len(body["rejects"]),
            },
            now=ctx.now(),
        )
    return ImportOutcome(report.batch_id, {"batch_id": report.batch_id, **body}, report, health)


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    if not base or base in (".", "..") or base.startswith("."):
        raise InputError(f"file name {name!r} is not allowed")
    return base


def extract_zip(data: bytes, dest: Path, *, max_total: int) -> list[str]:
    """Extract a zip upload into ``dest`` (flat), refusing traversal, links and bombs.

    Raises:
        InputError: not a zip, an unsafe member name, a link, too many members.
        PayloadTooLarge: the archive would inflate beyond ``max_total`` or by more than :data:`MAX_ZIP_RATIO`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"the upload is not a valid zip archive: {exc}") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise InputError(f"the zip holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted")
        total = 0
        for m in members:
            parts = PurePosixPath(m.filename.replace("\\", "/")).parts
            if m.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise InputError(f"zip member {m.filename!r} has an unsafe path (absolute or with '..')")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise InputError(f"zip member {m.filename!r} is a symbolic link; links are not accepted")
            total += m.file_size
        if total > max_total:
            raise PayloadTooLarge(f"the zip would inflate to {total} bytes; the limit is {max_total}")
        if data and total > MAX_ZIP_RATIO * max(len(data), 1) and total > 10_000_000:
            raise PayloadTooLarge(f"the zip inflates {total / len(data):.0f} times; refused as a decompression bomb")
        names = []
        for m in members:
            name = _safe_name(m.filename)
            if _table_of(name) is None and not name.lower().endswith(".toml"):
                continue
            written = 0
            with archive.open(m) as src, (dest / name).open("wb") as out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > m.file_size or written > max_total:  # a lying header
                        raise PayloadTooLarge(f"zip member {m.filename!r} inflates beyond its declared size")
                    out.write(chunk)
            names.append(name)
    return names


def import_upload(
    ctx: AppContext, files: Sequence[tuple[str, bytes]], *, actor: Actor, mapping_text: str | None = None
) -> ImportOutcome:
    """Import uploaded files (``sales.csv``, ``inventory.csv``, ... or one ``.zip`` of them).

    Raises:
        InputError: no usable file, an unknown file name, an unsafe zip.
        PayloadTooLarge: a file or the zip's content is too large.
    """
    require(actor, Permission.IMPORT)
    if not files:
        raise InputError("no file uploaded: send sales.csv, inventory.csv, ... or one .zip (multipart 'files')")
    limit = ctx.settings.max_upload_bytes
    tmp = Path(tempfile.mkdtemp(prefix="sw_upload_"))
    try:
        names: list[str] = []
        for filename, data in files:
            if len(data) > limit:
                raise PayloadTooLarge(f"{filename}: {len(data)} bytes; the limit is {limit}")
            if filename.lower().endswith(".zip"):
                names.extend(extract_zip(data, tmp, max_total=ctx.settings.max_unzipped_bytes))
                continue
            name = _safe_name(filename)
            if _table_of(name) is None:
                raise InputError(
                    f"{filename}: not a dataset file; expected one of {', '.join(_table_names())} "
                    f"with {', '.join(DATA_SUFFIXES[:4])}, or a .zip"
                )
            (tmp / name).write_bytes(data)
            names.append(name)
        if not any(_table_of(n) for n in names):
            raise InputError("the upload holds no dataset file (sales.csv, inventory.csv, ...)")
        mapping = None
        if mapping_text:
            from stockwarden.ingest.options import options_from_rules
            from stockwarden.ingest.read import load_mapping, load_mapping_options
            from stockwarden.services.rules import current_rules

            (tmp / "_mapping.toml").write_text(mapping_text, encoding="utf-8")
            mapping = load_mapping(tmp / "_mapping.toml")
            options = load_mapping_options(tmp / "_mapping.toml", options_from_rules(current_rules(ctx)[1].ingest))
            (tmp / "_mapping.toml").unlink()
            return import_dataset(
                ctx, tmp, actor=actor, mapping=mapping, options=options, source="upload: " + ", ".join(sorted(names))
            )
        return import_dataset(ctx, tmp, actor=actor, source="upload: " + ", ".join(sorted(names)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ingest_rows(
    ctx: AppContext,
    table: str,
    *,
    actor: Actor,
    rows: Iterable[dict[str, Any]] | None = None,
    csv_text: str | None = None,
) -> ImportOutcome:
    """Import rows of one table pushed by a system (JSON objects or CSV text): the file import's
    validation, quarantine and idempotency (pushing the same rows twice changes nothing).

    Raises:
        NotFound-like InputError: unknown table. InputError: no rows, not an object per row, too many rows.
    """
    require(actor, Permission.IMPORT)
    if table not in _table_names():
        raise InputError(f"unknown table {table!r}; tables: {', '.join(_table_names())}")
    tmp = Path(tempfile.mkdtemp(prefix="sw_ingest_"))
    try:
        path = tmp / f"{table}.csv"
        if csv_text is not None:
            if not csv_text.strip():
                raise InputError("the CSV body is empty")
            path.write_text(csv_text, encoding="utf-8")
        else:
            items = list(rows or [])
            if not items:
                raise InputError("no rows: send a JSON array of objects or {'rows': [...]}")
            if len(items) > MAX_INGEST_ROWS:
                raise InputError(f"{len(items)} rows in one request; send at most {MAX_INGEST_ROWS}")
            columns: list[str] = []
            for i, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    raise InputError(f"row {i} is not a JSON object")
                for key in item:
                    if key not in columns:
                        columns.append(str(key))
            with path.open("w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                for item in items:
                    writer.writerow({k: _cell(v) for k, v in item.items()})
        return import_dataset(
            ctx, tmp, actor=actor, required_tables=(table,), source=f"ingest: {table}", with_health=False
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _own_batches(ctx: AppContext, actor: Actor) -> set[int]:
    import sqlalchemy as sa

    from stockwarden.services.context import read_scope
    from stockwarden.store.app_tables import AuditRow

    with read_scope(ctx) as s:
        ids = s.scalars(
            sa.select(AuditRow.object_id).where(AuditRow.action == "data.import", AuditRow.username == actor.username)
        ).all()
    return {int(i) for i in ids if i is not None and str(i).isdigit()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def list_rejects(
    ctx: AppContext,
    *,
    actor: Actor,
    table: str | None = None,
    batch_id: int | None = None,
    all_batches: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """Rows put aside by imports (the latest import by default)."""
    from stockwarden.store.repo import list_rejects as _list

    require(actor, Permission.IMPORT)
    check_page(limit, offset)
    frame = _list(ctx.engine, table=table, batch_id=batch_id, all_batches=all_batches)
    if not actor.scope.is_unrestricted:
        # a scoped user sees the rejects of their own imports only (a rejected row may name any location)
        frame = frame.loc[frame["batch_id"].isin(_own_batches(ctx, actor))]
    rows = frame.iloc[offset : offset + limit].to_dict(orient="records")
    clean = [{k: (int(v) if k in ("batch_id", "line") else v) for k, v in r.items()} for r in rows]
    return Page(clean, len(frame))


def bulk_import(ctx: AppContext, folder: Path, *, actor: Actor, progress: Any = None) -> Any:
    """The initial load of a large dataset folder into an empty database, chunk by chunk, with the same
    validation and quarantine as an import (``store.bulkload``; docs/scale.md); audited. Returns the
    bulk-load report (per-table counts, chunks, seconds, ``batch_id``).

    Raises:
        DatasetNotFound: no such folder. StoreError: the database already holds data.
        PermissionDenied: not an unscoped importer.
    """
    from stockwarden.store.bulkload import bulk_import as _bulk

    require(actor, Permission.IMPORT)
    if not actor.scope.is_unrestricted or (Role.ADMIN not in actor.roles and Role.PLANNER not in actor.roles):
        raise PermissionDenied(f"user {actor.username!r} may not load a whole company (administrators, planners)")
    if not folder.is_dir():
        from stockwarden.errors import DatasetNotFound

        raise DatasetNotFound(f"dataset folder {folder} does not exist or is not a folder")
    report = _bulk(ctx.engine, folder, progress=progress)
    tables = {name: {"read": t.read, "stored": t.inserted, "rejected": t.rejected} for name, t in report.tables.items()}
    with session_scope(ctx) as s:
        record(
            s,
            actor,
            action="data.import",
            object_type="import_batch",
            object_id=report.batch_id,
            after={"source": str(folder), "bulk": True, "tables": tables},
            now=ctx.now(),
        )
    return report


def scoped_dataset(ds: Any, scope: Scope) -> Any:
    """The dataset (``ingest.Dataset``) limited to the scope's locations and the SKUs of its categories
    (an unrestricted scope: as is)."""
    if scope.is_unrestricted:
        return ds
    skus = None
    if scope.categories:
        items = ds.items
        skus = frozenset(items.loc[items["category"].astype(str).isin(scope.categories), "sku"].astype(str))
    locations = frozenset(scope.locations) if scope.locations else None
    return ds.restricted(locations=locations, skus=skus)


def load_dataset(ctx: AppContext, *, actor: Actor) -> Any:
    """Everything stored (``ingest.Dataset``), as the actor may see it (their locations and categories).

    Raises:
        StoreError: the database holds no imported data.
    """
    from stockwarden.store.repo import load_dataset_from_db

    require(actor, Permission.READ)
    return scoped_dataset(load_dataset_from_db(ctx.engine), actor.scope)


def load_day(ctx: AppContext, *, actor: Actor, as_of: Any = None) -> tuple[Any, Any]:
    """The dataset as known at the end of ``as_of`` (default: the newest data day) with the exported
    orders counted as open POs (what the daily run reads), as the actor may see it; and that day.

    Raises:
        StockwardenError: the database holds no dated rows.
    """
    from stockwarden.pipeline import load_day as _load_day

    require(actor, Permission.READ)
    ds, day = _load_day(ctx.engine, as_of)
    return scoped_dataset(ds, actor.scope), day


__all__ = [
    "COUNT_KEYS",
    "REJECT_COLUMNS",
    "ImportOutcome",
    "ImportProgress",
    "ImportReport",
    "bulk_import",
    "extract_zip",
    "import_dataset",
    "import_upload",
    "ingest_rows",
    "list_rejects",
    "load_dataset",
    "load_day",
    "scoped_dataset",
]
