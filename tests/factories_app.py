"""An application-layer fixture: two locations, two categories, a real daily run, one user per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stockwarden.config import Settings
from stockwarden.domain.actor import Actor, Role, Via
from stockwarden.services import AppContext, auth, build_context, data, runs, users
from tests.factories import make_dataset_folder

NOW = dt.datetime(2024, 4, 30, 6, 0, tzinfo=dt.UTC)
RULES_TOML = """
[run]
forecast_mode = "stats"

[notify]
channels = []

[risk]
learned_model = "never"
"""
ROOT = Actor("root", frozenset({Role.ADMIN}), via=Via.CLI)


def make_two_location_folder(folder: Path, *, n_skus: int = 4, days: int = 90) -> Path:
    """WH1 and WH2 with the same SKUs; SKU-000 and SKU-001 in category ``food``, the others ``tools``."""
    a = make_dataset_folder(folder / "a", n_skus=n_skus, days=days, location="WH1", seed=0)
    b = make_dataset_folder(folder / "b", n_skus=n_skus, days=days, location="WH2", seed=1)
    out = folder / "both"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("suppliers", "items", "locations", "sales", "inventory", "purchase_orders"):
        fa, fb = a / f"{name}.csv", b / f"{name}.csv"
        if not fa.exists():
            continue
        frame = pd.read_csv(fa, dtype=str, keep_default_na=False)
        if name in ("locations", "sales", "inventory", "purchase_orders"):
            other = pd.read_csv(fb, dtype=str, keep_default_na=False)
            if name == "purchase_orders":
                other["po_id"] = other["po_id"] + "-B"
            frame = pd.concat([frame, other], ignore_index=True)
        if name == "items":
            frame["category"] = ["food" if i < 2 else "tools" for i in range(len(frame))]
        frame.to_csv(out / f"{name}.csv", index=False)
    return out


@dataclass
class AppWorld:
    """The context, the users' tokens by name, and the data folder."""

    ctx: AppContext
    folder: Path
    tokens: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)


USERS: dict[str, dict[str, list[str]]] = {
    "admin": {"roles": ["admin"]},
    "planner": {"roles": ["planner"]},
    "planner_food": {"roles": ["planner"], "categories": ["food"]},
    "buyer": {"roles": ["buyer"]},
    "warehouse": {"roles": ["warehouse"]},
    "wh1": {"roles": ["warehouse"], "locations": ["WH1"]},
    "viewer": {"roles": ["viewer"]},
}


def make_world(tmp: Path, *, url: str | None = None, run: bool = True) -> AppWorld:
    """Import the two-location dataset, run the daily job once, create the users and their tokens."""
    (tmp / "stockwarden.toml").write_text(RULES_TOML, encoding="utf-8")
    folder = make_two_location_folder(tmp / "data")
    settings = Settings(database_url=url or f"sqlite:///{tmp / 'app.db'}", secret_key="test-secret")
    ctx = build_context(settings, rules_file=tmp / "stockwarden.toml", clock=lambda: NOW)
    world = AppWorld(ctx, folder)
    for name, spec in USERS.items():
        users.add_user(
            ctx,
            name,
            roles=spec["roles"],
            locations=spec.get("locations", []),
            categories=spec.get("categories", []),
            password=f"pw-{name}-123",
            actor=ROOT if name == "admin" else world.actors["admin"],
        )
        world.actors[name] = users.actor_of(users.get_user(ctx, name, actor=ROOT), via=Via.API)
        world.tokens[name] = auth.create_token(ctx, name, actor=world.actors["admin"]).secret
    data.import_dataset(ctx, folder, actor=world.actors["admin"])
    if run:
        runs.run_daily(ctx, actor=world.actors["admin"], as_of=dt.date(2024, 3, 30))
        add_draft_proposals(world)
    return world


def add_draft_proposals(world: AppWorld) -> int:
    """Draft proposals for every SKU-location of the latest run (as if all were below their reorder point)."""
    from stockwarden.actions.replenish import propose_orders
    from stockwarden.services.rules import current_rules
    from stockwarden.store.assessment_repo import load_assessments
    from stockwarden.store.order_repo import save_proposals
    from stockwarden.store.repo import load_dataset_from_db

    _, frame = load_assessments(world.ctx.engine)
    frame = frame.assign(on_hand=0.0, on_order=0.0, inventory_position=0.0, level="warning")
    frame["suggested_order_qty"] = frame["order_up_to"].clip(lower=12.0)
    _, rules = current_rules(world.ctx)
    ds = load_dataset_from_db(world.ctx.engine)
    day = pd.Timestamp(frame["as_of"].iloc[0])
    ps = propose_orders(frame, ds.as_of(day), as_of=day, rules=rules)
    save_proposals(world.ctx.engine, ps, now=NOW, rules=rules.orders)
    return len(ps.lines)


__all__ = ["NOW", "USERS", "AppWorld", "make_two_location_folder", "make_world"]
