"""Use-cases of the business rules as versioned data: read the rules in force, validate, save a new
version, propose one for approval (approve or reject it), list versions, diff two versions, export one as TOML.

The first version is seeded from ``stockwarden.toml`` (``AppContext.rules_file``) or the defaults;
when that file changes later, its new text becomes a new version too (source ``file``), so editing the
file keeps working as before. Every run records the hash of the version it used (``runs.rules_version``
= ``rules_versions.rules_hash``).

A planner whose scope has categories may change only the per-category entries of their categories
(``risk.service_level_by_category.<cat>``, ...); admins and unscoped planners may change anything.

A version is ``in_force``, ``proposed`` or ``rejected``. Saving stores an in-force version; proposing (what
``stockwarden tune`` does) stores a version awaiting approval that changes nothing: the rules in force stay
the in-force version activated last until a person with ``rules.write`` approves the proposal (it then comes
into force; the same scope check as saving) or rejects it. Every step writes an audit row.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import tomli_w
from pydantic import ValidationError

from stockwarden.config import RulesConfig
from stockwarden.domain.actor import SYSTEM_ACTOR, Actor, Permission
from stockwarden.errors import FieldErrors, InputError, NotFound, PermissionDenied
from stockwarden.services.audit import record
from stockwarden.services.common import Page, check_page, require
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.store.app_tables import RulesVersionRow
from stockwarden.store.user_repo import utc

MAX_RULES_BYTES = 1_000_000
IN_FORCE, PROPOSED, REJECTED = "in_force", "proposed", "rejected"
_CATEGORY_PATH = re.compile(r"^[a-z_]+\.[a-z_]+_by_category\.(?P<cat>[^.]+)(\..*)?$")


@dataclass(frozen=True, slots=True)
class RulesVersion:
    """A stored version of the rules."""

    id: int
    rules_hash: str
    source: str
    comment: str
    created_by: str
    created_at: dt.datetime
    toml_text: str
    status: str = IN_FORCE
    decided_by: str | None = None
    decided_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One changed setting between two versions (``None``: absent on that side)."""

    path: str
    before: Any
    after: Any


def _to_version(row: RulesVersionRow) -> RulesVersion:
    return RulesVersion(
        id=row.id,
        rules_hash=row.rules_hash,
        source=row.source,
        comment=row.comment,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        toml_text=row.toml_text,
        status=row.status or IN_FORCE,
        decided_by=row.decided_by,
        decided_at=None if row.decided_at is None else utc(row.decided_at),
    )


def _next_activation(s: Any) -> int:
    top = s.scalar(sa.select(sa.func.max(RulesVersionRow.activation)))
    return int(top or 0) + 1


def _in_force_query() -> Any:
    return (
        sa.select(RulesVersionRow)
        .where(RulesVersionRow.status == IN_FORCE)
        .order_by(RulesVersionRow.activation.desc(), RulesVersionRow.id.desc())
        .limit(1)
    )


def parse_rules_text(text: str) -> RulesConfig:
    """Parse and validate TOML rules text with the rules' Pydantic models.

    Raises:
        FieldErrors: not TOML, or unknown or invalid keys (each listed with its dotted path).
    """
    if len(text.encode("utf-8")) > MAX_RULES_BYTES:
        raise FieldErrors("the rules text is too large", errors=[{"loc": "", "msg": "larger than 1 MB"}])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FieldErrors(f"the rules are not valid TOML: {exc}", errors=[{"loc": "", "msg": str(exc)}]) from None
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        problems = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors)
        raise FieldErrors(f"the rules are not valid: {problems}", errors=errors) from None


