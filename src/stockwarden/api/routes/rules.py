"""The business rules as versions: get, validate, put, propose, approve, reject, versions, diff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import (
    ListOf,
    RuleChangePublic,
    RulesDecided,
    RulesDecisionIn,
    RulesDiff,
    RulesIn,
    RulesPublic,
    RulesSaved,
    RulesValidation,
    RulesVersionPublic,
)
from stockwarden.services import rules
from stockwarden.services.rules import RuleChange, RulesVersion

router = APIRouter(tags=["rules"])


def _changes(changes: list[RuleChange]) -> list[RuleChangePublic]:
    return [RuleChangePublic(path=c.path, before=c.before, after=c.after) for c in changes]


def _version(v: RulesVersion, *, with_text: bool = False) -> RulesVersionPublic:
    return RulesVersionPublic(
        id=v.id,
        rules_hash=v.rules_hash,
        source=v.source,
        comment=v.comment,
        created_by=v.created_by,
        created_at=v.created_at,
        toml=v.toml_text if with_text else None,
        status=v.status,  # type: ignore[arg-type]
        decided_by=v.decided_by,
        decided_at=v.decided_at,
    )


@router.get("/rules", response_model=RulesPublic)
def get_rules(ctx: Ctx, actor: CurrentActor) -> RulesPublic:
    """The rules in force."""
    version, cfg = rules.get_rules(ctx, actor=actor)
    return RulesPublic(
        version=version.id,
        rules_hash=version.rules_hash,
        created_by=version.created_by,
        created_at=version.created_at,
        toml=version.toml_text,
        rules=cfg.model_dump(mode="json"),
    )


@router.post("/rules/validate", response_model=RulesValidation)
def validate(body: RulesIn, ctx: Ctx, actor: CurrentActor) -> RulesValidation:
    """Check rules without saving them (422 with the bad fields when invalid)."""
    cfg, changes = rules.validate_rules(ctx, body.toml, actor=actor)
    return RulesValidation(valid=True, rules_hash=cfg.version(), changes=_changes(changes))


@router.put("/rules", response_model=RulesSaved)
def put_rules(body: RulesIn, ctx: Ctx, actor: CurrentActor) -> RulesSaved:
    """Save rules as the new version in force."""
    version, changes = rules.save_rules(ctx, body.toml, actor=actor, comment=body.comment)
    return RulesSaved(version=version.id, rules_hash=version.rules_hash, changes=_changes(changes))


@router.post("/rules/proposals", response_model=RulesDecided, status_code=201)
def propose(body: RulesIn, ctx: Ctx, actor: CurrentActor) -> RulesDecided:
    """Store rules as a version awaiting approval (the rules in force do not change)."""
    version, changes = rules.propose_rules(ctx, body.toml, actor=actor, comment=body.comment)
    return RulesDecided(version=version.id, rules_hash=version.rules_hash, status="proposed", changes=_changes(changes))


@router.post("/rules/versions/{version_id}/approve", response_model=RulesDecided)
def approve(version_id: int, ctx: Ctx, actor: CurrentActor, body: RulesDecisionIn | None = None) -> RulesDecided:
    """Approve a proposed version: it becomes the rules in force."""
    version, changes = rules.approve_version(ctx, version_id, actor=actor, comment=body.comment if body else "")
    return RulesDecided(version=version.id, rules_hash=version.rules_hash, status="in_force", changes=_changes(changes))


@router.post("/rules/versions/{version_id}/reject", response_model=RulesDecided)
def reject(version_id: int, ctx: Ctx, actor: CurrentActor, body: RulesDecisionIn | None = None) -> RulesDecided:
    """Reject a proposed version: it never comes into force."""
    version = rules.reject_version(ctx, version_id, actor=actor, reason=body.comment if body else "")
    return RulesDecided(version=version.id, rules_hash=version.rules_hash, status="rejected")


@router.get("/rules/versions", response_model=ListOf[RulesVersionPublic])
def versions(
    ctx: Ctx,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ListOf[RulesVersionPublic]:
    """Stored versions, newest first."""
    page = rules.list_versions(ctx, actor=actor, limit=limit, offset=offset)
    return ListOf(items=[_version(v) for v in page.items], total=page.total)


@router.get("/rules/versions/{version_id}", response_model=RulesVersionPublic)
def version(version_id: int, ctx: Ctx, actor: CurrentActor) -> RulesVersionPublic:
    """One version with its TOML text."""
    return _version(rules.get_version(ctx, version_id, actor=actor), with_text=True)


@router.get("/rules/diff", response_model=RulesDiff)
def diff(
    ctx: Ctx,
    actor: CurrentActor,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> RulesDiff:
    """What changed between two versions."""
    changes = rules.diff_versions(ctx, from_version, to_version, actor=actor)
    return RulesDiff(from_version=from_version, to_version=to_version, changes=_changes(changes))
