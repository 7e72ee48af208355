"""GET /api/v1/quality: alert effectiveness of the stored alerts, in the caller's scope, filtered by --since."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from tests.factories_app import AppWorld, make_world

from stockwarden.api import create_app
from stockwarden.services import runs


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppWorld]:
    """The two-location company run weekly for six weeks: alerts and stockouts with a known outcome."""
    w = make_world(tmp_path_factory.mktemp("quality"), run=False)
    for day in range(6):
        runs.run_daily(w.ctx, actor=w.actors["admin"], as_of=dt.date(2024, 2, 17) + dt.timedelta(days=7 * day))
    yield w
    w.ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(history: AppWorld) -> TestClient:
    return TestClient(create_app(history.ctx), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def as_user(history: AppWorld) -> Callable[[str], dict[str, str]]:
    return lambda name: {"Authorization": f"Bearer {history.tokens[name]}"}


MEASURES = {"episodes", "warned_in_time", "warned_1d", "median_warning_lead_days", "alerts", "effective"}


def test_quality_has_the_measures_overall_and_per_group(
    client: TestClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    r = client.get("/api/v1/quality", headers=as_user("viewer"))
    assert r.status_code == 200, r.text
    q = r.json()
    assert set(q["overall"]) >= MEASURES and q["period"]["since"] <= q["period"]["until"]
    assert {g["group_by"] for g in q["groups"]} <= {"category", "location_id", "supplier_id"}
    assert {g["group"] for g in q["groups"] if g["group_by"] == "location_id"} <= {"WH1", "WH2"}
    assert q["enough_history"] and q["overall"]["episodes"] > 0 and q["overall"]["alerts"] > 0
    assert q["period"]["since"] == "2024-02-18"  # the day after the first run, not 90 days back
    assert 0 <= q["overall"]["warned_1d"] <= 1 and q["overall"]["warned_in_time"] <= q["overall"]["warned_1d"]


def test_without_a_history_of_runs_there_is_not_enough_history_yet(fresh_world: AppWorld) -> None:
    c = TestClient(create_app(fresh_world.ctx), raise_server_exceptions=False)
    q = c.get("/api/v1/quality", headers={"Authorization": f"Bearer {fresh_world.tokens['viewer']}"}).json()
    assert q == {"period": None, "enough_history": False, "overall": None, "groups": [], "unlabelled_alerts": 0}


def test_quality_is_scoped_to_the_callers_locations_and_categories(
    client: TestClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    everything = client.get("/api/v1/quality", headers=as_user("admin")).json()
    wh1 = client.get("/api/v1/quality", headers=as_user("wh1")).json()
    food = client.get("/api/v1/quality", headers=as_user("planner_food")).json()
    assert {g["group"] for g in wh1["groups"] if g["group_by"] == "location_id"} <= {"WH1"}
    assert {g["group"] for g in food["groups"] if g["group_by"] == "category"} <= {"food"}
    by_location = {g["group"]: g for g in everything["groups"] if g["group_by"] == "location_id"}
    for key in ("episodes", "alerts"):
        assert wh1["overall"][key] == by_location["WH1"][key]
        assert wh1["overall"][key] <= everything["overall"][key]


def test_since_filters_the_period_and_bad_values_are_named(
    client: TestClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    full = client.get("/api/v1/quality", headers=as_user("viewer")).json()
    until = full["period"]["until"]
    short = client.get(f"/api/v1/quality?since={until}", headers=as_user("viewer"))
    assert short.status_code == 200 and short.json()["period"] == {"since": until, "until": until}
    assert short.json()["overall"]["alerts"] <= full["overall"]["alerts"]
    bad = client.get("/api/v1/quality?since=31/12/2024", headers=as_user("viewer"))
    assert bad.status_code == 422 and "since" in bad.text
    late = client.get("/api/v1/quality?since=2999-01-01", headers=as_user("viewer"))
    assert late.status_code in (400, 422) and "after the newest data" in late.text


@pytest.mark.parametrize("since", [None, dt.date(2024, 3, 10), dt.date(2024, 3, 16)])
def test_quality_reads_only_the_period_and_gives_what_the_whole_history_gives(
    history: AppWorld, since: dt.date | None
) -> None:
    """The overview's measures come from the period and its look back, not the company's whole history
    (a large company's would not fit in a web server): the same figures as from every stored row."""
    import pandas as pd

    from stockwarden.quality.report import EPISODE_LOOK_BACK_DAYS, assess_alert_quality
    from stockwarden.services import quality
    from stockwarden.store.quality import load_alert_history
    from stockwarden.store.repo import load_dataset_from_db, load_dataset_since

    got = quality.alert_quality(history.ctx, actor=history.actors["viewer"], since=since)
    whole = load_dataset_from_db(history.ctx.engine)
    start = pd.Timestamp(got["period"]["since"])
    window = load_dataset_since(history.ctx.engine, (start - pd.Timedelta(days=EPISODE_LOOK_BACK_DAYS)).date())
    assert (len(window.sales) < len(whole.sales)) == (since is not None)  # the later periods leave rows out
    with history.ctx.engine.connect() as conn:
        alerts = load_alert_history(conn)
    expected = assess_alert_quality(whole, alerts, since=start, until=pd.Timestamp(got["period"]["until"]))
    assert got["overall"]["alerts"] > 0
    for key in ("overall", "groups", "unlabelled_alerts", "period"):
        assert got[key] == expected[key], key


def test_loading_since_a_day_keeps_the_rows_a_look_back_needs(history: AppWorld) -> None:
    import pandas as pd

    from stockwarden.store.repo import load_dataset_from_db, load_dataset_since

    whole = load_dataset_from_db(history.ctx.engine)
    day = pd.Timestamp("2024-03-01")
    part = load_dataset_since(history.ctx.engine, day.date())
    pd.testing.assert_frame_equal(part.sales, whole.sales.loc[whole.sales["date"] >= day].reset_index(drop=True))
    inv = whole.inventory
    older = inv.loc[inv["date"] < day]
    newest_before = older.loc[older.groupby(["sku", "location_id"])["date"].transform("max") == older["date"]]
    kept = inv.loc[(inv["date"] >= day) | inv.index.isin(newest_before.index)].reset_index(drop=True)
    assert len(newest_before) > 0
    pd.testing.assert_frame_equal(part.inventory, kept)
    po = whole.purchase_orders
    open_then = po.loc[po["received_date"].isna() | (po["received_date"] >= day)].reset_index(drop=True)
    assert len(open_then) < len(po)
    pd.testing.assert_frame_equal(part.purchase_orders, open_then)
    pd.testing.assert_frame_equal(part.items, whole.items)
