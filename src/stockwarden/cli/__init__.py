"""The ``stockwarden`` command line. Thin: parse arguments, call the application layer (``services``), print.

Each command group lives in its own module and registers itself on :data:`app`
(``cli/ingest.py``: import, template, rejects, demo; ``cli/forecast.py``: forecast, leadtimes; ...).
Errors from stockwarden become a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from stockwarden.cli.app import app, console, err_console

_COMMAND_MODULES: tuple[str, ...] = (
    "ingest",
    "template",
    "demo",
    "forecast",
    "leadtimes",
    "anomaly",
    "risk",
    "alerts",
    "orders",
    "run",
    "assessments",
    "simulate",
    "quality",
    "tune",
    "scale",
)
_COMMAND_MODULES += ("admin", "rules_cmd", "serve")  # the application layer (users, tokens, audit, rules, API)
_COMMAND_MODULES += ("preview_cmd",)  # the rules preview prepared ahead (services.preview)


def _register() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"stockwarden.cli.{name}")


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())


__all__ = ["app", "console", "err_console", "main"]
