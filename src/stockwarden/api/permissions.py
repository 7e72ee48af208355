"""The one table of the API: every route (method, path) and the permission it needs.

``authorize`` (a dependency of every router) looks the route up here: a route missing from the table
answers 500 and a test (``tests/integration/api/test_route_permissions.py``) fails, so no route can
be added without declaring who may call it. ``Permission.PUBLIC`` routes need no credentials.
"""

from __future__ import annotations

from stockwarden.domain.actor import Permission as P  # noqa: N817 - the table reads better with a short name

V1 = "/api/v1"

ROUTE_PERMISSIONS: dict[tuple[str, str], P] = {
    ("GET", f"{V1}/health"): P.PUBLIC,
    ("POST", f"{V1}/auth/login"): P.PUBLIC,
    ("POST", f"{V1}/auth/logout"): P.PUBLIC,
    ("GET", f"{V1}/me"): P.READ,
    # master data
    ("GET", f"{V1}/items"): P.READ,
    ("GET", f"{V1}/locations"): P.READ,
    ("GET", f"{V1}/suppliers"): P.READ,
    # imports
    ("POST", f"{V1}/imports"): P.IMPORT,
    ("GET", f"{V1}/imports/rejects"): P.IMPORT,
    ("POST", f"{V1}/ingest/{{table}}"): P.IMPORT,
    # assessments, detail, anomalies
    ("GET", f"{V1}/assessments"): P.READ,
    ("GET", f"{V1}/assessments/download"): P.READ,
    ("GET", f"{V1}/skus/{{sku}}/locations/{{location_id}}"): P.READ,
    ("GET", f"{V1}/anomalies"): P.READ,
    # alerts
    ("GET", f"{V1}/alerts"): P.READ,
    ("GET", f"{V1}/alerts/{{alert_id}}"): P.READ,
    ("GET", f"{V1}/alerts/{{alert_id}}/log"): P.READ,
    ("POST", f"{V1}/alerts/{{alert_id}}/ack"): P.ALERTS_ACT,
    ("POST", f"{V1}/alerts/{{alert_id}}/snooze"): P.ALERTS_ACT,
    ("POST", f"{V1}/alerts/{{alert_id}}/resolve"): P.ALERTS_ACT,
    ("POST", f"{V1}/alerts/{{alert_id}}/comment"): P.ALERTS_ACT,
    ("POST", f"{V1}/alerts/{{alert_id}}/feedback"): P.ALERTS_ACT,
    # proposals
    ("GET", f"{V1}/proposals"): P.READ,
    ("GET", f"{V1}/proposals/{{proposal_id}}"): P.READ,
    ("GET", f"{V1}/purchase-orders"): P.READ,
    ("POST", f"{V1}/purchase-orders/{{po_id}}/approve"): P.PROPOSALS_APPROVE,
    ("POST", f"{V1}/proposals/{{proposal_id}}/approve"): P.PROPOSALS_APPROVE,
    ("POST", f"{V1}/proposals/{{proposal_id}}/reject"): P.PROPOSALS_APPROVE,
    ("POST", f"{V1}/proposals/{{proposal_id}}/change"): P.PROPOSALS_CHANGE,
    ("POST", f"{V1}/proposals/export"): P.PROPOSALS_EXPORT,
    # runs
    ("GET", f"{V1}/runs"): P.READ,
    ("POST", f"{V1}/runs"): P.RUNS_START,
    ("GET", f"{V1}/runs/{{run_id}}"): P.READ,
    # rules
    ("GET", f"{V1}/rules"): P.RULES_READ,
    ("PUT", f"{V1}/rules"): P.RULES_WRITE,
    ("POST", f"{V1}/rules/validate"): P.RULES_READ,
    ("GET", f"{V1}/rules/versions"): P.RULES_READ,
    ("GET", f"{V1}/rules/versions/{{version_id}}"): P.RULES_READ,
    ("GET", f"{V1}/rules/diff"): P.RULES_READ,
    ("POST", f"{V1}/rules/proposals"): P.RULES_WRITE,
    ("POST", f"{V1}/rules/versions/{{version_id}}/approve"): P.RULES_WRITE,
    ("POST", f"{V1}/rules/versions/{{version_id}}/reject"): P.RULES_WRITE,
    # alert effectiveness
    ("GET", f"{V1}/quality"): P.READ,
    # users, tokens, audit
    ("GET", f"{V1}/users"): P.USERS_ADMIN,
    ("POST", f"{V1}/users"): P.USERS_ADMIN,
    ("GET", f"{V1}/users/{{username}}"): P.USERS_ADMIN,
    ("PATCH", f"{V1}/users/{{username}}"): P.USERS_ADMIN,
    ("GET", f"{V1}/tokens"): P.USERS_ADMIN,
    ("POST", f"{V1}/tokens"): P.USERS_ADMIN,
    ("DELETE", f"{V1}/tokens/{{token_id}}"): P.USERS_ADMIN,
    ("GET", f"{V1}/audit"): P.AUDIT_READ,
}

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def permission_of(method: str, path: str) -> P | None:
    """The permission a route needs (None: the route is not in the table)."""
    return ROUTE_PERMISSIONS.get((method.upper(), path))


__all__ = ["ROUTE_PERMISSIONS", "STATE_CHANGING", "V1", "permission_of"]
