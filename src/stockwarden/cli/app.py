"""The Typer application object and the shared error boundary for commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from stockwarden.errors import StockwardenError

app = typer.Typer(
    name="stockwarden",
    help="Stockout early warning: import data, forecast demand, assess risk, alert and propose orders.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

ACTING_USER: dict[str, str | None] = {"name": None}
"""The global ``--as USER`` option (who acts, for permissions and the audit trail)."""


@app.callback()
def _global_options(
    as_user: str | None = typer.Option(
        None,
        "--as",
        envvar="STOCKWARDEN_USER",
        help="act as this stored user (roles, scope and audit trail); default: the OS user",
    ),
) -> None:
    """Stockout early warning: import data, forecast demand, assess risk, alert and propose orders."""
    ACTING_USER["name"] = as_user


P = ParamSpec("P")
R = TypeVar("R")

EXIT_CANNOT_RUN = 2


def fail(message: str) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (code 2: the command could not run)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_CANNOT_RUN)


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn stockwarden errors raised by a command into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except StockwardenError as exc:
            raise fail(str(exc)) from None

    return wrapper
