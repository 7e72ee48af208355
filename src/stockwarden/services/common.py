"""Shared pieces of the use-cases: pages of results, the permission check, scope filters in queries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from stockwarden.domain.actor import Actor, Permission, Scope
from stockwarden.errors import InputError, PermissionDenied

T = TypeVar("T")

MAX_LIMIT = 1000
"""Largest page a list returns at once."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items and the total count that matched (before limit/offset)."""

    items: list[T]
    total: int


def check_page(limit: int, offset: int) -> None:
    """Refuse a negative offset or a limit outside 1..MAX_LIMIT.

    Raises:
        InputError: naming the bad value.
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise InputError(f"offset must be 0 or more, got {offset}")


def require(actor: Actor, permission: Permission) -> None:
    """Check that ``actor`` holds ``permission``.

    Raises:
        PermissionDenied: naming the permission and the actor's roles.
    """
    if not actor.can(permission):
        roles = ", ".join(sorted(r.value for r in actor.roles)) or "none"
        extra = " (read-only token)" if actor.is_read_only else ""
        raise PermissionDenied(f"user {actor.username!r} (roles: {roles}{extra}) may not do this: needs {permission}")


def items_table() -> sa.Table:
    """The stored ``items`` dataset table (for category scope)."""
    from stockwarden.store.tables import DATASET_TABLES

    return DATASET_TABLES["items"]


def scope_clause(
    scope: Scope, *, location_col: Any | None = None, sku_col: Any | None = None, category_col: Any | None = None
) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting rows to the scope (true when the scope is everything).

    ``category_col`` filters on a category column of the row itself; otherwise ``sku_col`` is
    matched against the skus of the items in the scope's categories.
    """
    parts: list[sa.ColumnElement[bool]] = []
    if scope.locations and location_col is not None:
        parts.append(location_col.in_(sorted(scope.locations)))
    if scope.categories:
        if category_col is not None:
            parts.append(category_col.in_(sorted(scope.categories)))
        elif sku_col is not None:
            items = items_table()
            parts.append(sku_col.in_(sa.select(items.c.sku).where(items.c.category.in_(sorted(scope.categories)))))
    return sa.and_(sa.true(), *parts)


def dumps(value: Any) -> str:
    """JSON for the audit trail (dates and other values as strings)."""
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def split_csv(values: Sequence[str] | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]`` (blank parts dropped)."""
    out: list[str] = []
    for v in values or ():
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return out


__all__ = ["MAX_LIMIT", "Page", "check_page", "dumps", "items_table", "require", "scope_clause", "split_csv"]