def rules_to_toml(rules: RulesConfig) -> str:
    """The rules as TOML (every setting, defaults included; unset optional values left out)."""
    return tomli_w.dumps(_drop_none(rules.model_dump(mode="json")))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"section.key": value}`` (lists are leaves; an empty table has no entries)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def diff_rules(before: RulesConfig, after: RulesConfig) -> list[RuleChange]:
    """Every setting whose effective value differs, by dotted path."""
    a, b = flatten(before.model_dump(mode="json")), flatten(after.model_dump(mode="json"))
    return [RuleChange(p, a.get(p), b.get(p)) for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]


def _seed(ctx: AppContext) -> None:
    """Store the first version (or the file's new text) when needed."""
    path = ctx.rules_file
    text = None
    source = "defaults"
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
        source = f"file:{path}"
    with session_scope(ctx) as s:
        latest = s.scalars(sa.select(RulesVersionRow).order_by(RulesVersionRow.id.desc()).limit(1)).one_or_none()
        if text is not None:
            seeded = s.scalars(
                sa.select(RulesVersionRow)
                .where(RulesVersionRow.source == source)
                .order_by(RulesVersionRow.id.desc())
                .limit(1)
            ).one_or_none()
            if seeded is not None and seeded.toml_text == text:
                return
        elif latest is not None:
            return
        rules = parse_rules_text(text) if text is not None else RulesConfig()
        now = ctx.now()
        row = RulesVersionRow(
            rules_hash=rules.version(),
            toml_text=text if text is not None else rules_to_toml(rules),
            source=source,
            comment="seeded from " + (str(path) if text is not None else "the built-in defaults"),
            created_by=SYSTEM_ACTOR.username,
            created_at=now,
            status=IN_FORCE,
            activation=_next_activation(s),
        )
        s.add(row)
        s.flush()
        record(
            s,
            SYSTEM_ACTOR,
            action="rules.seed",
            object_type="rules",
            object_id=row.id,
            after={"rules_hash": row.rules_hash, "source": source},
            now=now,
        )


def current_rules(ctx: AppContext) -> tuple[RulesVersion, RulesConfig]:
    """The rules in force (the in-force version activated last), seeding the first version when there is none."""
    _seed(ctx)
    with read_scope(ctx) as s:
        row = s.scalars(_in_force_query()).one()  # seeded above; proposals never come before it
        version = _to_version(row)
    cached = ctx.cache.get("rules")
    if cached is not None and cached[0] == version.id:
        return version, cached[1]
    rules = parse_rules_text(version.toml_text)
    ctx.cache["rules"] = (version.id, rules)
    return version, rules


def get_rules(ctx: AppContext, *, actor: Actor) -> tuple[RulesVersion, RulesConfig]:
    """The rules in force and their version."""
    require(actor, Permission.RULES_READ)
    return current_rules(ctx)


def validate_rules(ctx: AppContext, text: str, *, actor: Actor) -> tuple[RulesConfig, list[RuleChange]]:
    """Check TOML rules text without saving; returns the parsed rules and their diff with the rules in force.

    Raises:
        FieldErrors: the text is not valid (each problem with its path).
    """
    require(actor, Permission.RULES_READ)
    rules = parse_rules_text(text)
    _, current = current_rules(ctx)
    return rules, diff_rules(current, rules)


def _check_scope(actor: Actor, changes: list[RuleChange]) -> None:
    if actor.is_admin or not actor.scope.categories:
        return
    outside = []
    for change in changes:
        m = _CATEGORY_PATH.match(change.path)
        if m is None or m.group("cat") not in actor.scope.categories:
            outside.append(change.path)
    if outside:
        raise PermissionDenied(
            f"user {actor.username!r} may change only the rules of categories "
            f"{', '.join(sorted(actor.scope.categories))}; not: {', '.join(outside[:10])}"
        )


