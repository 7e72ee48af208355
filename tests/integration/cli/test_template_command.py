"""``stockwarden template DIR``: writes the files, and refuses to overwrite without --force (exit 2, one line)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.ingest.template import WORKBOOK_NAME


def test_template_writes_the_csv_files_and_the_workbook(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["template", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / "sales.csv").is_file() and (tmp_path / "t" / WORKBOOK_NAME).is_file()
    assert "stockwarden import" in result.output


def test_template_refuses_to_overwrite_with_a_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["template", str(tmp_path)]).exit_code == 0
    again = runner.invoke(app, ["template", str(tmp_path)])
    assert again.exit_code == 2
    assert "--force" in again.output and "Traceback" not in again.output
    assert runner.invoke(app, ["template", str(tmp_path), "--force"]).exit_code == 0
