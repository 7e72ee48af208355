"""Route x role: every role gets exactly what the permission table says, on every route of the app;
scoped users never see data outside their scope in any list, count, detail or download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.factories_app import USERS, AppWorld

from stockwarden.api.main import api_routes
from stockwarden.api.permissions import ROUTE_PERMISSIONS
from stockwarden.domain.actor import Permission
from stockwarden.services import auth, runs

Headers = Callable[[str], dict[str, str]]


def _sample_params(client: TestClient, world: AppWorld, as_user: Headers) -> dict[str, str]:
    admin = as_user("admin")
    alerts = client.get("/api/v1/alerts?location=WH1", headers=admin).json()["items"]
    props = client.get("/api/v1/proposals", headers=admin).json()["items"]
    run_id = client.get("/api/v1/runs", headers=admin).json()["items"][0]["run_id"]
    spare = auth.create_token(world.ctx, "viewer", name="spare", actor=world.actors["admin"]).token.id
    return {
        "alert_id": str(alerts[0]["id"]),
        "proposal_id": str(props[0]["id"]) if props else "999999",
        "po_id": props[0]["po_id"] if props else "PO-NONE",
        "run_id": str(run_id),
        "version_id": "1",
        "token_id": str(spare),
        "username": "viewer",
        "table": "inventory",
        "sku": "SKU-000",
        "location_id": "WH1",
    }


def test_every_role_gets_what_the_permission_table_says(
    client: TestClient, world: AppWorld, as_user: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        runs, "start_run", lambda ctx, *, actor, as_of=None: runs.RunJob(job_id="stub", state="starting")
    )
    params = _sample_params(client, world, as_user)
    routes = api_routes(client.app)  # type: ignore[arg-type]
    assert len(routes) >= 40
    failures = []
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)
        permission = ROUTE_PERMISSIONS[(method, template)]
        for name in [*USERS, None]:
            headers = as_user(name) if name else {}
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") and "imports" not in path else {}
            if template.endswith("/auth/login"):
                kwargs = {"json": {"username": "nobody", "password": "x"}}
            r = client.request(method, path, headers=headers, **kwargs)
            if permission is Permission.PUBLIC:
                allowed = True
            elif name is None:
                allowed = False
            else:
                allowed = permission in world.actors[name].permissions
            if r.status_code >= 500:
                failures.append(f"{method} {path} as {name}: {r.status_code} {r.text[:200]}")
            elif allowed and r.status_code in (401, 403) and not template.endswith("/auth/login"):
                failures.append(f"{method} {path} as {name}: refused {r.status_code} but {permission} allows")
            elif not allowed and r.status_code != (401 if name is None else 403):
                failures.append(f"{method} {path} as {name}: got {r.status_code}, expected refusal ({permission})")
    assert not failures, "\n".join(failures)


LISTS = [
    "/api/v1/assessments?limit=1000",
    "/api/v1/alerts?limit=1000&state=open,acknowledged,snoozed,escalated,resolved",
    "/api/v1/proposals?limit=1000",
    "/api/v1/purchase-orders?limit=1000",
    "/api/v1/locations?limit=1000",
    "/api/v1/anomalies?limit=1000",
]


@pytest.mark.parametrize("path", LISTS)
def test_a_warehouse_user_of_one_location_never_sees_another_in_a_list_or_count(
    client: TestClient, as_user: Headers, path: str
) -> None:
    everything = client.get(path, headers=as_user("admin")).json()
    mine = client.get(path, headers=as_user("wh1")).json()
    locations = {i.get("location_id") for i in mine["items"]} - {None}
    assert locations <= {"WH1"}, f"{path}: wh1 sees {locations}"
    assert mine["total"] == len(mine["items"])
    seen_elsewhere = [i for i in everything["items"] if i.get("location_id") not in (None, "WH1")]
    assert mine["total"] <= everything["total"] - len(seen_elsewhere)


def test_details_outside_the_scope_are_not_found(client: TestClient, as_user: Headers) -> None:
    admin = as_user("admin")
    other_alerts = client.get("/api/v1/alerts?location=WH2", headers=admin).json()["items"]
    assert other_alerts, "the world should have an alert at WH2"
    aid = other_alerts[0]["id"]
    assert client.get(f"/api/v1/alerts/{aid}", headers=as_user("wh1")).status_code == 404
    assert client.get(f"/api/v1/alerts/{aid}/log", headers=as_user("wh1")).status_code == 404
    assert (
        client.post(f"/api/v1/alerts/{aid}/comment", headers=as_user("wh1"), json={"comment": "x"}).status_code == 404
    )
    assert client.get("/api/v1/skus/SKU-000/locations/WH2", headers=as_user("wh1")).status_code == 404
    assert client.get("/api/v1/skus/SKU-000/locations/WH1", headers=as_user("wh1")).status_code == 200
    # the same object is there for an unscoped user: 404 means "outside your scope", never "forbidden"
    assert client.get(f"/api/v1/alerts/{aid}", headers=as_user("viewer")).status_code == 200


def test_downloads_hold_only_the_scope(client: TestClient, as_user: Headers) -> None:
    r = client.get("/api/v1/assessments/download?format=csv", headers=as_user("wh1"))
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and {row["location_id"] for row in rows} == {"WH1"}
    everything = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/assessments/download", headers=as_user("admin")).text))
    )
    assert len(everything) > len(rows)


def test_a_category_planner_sees_only_their_categories(client: TestClient, as_user: Headers) -> None:
    page = client.get("/api/v1/assessments?limit=1000", headers=as_user("planner_food")).json()
    assert page["total"] > 0
    assert {i["category"] for i in page["items"]} == {"food"}
    items = client.get("/api/v1/items?limit=1000", headers=as_user("planner_food")).json()
    assert {i["category"] for i in items["items"]} == {"food"}
    assert client.get("/api/v1/skus/SKU-003/locations/WH1", headers=as_user("planner_food")).status_code == 404


def test_lists_answer_items_and_total_with_limit_and_offset(client: TestClient, as_user: Headers) -> None:
    admin = as_user("admin")
    full = client.get("/api/v1/assessments?limit=1000", headers=admin).json()
    first = client.get("/api/v1/assessments?limit=3&offset=0", headers=admin).json()
    second = client.get("/api/v1/assessments?limit=3&offset=3", headers=admin).json()
    assert first["total"] == second["total"] == full["total"]
    assert [i["sku"] + i["location_id"] for i in first["items"] + second["items"]] == [
        i["sku"] + i["location_id"] for i in full["items"][:6]
    ]
    for item in full["items"]:
        assert {"sku", "location_id", "level"} <= set(item)
    alerts = client.get("/api/v1/alerts", headers=admin).json()
    for item in alerts["items"]:
        assert {"id", "state", "sku", "location_id", "level"} <= set(item)
    levels = client.get("/api/v1/assessments?level=critical&sort=-stockout_probability", headers=admin).json()
    assert {i["level"] for i in levels["items"]} <= {"critical"}
    probs = [i["stockout_probability"] for i in levels["items"]]
    assert probs == sorted(probs, reverse=True)
