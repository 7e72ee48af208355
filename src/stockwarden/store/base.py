"""The one SQLAlchemy declarative base shared by every table of stockwarden.

Every table module (``store/tables.py`` for the dataset, ``store/alerts.py``, ``store/orders.py``, ...)
declares its tables on :class:`Base` so that a single ``Base.metadata`` describes the whole schema;
Alembic's ``env.py`` imports every module listed in :data:`stockwarden.store.TABLE_MODULES`.

Constraint names follow a fixed naming convention so migrations are reproducible on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every stockwarden table (one shared ``metadata``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


__all__ = ["NAMING_CONVENTION", "Base"]
