"""Items, locations and suppliers (scoped to the actor's locations and categories)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import ListOf
from stockwarden.services import catalog

router = APIRouter(tags=["master data"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Search = Annotated[str | None, Query(max_length=200, description="text in the code or name")]


@router.get("/items", response_model=ListOf[dict[str, Any]])
def items(
    ctx: Ctx,
    actor: CurrentActor,
    q: Search = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ListOf[dict[str, Any]]:
    """Items (SKUs) in the actor's categories."""
    page = catalog.list_items(ctx, actor=actor, q=q, category=category, limit=limit, offset=offset)
    return ListOf(items=page.items, total=page.total)


@router.get("/locations", response_model=ListOf[dict[str, Any]])
def locations(
    ctx: Ctx, actor: CurrentActor, q: Search = None, limit: Limit = 50, offset: Offset = 0
) -> ListOf[dict[str, Any]]:
    """Locations in the actor's scope."""
    page = catalog.list_locations(ctx, actor=actor, q=q, limit=limit, offset=offset)
    return ListOf(items=page.items, total=page.total)


@router.get("/suppliers", response_model=ListOf[dict[str, Any]])
def suppliers(
    ctx: Ctx, actor: CurrentActor, q: Search = None, limit: Limit = 50, offset: Offset = 0
) -> ListOf[dict[str, Any]]:
    """Suppliers."""
    page = catalog.list_suppliers(ctx, actor=actor, q=q, limit=limit, offset=offset)
    return ListOf(items=page.items, total=page.total)
