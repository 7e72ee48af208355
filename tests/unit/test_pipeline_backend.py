"""The daily run forecasts on the backend it is given (this machine by default, or a Dask cluster)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.config import ForecastRules, RulesConfig
from stockwarden.pipeline import PipelineSteps


def test_the_forecast_step_passes_the_backend_to_the_engine(monkeypatch):
    seen: dict[str, Any] = {}

    def fake_forecast_demand(ds: object, **kwargs: Any) -> str:
        seen.update(kwargs)
        return "forecast"

    monkeypatch.setattr("stockwarden.forecast.engine.forecast_demand", fake_forecast_demand)
    monkeypatch.setattr("stockwarden.risk.daily.forecast_days", lambda *a, **k: 28)
    steps = PipelineSteps.on_backend("dask")
    rules = RulesConfig(forecast=ForecastRules(history_days=None))
    assert steps.forecast(object(), as_of=dt.date(2024, 5, 1), rules=rules) == "forecast"
    assert seen["backend"] == "dask"
    assert PipelineSteps().forecast is not steps.forecast


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--backend", "spark"], {}, "--backend 'spark' is not one of local, dask"),
        ([], {"STOCKWARDEN_EXEC_BACKEND": "ray"}, "--backend 'ray' is not one of local, dask"),
    ],
)
def test_an_unavailable_backend_for_the_daily_run_is_a_one_line_error(tmp_path, monkeypatch, args, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["run", "--db", f"sqlite:///{tmp_path / 'x.db'}", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
