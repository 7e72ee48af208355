"""Schemathesis against the app's own OpenAPI schema, with a bounded number of examples per operation:
no server error on any input, and every response conforms to the schema (status, content type, body)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from tests.factories_app import AppWorld

from stockwarden.api import create_app
from stockwarden.services import build_context, runs

# Operations left out, and why: they would revoke the fuzzer's own token or disable its user,
# or start real runs in the background (their behaviour is tested in test_auth / test_services).
SKIP = {("DELETE", "/api/v1/tokens/{token_id}"), ("PATCH", "/api/v1/users/{username}"), ("POST", "/api/v1/runs")}


# The schema is read from an app built at import (its routes do not depend on the data); the test
# then points that app at the module's world.
APP = create_app(build_context(database_url="sqlite://", migrate=False))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _app_on_world(world: AppWorld) -> None:
    APP.state.ctx = world.ctx


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_conform(
    case: schemathesis.Case, as_user: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    if (case.method.upper(), case.operation.path) in SKIP:
        pytest.skip("excluded: changes the fuzzer's own credentials or starts runs")
    monkeypatch.setattr(runs, "start_run", lambda ctx, *, actor, as_of=None: runs.RunJob(job_id="stub"))
    case.call_and_validate(
        headers=as_user("admin"),
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
