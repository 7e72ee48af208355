"""Storage tables of the dataset: one SQL table per dataset table, plus import batches, rejects, history.

Each dataset table (``items``, ``sales``, ...) is declared from ``ingest.schema`` so the stored columns
are exactly the canonical ones, plus bookkeeping columns:

* ``id``: surrogate key; rows are returned in ``id`` order (file order for one import).
* the storage key is the natural key of the table plus ``seq`` (see below); an import upserts on it.
  It is computed, not stored (``store.upsert.storage_keys`` joins it as text, the ``row_key`` of the
  history), and unique by construction: the import takes the database's write lock before it compares
  and writes. There is no unique index: it would double the bulk-load time.
* ``seq``: the occurrence number of the natural key within its file (0 for the first row). Sales are
  lines: several lines for the same (date, sku, location_id, order_id) are all kept and summed by the
  engine, so the *n*-th such line of a file is stored under ``seq = n``; re-importing the same file maps
  every line back onto its own record. Exact repeats of a row are duplicates and never reach storage.
* ``row_hash``: a 64-bit digest of the stored values; an import compares it to find changed rows.
* ``line``: the file line the record came from (at its last insert or update).
* ``attrs_json``: extra columns of the file that are not dataset columns (JSON object, or NULL).
* ``batch_id``: the import batch that last inserted or changed the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.ingest.schema import TABLES, Kind
from stockwarden.store.base import Base

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Natural key of each dataset table (the storage key adds ``seq``).
NATURAL_KEYS: dict[str, tuple[str, ...]] = {name: spec.key for name, spec in TABLES.items()}
BOOK_COLUMNS: tuple[str, ...] = ("id", "seq", "row_hash", "line", "attrs_json", "batch_id")


class ImportBatchRow(Base):
    """One run of ``stockwarden import``: where from, when, and its counts (JSON)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(sa.Text)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    counts_json: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class RejectRow(Base):
    """A row put aside by validation (the quarantine): where it was and why."""

    __tablename__ = "import_rejects"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    file: Mapped[str] = mapped_column(sa.Text)
    line: Mapped[int] = mapped_column(sa.Integer)
    column_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    value: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    reason: Mapped[str] = mapped_column(sa.Text)


class HistoryRow(Base):
    """The previous values of a dataset record that an import changed (audit trail)."""

    __tablename__ = "import_history"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    row_key: Mapped[str] = mapped_column(sa.Text)
    previous_json: Mapped[str] = mapped_column(sa.Text)


class DigestRow(Base):
    """Per dataset table and partition (a date, or ``""`` for undated tables): row count and hash sum.

    Lets a re-import skip reading back partitions whose rows are exactly the stored ones.
    """

    __tablename__ = "import_digests"

    table_name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    part: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    n_rows: Mapped[int] = mapped_column(sa.BigInteger)
    hash_sum: Mapped[int] = mapped_column(sa.BigInteger)


def _sql_type(kind: Kind) -> sa.types.TypeEngine[Any]:
    if kind is Kind.STR:
        return sa.Text()
    if kind is Kind.DATE:
        return sa.Date()
    return sa.Float()


def _dataset_table(name: str) -> sa.Table:
    spec = TABLES[name]
    columns: list[sa.Column[object]] = [
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("row_hash", sa.BigInteger, nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("attrs_json", sa.Text, nullable=True),
        # No foreign key: it would cost a trigger per row on bulk loads; it refers to import_batches.id.
        sa.Column("batch_id", sa.BigInteger, nullable=False),
    ]
    for col in spec.columns:
        columns.append(sa.Column(col.name, _sql_type(col.kind), nullable=not col.required))
    # One SKU-location's rows (the API's detail view) are found through the partition indexes below, which
    # lead with (location_id, sku): the (sku, location_id) indexes of 0005_app were dropped by 0013_lean_series.
    return sa.Table(name, Base.metadata, *columns)


DATASET_TABLES: dict[str, sa.Table] = {name: _dataset_table(name) for name in TABLES}

# The partition indexes (migration 0007_scale): a partitioned run loads one location or one set of SKUs at a
# time with ``location_id = ANY(...) AND sku = ANY(...)``, which a btree on (location_id, sku) answers for both.
# On PostgreSQL equal keys are stored once with a list of row addresses, so these cost a few bytes a row
# (migration 0014_lean_partition_indexes; 0012_series_covering had added the date and the quantity).
PARTITION_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sales": ("ix_sales_location_sku", ("location_id", "sku")),
    "inventory": ("ix_inventory_location_sku", ("location_id", "sku")),
    "purchase_orders": ("ix_purchase_orders_location_sku", ("location_id", "sku")),
}
for _table, (_index, _columns) in PARTITION_INDEXES.items():
    sa.Index(_index, *(DATASET_TABLES[_table].c[c] for c in _columns))
BATCHES = cast(sa.Table, ImportBatchRow.__table__)
REJECTS = cast(sa.Table, RejectRow.__table__)
HISTORY = cast(sa.Table, HistoryRow.__table__)
DIGESTS = cast(sa.Table, DigestRow.__table__)

__all__ = [
    "BATCHES",
    "BOOK_COLUMNS",
    "DATASET_TABLES",
    "DIGESTS",
    "HISTORY",
    "NATURAL_KEYS",
    "PARTITION_INDEXES",
    "REJECTS",
    "DigestRow",
    "HistoryRow",
    "ImportBatchRow",
    "RejectRow",
]