def save_rules(ctx: AppContext, text: str, *, actor: Actor, comment: str = "") -> tuple[RulesVersion, list[RuleChange]]:
    """Validate and store TOML rules text as the new version in force; returns it and what changed.

    Raises:
        FieldErrors: invalid rules. PermissionDenied: not allowed (role, or categories outside the scope).
        InputError: nothing changed.
    """
    require(actor, Permission.RULES_WRITE)
    rules = parse_rules_text(text)
    before_version, current = current_rules(ctx)
    changes = diff_rules(current, rules)
    if not changes and text == before_version.toml_text:
        raise InputError("these rules are the ones in force already: nothing to save")
    _check_scope(actor, changes)
    version = _store_version(
        ctx,
        text,
        rules,
        actor=actor,
        comment=comment,
        source=str(actor.via),
        proposed=False,
        before=before_version,
        changes=changes,
    )
    return version, changes


def propose_rules(
    ctx: AppContext, text: str, *, actor: Actor, comment: str = "", source: str | None = None
) -> tuple[RulesVersion, list[RuleChange]]:
    """Store TOML rules text as a version awaiting approval; the rules in force do not change.

    Returns the proposed version and what it would change against the rules in force.

    Raises:
        FieldErrors: invalid rules. PermissionDenied: the actor may not write rules.
        InputError: the proposal changes no setting of the rules in force.
    """
    require(actor, Permission.RULES_WRITE)
    rules = parse_rules_text(text)
    in_force, current = current_rules(ctx)
    changes = diff_rules(current, rules)
    if not changes:
        raise InputError(f"the proposal changes no setting of the rules in force (version {in_force.id})")
    version = _store_version(
        ctx,
        text,
        rules,
        actor=actor,
        comment=comment,
        source=source or str(actor.via),
        proposed=True,
        before=in_force,
        changes=changes,
    )
    return version, changes


def _store_version(
    ctx: AppContext,
    text: str,
    rules: RulesConfig,
    *,
    actor: Actor,
    comment: str,
    source: str,
    proposed: bool,
    before: RulesVersion,
    changes: list[RuleChange],
) -> RulesVersion:
    """Store a rules version (in force now, or awaiting approval) and its audit row, in one transaction."""
    now = ctx.now()
    with session_scope(ctx) as s:
        row = RulesVersionRow(
            rules_hash=rules.version(),
            toml_text=text,
            source=source,
            comment=comment.strip()[:2000],
            created_by=actor.username,
            created_at=now,
            status=PROPOSED if proposed else IN_FORCE,
            activation=None if proposed else _next_activation(s),
        )
        s.add(row)
        s.flush()
        version = _to_version(row)
        record(
            s,
            actor,
            action="rules.propose" if proposed else "rules.save",
            object_type="rules",
            object_id=row.id,
            before={"version": before.id, "rules_hash": before.rules_hash},
            after={"version": row.id, "rules_hash": row.rules_hash, "changes": [c.path for c in changes]},
            now=now,
        )
    return version


def _proposed_row(s: Any, version_id: int) -> RulesVersionRow:
    row = s.get(RulesVersionRow, version_id)
    if row is None:
        raise NotFound(f"rules version {version_id} does not exist")
    if row.status != PROPOSED:
        state = "in force" if row.status == IN_FORCE else row.status
        raise InputError(
            f"rules version {version_id} is not awaiting approval (it was {state}"
            + (f" by {row.decided_by}" if row.decided_by else "")
            + "); only a proposed version can be approved or rejected"
        )
    return row


