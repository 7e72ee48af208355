"""Alert effectiveness from the company's own history (``stockwarden quality`` without storing a snapshot)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import QualityPublic
from stockwarden.services import quality

router = APIRouter(tags=["quality"])


@router.get("/quality", response_model=QualityPublic)
def get_quality(
    ctx: Ctx,
    actor: CurrentActor,
    since: Annotated[
        dt.date | None, Query(description="first day judged (default: 90 days before the newest data)")
    ] = None,
    planners: Annotated[int, Query(ge=1, le=10_000, description="planners sharing the alerts")] = 1,
) -> QualityPublic:
    """Stockouts warned in time, effective alerts, false alarms, warning lead time and alerts per week, overall
    and per category, location and supplier, over the SKU-locations of the caller's scope."""
    return QualityPublic.model_validate(quality.alert_quality(ctx, actor=actor, since=since, planners=planners))
