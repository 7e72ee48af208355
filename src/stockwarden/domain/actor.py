"""Who acts: one :class:`Actor` (user, roles, scope) for alerts, orders, rules and imports alike.

Roles are built in; each grants a set of :class:`Permission` values (the one table,
:data:`ROLE_PERMISSIONS`). A user's :class:`Scope` is a set of locations and/or categories; an empty
set means "all". Scope filters are applied in queries by the services (an object outside the scope
is "not found", never "forbidden").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """The built-in roles."""

    ADMIN = "admin"
    PLANNER = "planner"
    BUYER = "buyer"
    WAREHOUSE = "warehouse"
    VIEWER = "viewer"


class Permission(StrEnum):
    """What an actor may do; each use-case and each route needs exactly one."""

    READ = "data.read"
    IMPORT = "data.import"
    ALERTS_ACT = "alerts.act"
    PROPOSALS_CHANGE = "proposals.change"
    PROPOSALS_APPROVE = "proposals.approve"
    PROPOSALS_EXPORT = "proposals.export"
    RUNS_START = "runs.start"
    RULES_READ = "rules.read"
    RULES_WRITE = "rules.write"
    USERS_ADMIN = "users.admin"
    AUDIT_READ = "audit.read"
    PUBLIC = "public"


WRITE_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.IMPORT,
        Permission.ALERTS_ACT,
        Permission.PROPOSALS_CHANGE,
        Permission.PROPOSALS_APPROVE,
        Permission.PROPOSALS_EXPORT,
        Permission.RUNS_START,
        Permission.RULES_WRITE,
        Permission.USERS_ADMIN,
    }
)
"""Permissions that change state: a read-only token never has them."""

_READS = frozenset({Permission.PUBLIC, Permission.READ, Permission.RULES_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PLANNER: _READS
    | {Permission.RULES_WRITE, Permission.ALERTS_ACT, Permission.PROPOSALS_CHANGE, Permission.RUNS_START}
    | {Permission.IMPORT},
    Role.BUYER: _READS | {Permission.PROPOSALS_APPROVE, Permission.PROPOSALS_EXPORT, Permission.ALERTS_ACT},
    Role.WAREHOUSE: _READS | {Permission.ALERTS_ACT, Permission.IMPORT},
    Role.VIEWER: _READS,
}
"""The one table: role -> permissions."""

WAREHOUSE_IMPORT_TABLES: frozenset[str] = frozenset({"inventory", "sales", "purchase_orders"})
"""Tables a warehouse user may import (stock movements), always limited to their locations."""


class Via(StrEnum):
    """Which face an action came through."""

    CLI = "cli"
    API = "api"
    WEB = "web"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Scope:
    """The data an actor sees: locations and categories (an empty set means all of them)."""

    locations: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    @property
    def is_unrestricted(self) -> bool:
        """True when the scope is everything."""
        return not self.locations and not self.categories

    def has_location(self, location_id: str | None) -> bool:
        """True when ``location_id`` is inside the scope (any location when the scope has none)."""
        return not self.locations or (location_id is not None and str(location_id) in self.locations)

    def has_category(self, category: str | None) -> bool:
        """True when ``category`` is inside the scope (any category when the scope has none)."""
        return not self.categories or (category is not None and str(category) in self.categories)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, how, and on what data.

    Attributes:
        username: the user (``system`` for scheduled jobs).
        roles: the built-in roles held.
        scope: locations and categories the actor sees.
        via: the face (cli, api, web, system).
        user_id: the stored user, when there is one.
        token_id: the API token used, when there is one.
        is_read_only: a read-only token: no write permission whatever the roles.
        request_id: the request (API) for the audit trail.
        client: the client address (API) for the audit trail.
    """

    username: str
    roles: frozenset[Role] = frozenset()
    scope: Scope = field(default_factory=Scope)
    via: Via = Via.CLI
    user_id: int | None = None
    token_id: int | None = None
    is_read_only: bool = False
    request_id: str | None = None
    client: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Every permission the roles grant (minus writes for a read-only token)."""
        out: set[Permission] = {Permission.PUBLIC}
        for role in self.roles:
            out |= ROLE_PERMISSIONS[role]
        if self.is_read_only:
            out -= WRITE_PERMISSIONS
        return frozenset(out)

    def can(self, permission: Permission) -> bool:
        """True when the actor holds ``permission``."""
        return permission in self.permissions

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return Role.ADMIN in self.roles


SYSTEM_ACTOR = Actor("system", frozenset({Role.ADMIN}), via=Via.SYSTEM)
"""The daily scheduler and other jobs nobody started by hand."""


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Role names to roles.

    Raises:
        ValueError: naming the unknown role and the known ones.
    """
    out = set()
    for value in values:
        name = value.strip().lower()
        try:
            out.add(Role(name))
        except ValueError:
            raise ValueError(f"unknown role {value!r}; roles: {', '.join(r.value for r in Role)}") from None
    return frozenset(out)


__all__ = [
    "ROLE_PERMISSIONS",
    "SYSTEM_ACTOR",
    "WAREHOUSE_IMPORT_TABLES",
    "WRITE_PERMISSIONS",
    "Actor",
    "Permission",
    "Role",
    "Scope",
    "Via",
    "parse_roles",
]
