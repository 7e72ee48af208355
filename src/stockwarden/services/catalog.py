"""Use-cases that read the master data: items, locations, suppliers (scoped and paged)."""

from __future__ import annotations

from typing import Any

from stockwarden.domain.actor import Actor, Permission
from stockwarden.services.common import Page, check_page, require, scope_clause
from stockwarden.services.context import AppContext, read_scope
from stockwarden.store.tables import DATASET_TABLES
from stockwarden.store.views import page_dataset


def list_items(
    ctx: AppContext,
    *,
    actor: Actor,
    q: str | None = None,
    category: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """Items (SKUs) in the actor's categories, by SKU; ``q`` searches SKU and name."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    t = DATASET_TABLES["items"]
    where = scope_clause(actor.scope, category_col=t.c.category)
    if category:
        where = where & (t.c.category == category)
    with read_scope(ctx) as s:
        rows, total = page_dataset(
            s,
            "items",
            where=where,
            search=q,
            search_cols=("sku", "name"),
            order_by=("sku",),
            limit=limit,
            offset=offset,
        )
    return Page(rows, total)


def list_locations(
    ctx: AppContext, *, actor: Actor, q: str | None = None, limit: int = 50, offset: int = 0
) -> Page[dict[str, Any]]:
    """Locations in the actor's scope."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    t = DATASET_TABLES["locations"]
    where = scope_clause(actor.scope, location_col=t.c.location_id)
    with read_scope(ctx) as s:
        rows, total = page_dataset(
            s,
            "locations",
            where=where,
            search=q,
            search_cols=("location_id", "name"),
            order_by=("location_id",),
            limit=limit,
            offset=offset,
        )
    return Page(rows, total)


def list_suppliers(
    ctx: AppContext, *, actor: Actor, q: str | None = None, limit: int = 50, offset: int = 0
) -> Page[dict[str, Any]]:
    """Suppliers (not scoped: a supplier serves every location)."""
    require(actor, Permission.READ)
    check_page(limit, offset)
    with read_scope(ctx) as s:
        rows, total = page_dataset(
            s,
            "suppliers",
            where=scope_clause(actor.scope),
            search=q,
            search_cols=("supplier_id", "name"),
            order_by=("supplier_id",),
            limit=limit,
            offset=offset,
        )
    return Page(rows, total)


__all__ = ["list_items", "list_locations", "list_suppliers"]
