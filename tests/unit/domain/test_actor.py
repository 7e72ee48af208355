"""Roles, permissions and scope: the one table and its rules."""

from __future__ import annotations

import pytest

from stockwarden.domain.actor import ROLE_PERMISSIONS, WRITE_PERMISSIONS, Actor, Permission, Role, Scope, parse_roles


def test_admin_has_every_permission_and_viewer_only_reads() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert not (ROLE_PERMISSIONS[Role.VIEWER] & WRITE_PERMISSIONS)


@pytest.mark.parametrize(
    ("role", "may", "may_not"),
    [
        (
            Role.PLANNER,
            {Permission.RULES_WRITE, Permission.PROPOSALS_CHANGE, Permission.RUNS_START},
            {Permission.PROPOSALS_APPROVE, Permission.USERS_ADMIN},
        ),
        (
            Role.BUYER,
            {Permission.PROPOSALS_APPROVE, Permission.PROPOSALS_EXPORT, Permission.ALERTS_ACT},
            {Permission.RULES_WRITE, Permission.IMPORT},
        ),
        (
            Role.WAREHOUSE,
            {Permission.ALERTS_ACT, Permission.IMPORT},
            {Permission.PROPOSALS_APPROVE, Permission.RUNS_START},
        ),
    ],
)
def test_each_role_grants_what_the_issue_says(role: Role, may: set[Permission], may_not: set[Permission]) -> None:
    actor = Actor("x", frozenset({role}))
    assert all(actor.can(p) for p in may)
    assert not any(actor.can(p) for p in may_not)


def test_a_read_only_token_loses_every_write_permission() -> None:
    actor = Actor("x", frozenset({Role.ADMIN}), is_read_only=True)
    assert actor.can(Permission.READ)
    assert not any(actor.can(p) for p in WRITE_PERMISSIONS)


def test_scope_empty_means_everything() -> None:
    assert Scope().has_location("ANY") and Scope().is_unrestricted
    s = Scope(locations=frozenset({"WH1"}))
    assert s.has_location("WH1") and not s.has_location("WH2") and not s.has_location(None)
    assert s.has_category("whatever")


def test_unknown_roles_are_named() -> None:
    assert parse_roles([" Admin ", "viewer"]) == {Role.ADMIN, Role.VIEWER}
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        parse_roles(["boss"])
