"""Use-cases of a user's own preferences: the language of the web app, remembered per user."""

from __future__ import annotations

from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import InputError
from stockwarden.services.audit import record
from stockwarden.services.common import require
from stockwarden.services.context import AppContext, read_scope, session_scope
from stockwarden.store.user_prefs import UserPrefRow

LANGUAGES = ("en", "zh_CN")


def get_language(ctx: AppContext, username: str) -> str | None:
    """The language a user chose (None: never chose; the browser's language applies)."""
    cache: dict[str, str | None] = ctx.cache.setdefault("user_languages", {})
    if username in cache:
        return cache[username]
    with read_scope(ctx) as s:
        row = s.get(UserPrefRow, username)
        language = row.language if row is not None else None
    cache[username] = language
    return language


def set_language(ctx: AppContext, language: str, *, actor: Actor) -> str:
    """Remember the actor's language (``en`` or ``zh_CN``).

    Raises:
        InputError: an unsupported language.
    """
    require(actor, Permission.READ)
    if language not in LANGUAGES:
        raise InputError(f"language {language!r} is not offered; use one of {', '.join(LANGUAGES)}")
    now = ctx.now()
    with session_scope(ctx) as s:
        row = s.get(UserPrefRow, actor.username)
        before = row.language if row is not None else None
        if row is None:
            s.add(UserPrefRow(username=actor.username, language=language, updated_at=now))
        else:
            row.language, row.updated_at = language, now
        if before != language:
            record(
                s,
                actor,
                action="user.language",
                object_type="user",
                object_id=actor.username,
                before={"language": before},
                after={"language": language},
                now=now,
            )
    ctx.cache.setdefault("user_languages", {})[actor.username] = language
    return language


__all__ = ["LANGUAGES", "get_language", "set_language"]
