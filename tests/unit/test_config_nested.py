"""Issue 16 case 5: nested per-category (per-class, per-supplier, per-role) values get their twin's bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockwarden.config import load_rules
from stockwarden.errors import ConfigError


@pytest.mark.parametrize(
    "toml",
    [
        "[risk]\nservice_level_by_category = { parts = 1.5 }\n",
        "[risk]\nservice_level_by_category = { parts = -3 }\n",
        "[risk]\nservice_level_by_category = { parts = 1.0 }\n",
        "[risk]\nservice_level_by_abc = { A = 0 }\n",
        "[risk]\nreview_period_days_by_category = { parts = -1 }\n",
        "[risk.thresholds_by_category.parts]\nwarning_probability = 2\n",
        "[orders]\nsupplier_min_order_value = { S1 = -5 }\n",
        "[orders]\napprover_roles = { buyer = -1 }\n",
    ],
)
def test_an_out_of_bounds_nested_value_is_refused_like_its_top_level_twin(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\.toml: ") as err:
        load_rules(path)
    assert "parts" in str(err.value) or "A" in str(err.value) or "S1" in str(err.value) or "buyer" in str(err.value)


def test_top_level_and_nested_service_levels_share_the_same_bounds(tmp_path: Path) -> None:
    for value in ("0", "1", "1.5", "-3"):
        top = tmp_path / "top.toml"
        top.write_text(f"[risk]\nservice_level = {value}\n", encoding="utf-8")
        nested = tmp_path / "nested.toml"
        nested.write_text(f"[risk]\nservice_level_by_category = {{ parts = {value} }}\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            load_rules(top)
        with pytest.raises(ConfigError):
            load_rules(nested)
    ok = tmp_path / "ok.toml"
    ok.write_text("[risk]\nservice_level_by_category = { parts = 0.97 }\n", encoding="utf-8")
    assert load_rules(ok).risk.service_level_by_category == {"parts": 0.97}


def test_the_ingest_section_holds_the_input_limits(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[ingest]\nmax_columns = 50\ndate_order = "dmy"\n', encoding="utf-8")
    rules = load_rules(path)
    assert rules.ingest.max_columns == 50 and rules.ingest.date_order == "dmy"
    path.write_text("[ingest]\nmax_line_bytes = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ingest\.max_line_bytes"):
        load_rules(path)
