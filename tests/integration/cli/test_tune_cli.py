"""``stockwarden tune`` writes a proposal and never applies rules by itself."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.config import load_rules
from stockwarden.quality.tune import choose_service_levels, propose_rules

runner = CliRunner()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset_folder(tmp_path_factory.mktemp("tune") / "ds", n_skus=3, days=200, seed=2)


def test_tune_writes_a_proposal_and_leaves_the_rules_in_force_alone(folder: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[risk]\nservice_level = 0.9\n\n[run]\nforecast_mode = "stats"\n', encoding="utf-8")
    before = digest(rules)
    out = tmp_path / "rules.proposed.toml"
    res = runner.invoke(
        app,
        ["tune", str(folder), "--target-precision", "0.8", "--weeks", "8", "--rules", str(rules), "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert digest(rules) == before
    proposed = load_rules(out)  # a valid rules file
    assert proposed.risk.service_level == 0.9
    assert "cat" in proposed.risk.thresholds_by_category
    assert "awaiting" in out.read_text(encoding="utf-8") or "approves" in out.read_text(encoding="utf-8")
    assert "rules in force" in " ".join(res.output.split()) and "proposed" in res.output


def test_tune_refuses_to_overwrite_the_rules_in_force(folder: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[risk]\nservice_level = 0.9\n", encoding="utf-8")
    before = digest(rules)
    res = runner.invoke(
        app, ["tune", str(folder), "--alerts-per-week", "3", "--rules", str(rules), "--out", str(rules)]
    )
    assert res.exit_code == 2 and "rules file in force" in " ".join(res.output.split())
    assert digest(rules) == before


def test_tune_needs_exactly_one_target(folder: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["tune", str(folder), "--out", str(tmp_path / "p.toml")])
    assert res.exit_code == 2 and "exactly one of" in res.output
    res = runner.invoke(app, ["tune", str(folder), "--alerts-per-week", "3", "--fill-rate", "0.95", "--out", "x.toml"])
    assert res.exit_code == 2 and "--simulation" in res.output


def test_service_levels_are_the_lowest_reaching_the_fill_rate() -> None:
    per_sku = pd.DataFrame(
        {
            "policy": "stockwarden",
            "knob": ["0.8", "0.9", "0.95", "0.8", "0.9", "0.95"],
            "sku": ["A", "A", "A", "B", "B", "B"],
            "fill_rate": [0.90, 0.96, 0.99, 0.80, 0.85, 0.90],
            "demand_units": [100.0] * 6,
        }
    )
    items = pd.DataFrame({"sku": ["A", "B"], "category": ["x", "y"]})
    levels = choose_service_levels(per_sku, items, fill_rate=0.95)
    assert levels == {"x": 0.9, "y": 0.95}  # y never reaches it: the highest swept
    from stockwarden.config import RulesConfig

    base = RulesConfig()
    new = propose_rules(base, scales={"x": 2.0}, service_levels=levels)
    assert base.risk.service_level_by_category == {} and base.risk.thresholds_by_category == {}
    assert new.risk.service_level_by_category == levels
    assert new.risk.thresholds_by_category["x"].warning_probability == 1.0


def test_tune_stores_its_proposal_awaiting_approval_and_only_approval_puts_it_in_force(
    folder: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    out = tmp_path / "rules.proposed.toml"
    shown = runner.invoke(app, ["rules", "show", "--db", db])
    assert shown.exit_code == 0, shown.output
    res = runner.invoke(
        app, ["tune", str(folder), "--target-precision", "0.8", "--weeks", "8", "--db", db, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "awaiting approval" in text
    version = int(text.split("stored as rules version ")[1].split(",")[0])
    assert runner.invoke(app, ["rules", "show", "--db", db]).output == shown.output  # nothing changed
    listed = " ".join(runner.invoke(app, ["rules", "versions", "--db", db]).output.split())
    assert "awaiting" in listed and "IN FORCE" in listed
    approved = runner.invoke(app, ["rules", "approve", str(version), "--db", db, "-m", "looks right"])
    assert approved.exit_code == 0, approved.output
    assert f"rules version {version}" in approved.output and "in force" in approved.output
    now = runner.invoke(app, ["rules", "show", "--db", db]).output
    assert f"# version {version} " in now and "thresholds_by_category" in now
    twice = runner.invoke(app, ["rules", "reject", str(version), "--db", db])
    assert twice.exit_code != 0 and "not awaiting approval" in " ".join(twice.output.split())
