"""``stockwarden rules ...``: the business rules as stored versions (show, validate, save, propose, approve,
reject, versions, diff, export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stockwarden.cli.app import app, console, guarded
from stockwarden.cli.appctx import cli_context
from stockwarden.errors import InputError

rules_app = typer.Typer(
    help="Business rules as versions: show, validate, save, propose, approve, reject, versions, diff, export.",
    no_args_is_help=True,
)
app.add_typer(rules_app, name="rules")

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: STOCKWARDEN_DATABASE_URL or sqlite)")]
FileArg = Annotated[Path, typer.Argument(help="a rules TOML file")]


def _read(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"rules file {path} does not exist")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _print_changes(changes: list) -> None:  # type: ignore[type-arg]
    if not changes:
        console.print("no setting changes")
        return
    table = Table()
    for col in ("setting", "before", "after"):
        table.add_column(col, overflow="fold")
    for c in changes:
        table.add_row(c.path, repr(c.before), repr(c.after))
    console.print(table)


@rules_app.command("show")
@guarded
def show_cmd(db: DbOpt = None) -> None:
    """Print the rules in force (TOML) and their version."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        version, _ = rules.get_rules(ctx, actor=actor)
    console.print(
        f"# version {version.id} ({version.rules_hash}) by {version.created_by} at {version.created_at:%Y-%m-%d %H:%M}",
        highlight=False,
    )
    typer.echo(version.toml_text)


@rules_app.command("validate")
@guarded
def validate_cmd(file: FileArg, db: DbOpt = None) -> None:
    """Check a rules file and show what it would change against the rules in force."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        cfg, changes = rules.validate_rules(ctx, _read(file), actor=actor)
    console.print(f"{file}: valid (rules hash {cfg.version()})", highlight=False)
    _print_changes(changes)


@rules_app.command("save")
@guarded
def save_cmd(
    file: FileArg,
    comment: Annotated[str, typer.Option("--comment", "-m", help="why the rules change")] = "",
    db: DbOpt = None,
) -> None:
    """Save a rules file as the new version in force."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        version, changes = rules.save_rules(ctx, _read(file), actor=actor, comment=comment)
    console.print(f"saved rules version {version.id} ({version.rules_hash})", highlight=False)
    _print_changes(changes)


@rules_app.command("propose")
@guarded
def propose_cmd(
    file: FileArg,
    comment: Annotated[str, typer.Option("--comment", "-m", help="why the rules should change")] = "",
    db: DbOpt = None,
) -> None:
    """Store a rules file as a version awaiting approval (the rules in force do not change)."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        version, changes = rules.propose_rules(ctx, _read(file), actor=actor, comment=comment)
    console.print(
        f"rules version {version.id} ({version.rules_hash}) awaits approval: "
        f"stockwarden rules approve {version.id} | stockwarden rules reject {version.id}",
        highlight=False,
    )
    _print_changes(changes)


_STATUS_SHOWN = {"in_force": "superseded", "proposed": "awaiting approval", "rejected": "rejected"}
VersionArg = Annotated[int, typer.Argument(help="the proposed version id (see 'stockwarden rules versions')")]


@rules_app.command("approve")
@guarded
def approve_cmd(
    version: VersionArg,
    comment: Annotated[str, typer.Option("--comment", "-m", help="why it is approved")] = "",
    db: DbOpt = None,
) -> None:
    """Approve a proposed version: it becomes the rules in force."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        approved, changes = rules.approve_version(ctx, version, actor=actor, comment=comment)
    console.print(f"rules version {approved.id} ({approved.rules_hash}) is in force", highlight=False)
    _print_changes(changes)


@rules_app.command("reject")
@guarded
def reject_cmd(
    version: VersionArg,
    reason: Annotated[str, typer.Option("--reason", "-m", help="why it is rejected")] = "",
    db: DbOpt = None,
) -> None:
    """Reject a proposed version: it never comes into force (it stays listed)."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        rejected = rules.reject_version(ctx, version, actor=actor, reason=reason)
    console.print(f"rules version {rejected.id} rejected; the rules in force are unchanged", highlight=False)


@rules_app.command("versions")
@guarded
def versions_cmd(limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20, db: DbOpt = None) -> None:
    """List stored versions, newest first."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        page = rules.list_versions(ctx, actor=actor, limit=limit)
        in_force = rules.current_rules(ctx)[0].id
    table = Table()
    for col in ("version", "status", "hash", "by", "when (UTC)", "source", "comment"):
        table.add_column(col, overflow="fold")
    for v in page.items:
        status = "IN FORCE" if v.id == in_force else _STATUS_SHOWN.get(v.status, v.status)
        if v.decided_by:
            status += f" ({v.decided_by})"
        table.add_row(
            str(v.id), status, v.rules_hash, v.created_by, f"{v.created_at:%Y-%m-%d %H:%M}", v.source, v.comment
        )
    console.print(table)


@rules_app.command("diff")
@guarded
def diff_cmd(
    old: Annotated[int, typer.Argument(help="older version id")],
    new: Annotated[int, typer.Argument(help="newer version id")],
    db: DbOpt = None,
) -> None:
    """What changed between two versions."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        changes = rules.diff_versions(ctx, old, new, actor=actor)
    _print_changes(changes)


@rules_app.command("export")
@guarded
def export_cmd(
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (default: stdout)")] = None,
    version: Annotated[int | None, typer.Option("--version", help="this version (default: the one in force)")] = None,
    db: DbOpt = None,
) -> None:
    """Export a version as TOML."""
    from stockwarden.services import rules

    with cli_context(db) as (ctx, actor):
        text = rules.export_rules(ctx, actor=actor, version_id=version)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    console.print(f"rules written to {out}", highlight=False)
