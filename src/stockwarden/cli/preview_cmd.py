"""``stockwarden preview ...``: prepare the rules editor's preview ahead (the rules in force replayed over the
recent weeks and kept on disk), and say how far it is prepared."""

from __future__ import annotations

from typing import Annotated

import typer

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.appctx import cli_context

preview_app = typer.Typer(help="The rules preview prepared ahead: prepare, status.", no_args_is_help=True)
app.add_typer(preview_app, name="preview")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
WeeksOpt = Annotated[int, typer.Option("--weeks", min=1, max=52, help="weekly checkpoints (as the editor uses)")]


@preview_app.command("prepare")
@guarded
def prepare_cmd(db: DbOpt = None, weeks: WeeksOpt = 13) -> None:
    """Replay the rules in force over the last weeks and keep the result, so that the editor's preview of a
    draft is ready at once (a completed daily run does this; run it after an import or a rules change)."""
    from stockwarden.services import preview

    def shown(done: int, total: int, day: str) -> None:
        console.print(f"preparing preview: {done} of {total} checkpoints ({day})", highlight=False)

    with cli_context(db) as (ctx, actor):
        status = preview.prepare_preview(ctx, actor=actor, progress=shown, weeks=weeks)
        where = preview.preview_cache_dir(ctx)
    console.print(
        f"preview prepared: {status.total} checkpoints in {status.seconds} s, kept in {where}", highlight=False
    )


@preview_app.command("status")
@guarded
def status_cmd(db: DbOpt = None, weeks: WeeksOpt = 13) -> None:
    """Say whether the preview is prepared for the current data and rules (ready, running k of n, stale...)."""
    from stockwarden.services import preview

    with cli_context(db) as (ctx, _actor):
        status = preview.preview_status(ctx, weeks=weeks)
    extra = f" ({status.done} of {status.total} checkpoints)" if status.state == "running" else ""
    console.print(f"preview: {status.state}{extra}", highlight=False)
