"""Request and response models of the API (Pydantic v2). ``*Public`` models are what the API returns;
every list is ``{"items": [...], "total": N}`` (:class:`ListOf`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    """A page of a list: the items and how many matched in all."""

    items: list[T]
    total: int = Field(ge=0)


class Health(BaseModel):
    """Liveness and version."""

    status: Literal["ok"]
    version: str
    api_version: str


class Me(BaseModel):
    """The acting user."""

    username: str
    roles: list[str]
    permissions: list[str]
    locations: list[str]
    categories: list[str]
    via: str
    token_id: int | None = None
    read_only: bool = False
    csrf_token: str | None = Field(None, description="the CSRF token to send as X-CSRF-Token (cookie sessions)")


class LoginIn(BaseModel):
    """User name and password."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1000)


class LoginOut(BaseModel):
    """A signed-in session: the CSRF token for state-changing requests."""

    username: str
    csrf_token: str
    expires_at: dt.datetime


class UserPublic(BaseModel):
    """A user (never the password hash)."""

    id: int
    username: str
    roles: list[str]
    locations: list[str]
    categories: list[str]
    is_active: bool
    has_password: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class UserCreate(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=120)
    roles: list[str] = Field(min_length=1)
    locations: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    password: str | None = Field(None, max_length=1000)


class UserUpdate(BaseModel):
    """Changes to a user (only the fields given change)."""

    model_config = ConfigDict(extra="forbid")
    roles: list[str] | None = None
    locations: list[str] | None = None
    categories: list[str] | None = None
    is_active: bool | None = None
    password: str | None = Field(None, max_length=1000)


class TokenPublic(BaseModel):
    """An API token (never the token itself, except once at creation)."""

    id: int
    username: str
    name: str
    prefix: str
    read_only: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreate(BaseModel):
    """A new token for a user."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=120)
    name: str = Field("", max_length=200)
    expires_days: float | None = Field(None, gt=0, le=3650)
    read_only: bool = False


class TokenCreated(TokenPublic):
    """A token just created: ``token`` is shown this once."""

    token: str


class AuditPublic(BaseModel):
    """One audit row."""

    id: int
    at: dt.datetime
    username: str
    token_id: int | None
    via: str
    action: str
    object_type: str
    object_id: str | None
    before: Any = None
    after: Any = None
    request_id: str | None
    client: str | None


class RulesPublic(BaseModel):
    """The rules in force: the version, its TOML text and the parsed settings."""

    version: int
    rules_hash: str
    created_by: str
    created_at: dt.datetime
    toml: str
    rules: dict[str, Any]


class RulesIn(BaseModel):
    """Rules as TOML text, with an optional comment for the version."""

    model_config = ConfigDict(extra="forbid")
    toml: str = Field(max_length=1_000_000)
    comment: str = Field("", max_length=2000)


class RuleChangePublic(BaseModel):
    """One changed setting."""

    path: str
    before: Any = None
    after: Any = None


class RulesValidation(BaseModel):
    """The result of validating rules: valid, and what would change."""

    valid: bool
    rules_hash: str
    changes: list[RuleChangePublic]


class RulesSaved(BaseModel):
    """A saved version and what changed."""

    version: int
    rules_hash: str
    changes: list[RuleChangePublic]


class RulesVersionPublic(BaseModel):
    """A stored rules version."""

    id: int
    rules_hash: str
    source: str
    comment: str
    created_by: str
    created_at: dt.datetime
    toml: str | None = None
    status: Literal["in_force", "proposed", "rejected"] = "in_force"
    decided_by: str | None = None
    decided_at: dt.datetime | None = None


class RulesDecisionIn(BaseModel):
    """Why a proposed rules version is approved or rejected (shown in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=2000)


class RulesDecided(BaseModel):
    """A proposed version after a decision, and (approved) what it changed against the rules in force before."""

    version: int
    rules_hash: str
    status: Literal["in_force", "proposed", "rejected"]
    changes: list[RuleChangePublic] = Field(default_factory=list)


class RulesDiff(BaseModel):
    """The changes from one version to another."""

    from_version: int
    to_version: int
    changes: list[RuleChangePublic]


Row = dict[str, Any]


class AssessmentPublic(BaseModel):
    """One SKU-location of the latest run (every assessment column; the main ones typed here)."""

    model_config = ConfigDict(extra="allow")
    sku: str
    location_id: str
    level: str
    stockout_probability: float | None = None
    as_of: dt.date | None = None


class AssessmentList(ListOf[AssessmentPublic]):
    """The latest completed run's assessments: a page, the run and its date."""

    run_id: int | None = None
    as_of: dt.date | None = None


class AlertPublic(BaseModel):
    """An alert."""

    model_config = ConfigDict(extra="allow")
    id: int
    sku: str
    location_id: str
    level: str
    state: str
    kind: str
    stockout_probability: float


class HandlingEntryPublic(BaseModel):
    """One line of an alert's handling log."""

    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    from_level: str | None
    to_level: str | None
    comment: str


