"""The ``assessments`` table: every column of ``assess`` for each SKU-location of each run (migration 0004).

Declared from the domain's column contract (:data:`stockwarden.domain.risk.ASSESSMENT_KINDS`), so the
table and the frame cannot drift apart; the migration freezes the same list.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stockwarden.domain.risk import ASSESSMENT_KINDS
from stockwarden.store.base import Base

KINDS: dict[str, sa.types.TypeEngine[Any]] = {
    "date": sa.Date(),
    "text": sa.Text(),
    "int": sa.Integer(),
    "float": sa.Float(),
}
REQUIRED = ("as_of", "sku", "location_id", "level")

assessments = sa.Table(
    "assessments",
    Base.metadata,
    sa.Column("run_id", sa.BigInteger(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    *(
        sa.Column(name, KINDS[kind], primary_key=name in ("sku", "location_id"), nullable=name not in REQUIRED)
        for name, kind in ASSESSMENT_KINDS.items()
    ),
    sa.Index("ix_assessments_run_level", "run_id", "level"),
    sa.Index("ix_assessments_run_location", "run_id", "location_id"),
    sa.Index("ix_assessments_run_probability", "run_id", "stockout_probability"),
    sa.Index("ix_assessments_run_category", "run_id", "category"),
    sa.Index("ix_assessments_run_supplier", "run_id", "supplier_id"),
)
