"""A small database with imported data, and a scripted risk assessment for pipeline tests.

The scripted assessment stands in for ``risk.assess.assess_risk`` where a test needs to control the
levels run by run; forecasts, lead times, proposals, alerts, the outbox and the database are real.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from stockwarden.config import NotifyChannel, NotifyRules, RulesConfig, RunRules
from stockwarden.pipeline import PipelineSteps
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset
from tests.factories import make_dataset_folder
from tests.factories_alerts import make_assessment

START = "2024-01-01"
DAYS = 90
LAST_DAY = dt.date(2024, 3, 30)


def make_db(tmp_path: Path, *, n_skus: int = 3, url: str | None = None) -> tuple[str, Engine]:
    """A database (SQLite in ``tmp_path`` unless ``url``) with a small imported dataset (last day ``LAST_DAY``)."""
    folder = make_dataset_folder(tmp_path / "data", n_skus=n_skus, days=DAYS, start=START)
    url = url or f"sqlite:///{tmp_path / 'sw.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    import_dataset(engine, folder)
    return url, engine


def rules_with(*channels: NotifyChannel, **notify: object) -> RulesConfig:
    """Rules with the given channels and the fast statistical forecast."""
    return RulesConfig(
        notify=NotifyRules(channels=list(channels), **notify),  # type: ignore[arg-type]
        run=RunRules(forecast_mode="stats"),
    )


class ScriptedRisk:
    """Assessment levels set by the test: ``risk.levels = {"SKU-000": ("critical", 0.9), ...}``."""

    def __init__(self, levels: dict[str, tuple[str, float]]) -> None:
        self.levels = dict(levels)
        self.calls = 0

    def __call__(self, ds, *, as_of, forecast, lead_times, anomalies, rules) -> pd.DataFrame:
        self.calls += 1
        rows = [(sku, *self.levels.get(sku, ("ok", 0.01))) for sku in sorted(ds.items["sku"])]
        frame = make_assessment(rows, as_of=pd.Timestamp(as_of).date())
        return frame


def scripted_steps(risk: ScriptedRisk) -> PipelineSteps:
    """Real steps except the risk assessment (scripted) and the forecast/lead times it would use."""
    return PipelineSteps(
        assess=risk, forecast=lambda ds, **kw: None, lead_times=lambda ds, **kw: None, anomalies=lambda ds, **kw: None
    )
