"""Alerts: list, detail with handling log, and the actions ack / snooze / resolve / comment / feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import (
    AlertActionIn,
    AlertDetail,
    AlertPublic,
    CommentIn,
    FeedbackIn,
    HandlingEntryPublic,
    ListOf,
)
from stockwarden.domain.alert import Alert, HandlingEntry
from stockwarden.services import alerts

router = APIRouter(tags=["alerts"])
Multi = Annotated[list[str] | None, Query(description="repeat or comma-separate")]


def alert_public(a: Alert) -> AlertPublic:
    """The API form of an alert."""
    return AlertPublic(**alerts.alert_dict(a))


def entry_public(e: HandlingEntry) -> HandlingEntryPublic:
    """The API form of a handling-log line."""
    return HandlingEntryPublic(
        at=e.at,
        actor=e.actor,
        action=str(e.action),
        from_state=None if e.from_state is None else str(e.from_state),
        to_state=str(e.to_state),
        from_level=None if e.from_level is None else str(e.from_level),
        to_level=None if e.to_level is None else str(e.to_level),
        comment=e.comment,
    )


@router.get("/alerts", response_model=ListOf[AlertPublic])
def list_alerts(
    ctx: Ctx,
    actor: CurrentActor,
    level: Multi = None,
    state: Multi = None,
    location: Multi = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the SKU")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ListOf[AlertPublic]:
    """Alerts, most urgent first (default: every state but resolved)."""
    page = alerts.list_alerts(
        ctx, actor=actor, level=level, state=state, location=location, q=q, limit=limit, offset=offset
    )
    return ListOf(items=[alert_public(a) for a in page.items], total=page.total)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: int, ctx: Ctx, actor: CurrentActor) -> AlertDetail:
    """One alert with its handling log."""
    alert, log = alerts.get_alert(ctx, alert_id, actor=actor)
    return AlertDetail(**alerts.alert_dict(alert), log=[entry_public(e) for e in log])


@router.get("/alerts/{alert_id}/log", response_model=ListOf[HandlingEntryPublic])
def alert_log(alert_id: int, ctx: Ctx, actor: CurrentActor) -> ListOf[HandlingEntryPublic]:
    """The handling log of one alert, oldest first."""
    _, log = alerts.get_alert(ctx, alert_id, actor=actor)
    return ListOf(items=[entry_public(e) for e in log], total=len(log))


@router.post("/alerts/{alert_id}/ack", response_model=AlertPublic)
def ack(alert_id: int, ctx: Ctx, actor: CurrentActor, body: AlertActionIn | None = None) -> AlertPublic:
    """Acknowledge (stops escalation); 409 when already acknowledged or resolved."""
    b = body or AlertActionIn()
    return alert_public(alerts.act_on_alert(ctx, alert_id, "ack", actor=actor, comment=b.comment))


@router.post("/alerts/{alert_id}/snooze", response_model=AlertPublic)
def snooze(alert_id: int, body: AlertActionIn, ctx: Ctx, actor: CurrentActor) -> AlertPublic:
    """Snooze until a date and/or until the level rises."""
    return alert_public(
        alerts.act_on_alert(
            ctx, alert_id, "snooze", actor=actor, comment=body.comment, until=body.until, until_worse=body.until_worse
        )
    )


@router.post("/alerts/{alert_id}/resolve", response_model=AlertPublic)
def resolve(alert_id: int, ctx: Ctx, actor: CurrentActor, body: AlertActionIn | None = None) -> AlertPublic:
    """Resolve by hand."""
    b = body or AlertActionIn()
    return alert_public(alerts.act_on_alert(ctx, alert_id, "resolve", actor=actor, comment=b.comment))


@router.post("/alerts/{alert_id}/comment", response_model=AlertPublic)
def comment(alert_id: int, body: CommentIn, ctx: Ctx, actor: CurrentActor) -> AlertPublic:
    """Add a comment to the handling log."""
    return alert_public(alerts.act_on_alert(ctx, alert_id, "comment", actor=actor, comment=body.comment))


@router.post("/alerts/{alert_id}/feedback", response_model=AlertPublic)
def feedback(alert_id: int, body: FeedbackIn, ctx: Ctx, actor: CurrentActor) -> AlertPublic:
    """Record whether the alert was useful."""
    return alert_public(
        alerts.act_on_alert(ctx, alert_id, "feedback", actor=actor, comment=body.note, verdict=body.verdict)
    )
