"""The CLI is a face over the application layer: what changes the database is permission-checked and
audited like the API's, and commands that only read never create a database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.ingest.sample import generate_company
from stockwarden.services import build_context
from stockwarden.services.audit import list_audit
from stockwarden.services.auth import cli_actor
from stockwarden.services.rules import current_rules, save_rules
from stockwarden.services.runs import list_runs, lock_status
from stockwarden.store.audit_repo import AuditEntry


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def company(tmp_path: Path) -> tuple[Path, str]:
    folder = generate_company(tmp_path / "co", seed=3, n_skus=6, n_locations=2, days=120)
    return folder, f"sqlite:///{tmp_path / 'sw.db'}"


def audit_rows(url: str) -> list[AuditEntry]:
    ctx = build_context(database_url=url)
    try:
        return list_audit(ctx, actor=cli_actor(ctx), limit=1000).items
    finally:
        ctx.engine.dispose()


def actions_of(url: str) -> list[str]:
    return [r.action for r in audit_rows(url)]


def test_an_import_from_the_cli_is_audited_with_its_batch_and_counts(company: tuple[Path, str]) -> None:
    folder, url = company
    out = cli("import", str(folder), "--db", url)
    assert out.exit_code == 0, out.output
    rows = [r for r in audit_rows(url) if r.action == "data.import"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.via, row.object_type) == ("cli", "import_batch")
    after = json.loads(row.after_json or "{}")
    assert after["tables"]["sales"]["inserted"] > 0


def test_the_daily_run_from_the_cli_takes_the_lock_and_is_audited(company: tuple[Path, str], tmp_path: Path) -> None:
    folder, url = company
    assert cli("import", str(folder), "--db", url).exit_code == 0
    rules = tmp_path / "rules.toml"
    rules.write_text('[run]\nforecast_mode = "stats"\n')
    out = cli("run", "--db", url, "--config", str(rules))
    assert out.exit_code == 0, out.output
    assert "run.start" in actions_of(url)
    assert cli("runs", "--db", url).exit_code == 0
    ctx = build_context(database_url=url)
    try:
        assert [r.status for r in list_runs(ctx, actor=cli_actor(ctx)).items] == ["completed"]
        assert lock_status(ctx) is None  # released
    finally:
        ctx.engine.dispose()


def test_run_with_config_runs_that_file_even_after_the_rules_were_changed_elsewhere(
    company: tuple[Path, str], tmp_path: Path
) -> None:
    folder, url = company
    assert cli("import", str(folder), "--db", url).exit_code == 0
    file_text = '[run]\nforecast_mode = "stats"\n'
    rules = tmp_path / "rules.toml"
    rules.write_text(file_text)
    ctx = build_context(database_url=url, rules_file=rules)
    try:
        current_rules(ctx)  # seeded from the file
        save_rules(ctx, '[run]\nforecast_mode = "stats"\n[risk]\nreview_period_days = 14\n', actor=cli_actor(ctx))
    finally:
        ctx.engine.dispose()
    out = cli("run", "--db", url, "--config", str(rules))
    assert out.exit_code == 0, out.output
    ctx = build_context(database_url=url)
    try:
        version, _ = current_rules(ctx)
        assert version.toml_text == file_text
        assert "rules.save" in actions_of(url)
    finally:
        ctx.engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ("alerts", "list"),
        ("alerts", "outbox"),
        ("rejects",),
        ("runs",),
        ("proposals", "list"),
        ("assessments", "export", "--out", "x.csv"),
        ("assess", "--out", "x.csv"),
    ],
)
def test_a_command_that_only_reads_refuses_a_missing_database_and_does_not_create_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "typo.db"
    out = cli(*args, "--db", f"sqlite:///{missing}")
    assert out.exit_code == 2, out.output
    assert "does not exist" in out.output
    assert "Traceback" not in out.output
    assert not missing.exists()


def test_a_viewer_cannot_import_from_the_cli_and_nothing_is_stored(company: tuple[Path, str]) -> None:
    folder, url = company
    added = CliRunner().invoke(app, ["users", "add", "vera", "--role", "viewer", "--db", url])
    assert added.exit_code == 0, added.output
    out = CliRunner().invoke(app, ["--as", "vera", "import", str(folder), "--db", url])
    assert out.exit_code == 2
    assert "Traceback" not in out.output
    assert "data.import" not in actions_of(url)
