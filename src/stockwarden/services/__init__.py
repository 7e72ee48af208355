"""The application layer: one function per use-case, ``(ctx, ..., *, actor) -> result``.

The CLI, the REST API and the web app call only this package. Each use-case checks the actor's
permission, owns its transaction (``session_scope``), reads the time from ``ctx.clock`` and writes
the audit row. See SERVICES.md at the repository root for the list.
"""

from stockwarden.services.context import AppContext, build_context, read_scope, session_scope

__all__ = ["AppContext", "build_context", "read_scope", "session_scope"]