class AlertDetail(AlertPublic):
    """An alert with its handling log."""

    log: list[HandlingEntryPublic]


class AlertActionIn(BaseModel):
    """Optional comment (and, for snooze, until / until_worse) of an alert action."""

    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=5000)
    until: dt.date | None = Field(None, description="snooze: wake on this date")
    until_worse: bool = Field(False, description="snooze: wake when the level rises")


class CommentIn(BaseModel):
    """A comment for the handling log."""

    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=5000)


class FeedbackIn(BaseModel):
    """Whether an alert was useful."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["useful", "false_alarm", "already_handled"]
    note: str = Field("", max_length=5000)


class ProposalPublic(BaseModel):
    """A proposal line with its optimistic ``version`` (send it back with approve/reject/change)."""

    model_config = ConfigDict(extra="allow")
    id: int
    po_id: str
    line_no: int
    sku: str
    location_id: str
    status: str
    qty: float
    version: int


class ProposalDetail(ProposalPublic):
    """A proposal line with its approval log."""

    log: list[dict[str, Any]]


class PurchaseOrderPublic(BaseModel):
    """A draft purchase order: its lines grouped."""

    po_id: str
    supplier_id: str | None
    location_id: str | None
    lines: int
    value: float
    order_by_date: dt.date | None
    status_counts: dict[str, int]


class ApproveIn(BaseModel):
    """Approve: optional comment, the version read (409 when it changed), an approver role (admins)."""

    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, ge=0)
    comment: str | None = Field(None, max_length=5000)
    as_role: str | None = Field(None, max_length=40)


class RejectIn(BaseModel):
    """Reject with a reason code."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=40)
    version: int | None = Field(None, ge=0)
    comment: str | None = Field(None, max_length=5000)


class ChangeIn(BaseModel):
    """Approve with another quantity and a reason code."""

    model_config = ConfigDict(extra="forbid")
    qty: float = Field(ge=0, le=1e12)
    reason: str = Field(min_length=1, max_length=40)
    version: int | None = Field(None, ge=0)
    comment: str | None = Field(None, max_length=5000)
    as_role: str | None = Field(None, max_length=40)


class ExportIn(BaseModel):
    """Export approved lines."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "xlsx", "json"] = "csv"
    include_drafts: bool = False
    chinese_headers: bool = False


class RunStepPublic(BaseModel):
    """A completed step of a run."""

    name: str
    started_at: dt.datetime
    finished_at: dt.datetime
    seconds: float
    counts: dict[str, int]


class RunPublic(BaseModel):
    """A run with its steps (history and progress)."""

    run_id: int
    as_of: dt.date
    status: str
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rules_version: str
    error: str | None
    counts: dict[str, int]
    steps: list[RunStepPublic]


class RunStartIn(BaseModel):
    """Start a run (as of a date; default the newest data)."""

    model_config = ConfigDict(extra="forbid")
    as_of: dt.date | None = None


class RunStarted(BaseModel):
    """A run started in the background."""

    job_id: str
    state: str
    follow: str


class ImportReportPublic(BaseModel):
    """The import report, as ``stockwarden import --json`` writes it (plus the batch)."""

    batch_id: int
    tables: dict[str, dict[str, int]]
    rejects: list[dict[str, Any]]
    warnings: list[Any]


class FieldError(BaseModel):
    """One bad field: where and what."""

    loc: str
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route may give."""
    return {
        code: {"model": Problem, "content": {"application/problem+json": {}}, "description": "problem details"}
        for code in codes
    }


class QualityMeasures(BaseModel):
    """Alert effectiveness of one group (shares in 0..1; ``None`` when there is nothing to measure)."""

    episodes: int = Field(description="stockout episodes that began in the period")
    warned_in_time: float | None = Field(description="share of them with an alert at least the lead time before")
    warned_1d: float | None = Field(description="share of them with an alert at least one day before")
    median_warning_lead_days: float | None = Field(description="median days from the first alert to the stockout")
    alerts: int = Field(description="warning and critical alerts opened in the period")
    effective: float | None = Field(description="share of judged alerts followed by a stockout or a saving order")
    false_alarms: float | None = Field(description="share of judged alerts with no stockout had nothing been ordered")
    alerts_per_week: float
    alerts_per_planner_per_week: float
    feedback_useful: int
    feedback_false_alarm: int


class QualityGroup(QualityMeasures):
    """The measures of one category, location or supplier."""

    group_by: Literal["category", "location_id", "supplier_id"]
    group: str


class QualityPeriod(BaseModel):
    """The days judged."""

    since: dt.date
    until: dt.date


class QualityPublic(BaseModel):
    """How the alerts did against what happened, in the caller's scope."""

    period: QualityPeriod | None
    enough_history: bool = Field(description="false while no stockout began and no alert could be judged yet")
    overall: QualityMeasures | None
    groups: list[QualityGroup]
    unlabelled_alerts: int = Field(description="alerts whose protection interval has not passed yet")
