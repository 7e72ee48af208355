"""``stockwarden serve``: the REST API (and, when installed, the web app) with uvicorn."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from stockwarden.cli.app import app, console, fail, guarded
from stockwarden.cli.common import DATABASE_ENV, resolve_db_url


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
@guarded
def serve_cmd(
    db: Annotated[
        str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = 8000,
    config: Annotated[
        Path | None, typer.Option("--config", help="rules file that seeds the rules (default ./stockwarden.toml)")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="server processes answering requests (default 1; one per processor core serves more people at once)",
        ),
    ] = 1,
) -> None:
    """Serve the REST API under /api/v1 (docs at /api/docs). Refuses a non-loopback host while no user exists."""
    import uvicorn

    from stockwarden.services import build_context, users
    from stockwarden.services.rules import current_rules
    from stockwarden.web_entry import RULES_FILE_ENV, create_asgi_app

    ctx = build_context(database_url=resolve_db_url(db), rules_file=config)
    if not is_loopback(host) and users.count_users(ctx) == 0:
        raise fail(
            f"refusing to listen on {host}: no user exists yet, so the API would be open to the network. "
            "Create one first: stockwarden users add NAME --role admin --password-stdin"
        )
    current_rules(ctx)
    console.print(
        f"stockwarden API on http://{host}:{port}/api/v1 (docs: /api/docs), {workers} worker(s); Ctrl-C to stop",
        highlight=False,
    )
    if workers == 1:
        uvicorn.run(create_asgi_app(ctx), host=host, port=port, log_level="warning", access_log=False)
        return
    ctx.engine.dispose()
    # each worker process builds its own context from the environment (web_entry.app_from_environment)
    os.environ[DATABASE_ENV] = ctx.settings.database_url
    if ctx.rules_file is not None:
        os.environ[RULES_FILE_ENV] = str(ctx.rules_file.resolve())
    uvicorn.run(
        "stockwarden.web_entry:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