def approve_version(
    ctx: AppContext, version_id: int, *, actor: Actor, comment: str = ""
) -> tuple[RulesVersion, list[RuleChange]]:
    """Bring a proposed version into force; returns it and what it changed against the rules in force before.

    Raises:
        NotFound: no such version. InputError: the version is not awaiting approval.
        PermissionDenied: the actor may not write rules, or the proposal changes categories outside their scope.
    """
    require(actor, Permission.RULES_WRITE)
    before_version, current = current_rules(ctx)
    now = ctx.now()
    with session_scope(ctx) as s:
        row = _proposed_row(s, version_id)
        changes = diff_rules(current, parse_rules_text(row.toml_text))
        _check_scope(actor, changes)
        row.status = IN_FORCE
        row.activation = _next_activation(s)
        row.decided_by = actor.username
        row.decided_at = now
        s.flush()
        version = _to_version(row)
        record(
            s,
            actor,
            action="rules.approve",
            object_type="rules",
            object_id=row.id,
            before={"version": before_version.id, "rules_hash": before_version.rules_hash, "status": PROPOSED},
            after={
                "version": row.id,
                "rules_hash": row.rules_hash,
                "status": IN_FORCE,
                "changes": [c.path for c in changes],
                "comment": comment.strip()[:2000],
            },
            now=now,
        )
    ctx.cache.pop("rules", None)
    return version, changes


def reject_version(ctx: AppContext, version_id: int, *, actor: Actor, reason: str = "") -> RulesVersion:
    """Mark a proposed version rejected (it never comes into force; it stays listed with who and why).

    Raises:
        NotFound: no such version. InputError: the version is not awaiting approval.
        PermissionDenied: the actor may not write rules, or the proposal touches categories outside their scope.
    """
    require(actor, Permission.RULES_WRITE)
    _, current = current_rules(ctx)
    now = ctx.now()
    with session_scope(ctx) as s:
        row = _proposed_row(s, version_id)
        _check_scope(actor, diff_rules(current, parse_rules_text(row.toml_text)))
        row.status = REJECTED
        row.decided_by = actor.username
        row.decided_at = now
        s.flush()
        version = _to_version(row)
        record(
            s,
            actor,
            action="rules.reject",
            object_type="rules",
            object_id=row.id,
            before={"status": PROPOSED},
            after={"status": REJECTED, "reason": reason.strip()[:2000]},
            now=now,
        )
    return version


def list_versions(ctx: AppContext, *, actor: Actor, limit: int = 50, offset: int = 0) -> Page[RulesVersion]:
    """Stored versions, newest first."""
    require(actor, Permission.RULES_READ)
    check_page(limit, offset)
    current_rules(ctx)
    with read_scope(ctx) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(RulesVersionRow)) or 0
        rows = s.scalars(
            sa.select(RulesVersionRow).order_by(RulesVersionRow.id.desc()).limit(limit).offset(offset)
        ).all()
        return Page([_to_version(r) for r in rows], int(total))


def get_version(ctx: AppContext, version_id: int, *, actor: Actor) -> RulesVersion:
    """One stored version.

    Raises:
        NotFound: no such version.
    """
    require(actor, Permission.RULES_READ)
    with read_scope(ctx) as s:
        row = s.get(RulesVersionRow, version_id)
        if row is None:
            raise NotFound(f"rules version {version_id} does not exist")
        return _to_version(row)


def diff_versions(ctx: AppContext, old_id: int, new_id: int, *, actor: Actor) -> list[RuleChange]:
    """What changed from version ``old_id`` to version ``new_id``."""
    old, new = get_version(ctx, old_id, actor=actor), get_version(ctx, new_id, actor=actor)
    return diff_rules(parse_rules_text(old.toml_text), parse_rules_text(new.toml_text))


def export_rules(ctx: AppContext, *, actor: Actor, version_id: int | None = None) -> str:
    """The TOML text of a version (default: the one in force)."""
    if version_id is None:
        require(actor, Permission.RULES_READ)
        return current_rules(ctx)[0].toml_text
    return get_version(ctx, version_id, actor=actor).toml_text


__all__ = [
    "IN_FORCE",
    "PROPOSED",
    "REJECTED",
    "RuleChange",
    "RulesVersion",
    "approve_version",
    "current_rules",
    "diff_rules",
    "diff_versions",
    "export_rules",
    "get_rules",
    "get_version",
    "list_versions",
    "parse_rules_text",
    "propose_rules",
    "reject_version",
    "rules_to_toml",
    "save_rules",
    "validate_rules",
]
