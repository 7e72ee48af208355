"""Row locks for read-modify-write use-cases (an alert action, a proposal approval).

PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite: a no-op ``UPDATE`` of the row as the transaction's first
statement takes the database write lock *before* the row is read, so two concurrent actions on the same
row are serialised (the second waits, then sees the first one's result) instead of failing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def lock_rows(session: Session, table: Any, ids: list[int]) -> None:
    """Lock rows ``ids`` of ``table`` (a Table or mapped class with an ``id`` column) until the commit."""
    t = table.__table__ if hasattr(table, "__table__") else table
    if not ids:
        return
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.update(t).where(t.c.id.in_(ids)).values(id=t.c.id))
    else:
        session.execute(sa.select(t.c.id).where(t.c.id.in_(ids)).with_for_update())


__all__ = ["lock_rows"]
