"""Demo users, one per role, for ``stockwarden demo`` (created through ``services.users``)."""

from __future__ import annotations

from dataclasses import dataclass

from stockwarden.domain.actor import SYSTEM_ACTOR
from stockwarden.services import users
from stockwarden.services.context import AppContext


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo sign-in: user name, password, role and the locations it sees (empty: all)."""

    username: str
    password: str
    role: str
    locations: tuple[str, ...] = ()


def demo_users(first_location: str | None) -> list[DemoUser]:
    """The demo users; the warehouse lead sees only the first location."""
    return [
        DemoUser("admin", "admin-demo-1", "admin"),
        DemoUser("planner", "planner-demo-1", "planner"),
        DemoUser("buyer", "buyer-demo-1", "buyer"),
        DemoUser("warehouse", "warehouse-demo-1", "warehouse", (first_location,) if first_location else ()),
        DemoUser("viewer", "viewer-demo-1", "viewer"),
    ]


def ensure_demo_users(ctx: AppContext, *, first_location: str | None) -> list[DemoUser]:
    """Create the demo users that do not exist yet (a demo database is fresh) and return all of them."""
    existing = {u.username for u in users.list_users(ctx, actor=SYSTEM_ACTOR).items}
    out = demo_users(first_location)
    for u in out:
        if u.username not in existing:
            users.add_user(
                ctx, u.username, password=u.password, roles=[u.role], locations=list(u.locations), actor=SYSTEM_ACTOR
            )
    return out


__all__ = ["DemoUser", "demo_users", "ensure_demo_users"]
