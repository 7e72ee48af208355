"""Tables of the application layer: users, API tokens, browser sessions, failed logins, the audit
trail, rules versions, run locks and application secrets.

* ``users``: one row per person or integration; ``password_hash`` is an argon2 hash (NULL: no
  password login, tokens only); ``roles``, ``locations`` and ``categories`` are JSON lists.
* ``api_tokens``: only the SHA-256 of a token is stored (tokens are 256-bit random, so a fast hash is
  enough; the token itself is shown once). Expiry, revocation and last use are columns.
* ``web_sessions``: browser sessions (the cookie carries a signed random id; its hash is stored) with
  their CSRF token.
* ``login_failures``: failed logins per user and client, for throttling.
* ``audit_log``: append-only (database triggers refuse UPDATE and DELETE).
* ``rules_versions``: every saved version of the business rules (TOML text, hash, who, when; in force,
  proposed or rejected).
* ``run_locks``: one row per lock name; a holder's lease expires so a crashed run does not hold it.
* ``app_secrets``: the signing key for browser sessions when ``STOCKWARDEN_SECRET_KEY`` is unset.

Migration: ``migrations/versions/0005_app.py``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.store.base import Base

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


class UserRow(Base):
    """A user (see :class:`stockwarden.domain.actor.Actor`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(120), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    roles: Mapped[str] = mapped_column(sa.Text)
    locations: Mapped[str] = mapped_column(sa.Text)
    categories: Mapped[str] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class ApiTokenRow(Base):
    """An API token (only its hash)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(20))
    is_read_only: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class WebSessionRow(Base):
    """A browser session: the hash of its id, its CSRF token and its lifetime."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class LoginFailureRow(Base):
    """One failed login (for throttling per user and client)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(120), index=True)
    client: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(TS)


class AuditRow(Base):
    """One state change: when, who, via, what, on which object, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TS, index=True)
    username: Mapped[str] = mapped_column(sa.String(120), index=True)
    token_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    via: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    before_json: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    after_json: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    client: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)


class RulesVersionRow(Base):
    """A saved version of the rules: ``in_force`` (the one activated last is the rules in force), ``proposed``
    (awaiting approval, e.g. from ``stockwarden tune``) or ``rejected`` (migration ``0010_rules_approval``)."""

    __tablename__ = "rules_versions"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    rules_hash: Mapped[str] = mapped_column(sa.String(40), index=True)
    toml_text: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    comment: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(sa.String(16), server_default="in_force", default="in_force")
    activation: Mapped[int | None] = mapped_column(ID_TYPE, nullable=True, index=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class RunLockRow(Base):
    """A named lock with a lease (``expires_at``); an expired lease may be taken over."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)


class AppSecretRow(Base):
    """A generated secret (e.g. the session signing key), created once per database."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(TS)


__all__ = [
    "ApiTokenRow",
    "AppSecretRow",
    "AuditRow",
    "LoginFailureRow",
    "RulesVersionRow",
    "RunLockRow",
    "UserRow",
    "WebSessionRow",
]
