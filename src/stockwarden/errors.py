"""The exception hierarchy of stockwarden.

::

    StockwardenError                  every error stockwarden raises on purpose
    ├── InputError                    the input cannot be used at all (a bad row never raises)
    │   ├── DatasetNotFound           the dataset folder does not exist
    │   ├── SchemaError               a required table or column is missing, or a file cannot be read
    │   └── MappingError              a --mapping file is malformed
    ├── ConfigError                   a settings or rules file is malformed
    ├── ForecastError                 forecasting cannot run (no series, bad horizon)
    ├── RuleError                     a business rule is inconsistent
    ├── ApprovalError                 an approval action is not allowed
    │   └── InvalidTransition         the state machine refuses this transition
    ├── NotifyError                   a notification could not be delivered
    ├── OutputError                   a result file cannot be written
    ├── StoreError                    the database cannot be reached or is inconsistent
    ├── NotFound                      the object does not exist (or is outside the actor's scope)
    ├── PermissionDenied              the actor's roles do not allow this use-case
    ├── AuthError                     no valid credentials (bad password, unknown/expired/revoked token)
    │   └── Throttled                 too many failed logins: wait before trying again
    ├── Conflict                      the object changed since it was read, or a run is already going
    └── (InputError) PayloadTooLarge  an upload is too large; FieldErrors: structured input with bad fields

Boundaries (CLI commands, API handlers, the pipeline) catch ``StockwardenError`` and turn it into a
one-line message; nothing else is caught broadly.
"""

from __future__ import annotations


class StockwardenError(Exception):
    """Base class: raised only through one of the subclasses below."""


class InputError(StockwardenError):
    """Raised when input data cannot be used at all (bad rows are put aside, never raised)."""


class DatasetNotFound(InputError):
    """Raised when the dataset folder (or a file named on the command line) does not exist."""


class SchemaError(InputError):
    """Raised when a required table or column is absent, or a file cannot be read or decoded.

    Attributes:
        table: the dataset table concerned, when known.
        source: the file concerned, when known.
    """

    def __init__(self, message: str, *, table: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.source = source


class MappingError(InputError):
    """Raised when a user column-mapping file is malformed."""


class ConfigError(StockwardenError):
    """Raised when stockwarden.toml or rules.toml is malformed or has unknown keys."""


class ForecastError(StockwardenError):
    """Raised when forecasting cannot run at all (empty history, non-positive horizon)."""


class RuleError(StockwardenError):
    """Raised when business rules contradict each other (e.g. thresholds out of order)."""


class ApprovalError(StockwardenError):
    """Raised when an approval action is not allowed for this user or proposal."""


class InvalidTransition(ApprovalError):
    """Raised when a state machine (alert, proposal) refuses a transition."""


class NotifyError(StockwardenError):
    """Raised when a notification channel is misconfigured or a delivery fails."""


class OutputError(StockwardenError):
    """Raised when a result file (``--out``) cannot be written: folder not writable, disk full."""


class StoreError(StockwardenError):
    """Raised when the database cannot be reached, or is not at the expected schema version."""


class NotFound(StockwardenError):
    """Raised when an object does not exist, or lies outside the acting user's scope (never 'forbidden')."""


class PermissionDenied(StockwardenError):
    """Raised when the acting user's roles do not grant the use-case's permission."""


class AuthError(StockwardenError):
    """Raised when credentials are missing or invalid (bad password, unknown, expired or revoked token)."""


class Throttled(AuthError):
    """Raised when too many failed logins came from this user and client; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(StockwardenError):
    """Raised when an object changed since the caller read it (optimistic version), or a run is going."""


class PayloadTooLarge(InputError):
    """Raised when an upload is larger than allowed, or an archive would inflate beyond the limit."""


class FieldErrors(InputError):
    """Raised when a structured input (rules, a request body) has invalid fields; ``errors`` lists them as
    ``{"loc": "section.key", "msg": "..."}``."""

    def __init__(self, message: str, *, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors
