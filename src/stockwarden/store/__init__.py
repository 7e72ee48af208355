"""Storage: SQLAlchemy tables, Alembic migrations, the dataset repository.

Every module that declares tables on :class:`stockwarden.store.base.Base` is listed in
:data:`TABLE_MODULES`; :func:`load_table_modules` imports them all so ``Base.metadata`` and Alembic see
the whole schema.
"""

from __future__ import annotations

import importlib

# Modules declaring tables, in migration order: dataset (0001), alerts (0002), orders (0003), assessments (0004),
# app (0005), quality (0006), partition checkpoints (0007), user preferences (0009).
TABLE_MODULES: tuple[str, ...] = (
    "tables",
    "alerts",
    "orders",
    "assessments",
    "app_tables",
    "quality",
    "partition_results",
    "user_prefs",
)


def load_table_modules() -> list[str]:
    """Import every table module of the project; return the names that were found."""
    found = []
    for name in TABLE_MODULES:
        importlib.import_module(f"stockwarden.store.{name}")
        found.append(name)
    return found


__all__ = ["TABLE_MODULES", "load_table_modules"]
