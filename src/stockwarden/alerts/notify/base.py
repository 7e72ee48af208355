"""The notifier seam: send one stored message to one apprise URL.

:class:`AppriseNotifier` sends through `apprise <https://github.com/caronc/apprise>`_, so a channel URL
can be anything apprise supports: ``mailto://`` (SMTP), ``wecombot://``, ``dingtalk://``,
``feishu://``, ``slack://``, SMS gateways (``twilio://``, ``sns://``, ...), ``json://`` / ``form://``
webhooks. It also registers ``file://PATH`` (append each message to a local file: the demo default).

The message's idempotency key is always appended to the body (``ref: ...``) and, for the generic
webhooks (``json``, ``jsons``, ``form``, ``forms``, ``xml``, ``xmls``), also sent as the HTTP header
``X-Idempotency-Key`` so a receiver can drop a repeat (see :mod:`.outbox` for when one can occur).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from stockwarden.config import NotifyChannel
from stockwarden.errors import ConfigError, NotifyError

WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
IDEMPOTENCY_HEADER = "X-Idempotency-Key"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A notification as stored in the outbox.

    Attributes:
        idempotency_key: unique per message (``digest:<channel>:run<id>``, ``immediate:<channel>:log<id>``).
        channel: the channel name in ``stockwarden.toml`` (the URL is looked up at send time, so
            secrets stay out of the database).
        kind: ``digest`` or ``immediate``.
        title: subject / title line.
        body: plain text, ending with the ``ref:`` line.
        alert_ids: the alerts the message is about.
        not_before: earliest send time (the end of quiet hours for a held digest).
        run_id: the run that composed it.
        message_id: database id, None before it is stored.
        attempts: delivery attempts so far.
    """

    idempotency_key: str
    channel: str
    kind: str
    title: str
    body: str
    alert_ids: tuple[int, ...] = ()
    not_before: dt.datetime | None = None
    run_id: int | None = None
    message_id: int | None = None
    attempts: int = 0


class Notifier(Protocol):
    """Sends one message to one channel URL; raises :class:`NotifyError` when it was not delivered."""

    def send(self, url: str, message: OutboxMessage) -> None:
        """Deliver ``message`` to ``url`` or raise NotifyError."""
        ...


class AppriseNotifier:
    """Deliver through apprise (any apprise URL, plus ``file://``)."""

    def send(self, url: str, message: OutboxMessage) -> None:
        """Send one message.

        Raises:
            NotifyError: the URL is not understood by apprise, or the service refused the message.
        """
        import apprise

        register_file_schema()
        target = with_idempotency_header(url, message.idempotency_key)
        if target.lower().startswith("file://"):
            # apprise drops the third slash of file:///abs; hand the resolved path over as a parameter
            target = f"file://local/?path={quote(str(file_path_of(url).resolve()), safe='')}"
        client = apprise.Apprise()
        if not client.add(target):
            raise NotifyError(f"channel {message.channel}: apprise does not understand the URL {redact(url)}")
        is_sent = client.notify(body=message.body, title=message.title, body_format=apprise.NotifyFormat.TEXT)
        if not is_sent:
            raise NotifyError(f"channel {message.channel}: delivery to {redact(url)} failed")


@dataclass
class MockNotifier:
    """Records messages instead of sending them; fails the first ``fail_times`` attempts per key."""

    fail_times: int = 0
    sent: list[tuple[str, OutboxMessage]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)

    def send(self, url: str, message: OutboxMessage) -> None:
        """Record the message, or raise NotifyError while failures remain."""
        n = self.attempts.get(message.idempotency_key, 0) + 1
        self.attempts[message.idempotency_key] = n
        if n <= self.fail_times:
            raise NotifyError(f"channel {message.channel}: mock failure {n}")
        self.sent.append((url, message))


def with_idempotency_header(url: str, key: str) -> str:
    """Add ``+X-Idempotency-Key=<key>`` to a generic webhook URL (apprise's header syntax)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in WEBHOOK_SCHEMES:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}+{IDEMPOTENCY_HEADER}={key.replace(':', '-')}"


def redact(url: str) -> str:
    """The URL without user and password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


_FILE_LOCK = threading.Lock()
_registered = False


def file_path_of(url: str) -> Path:
    """The path of a ``file://`` URL: ``file:///abs/path`` or ``file://relative/path``."""
    rest = url.split("://", 1)[1].split("?", 1)[0]
    return Path(unquote(rest))


def _write_to_file(body: str, title: str, *_args: Any, meta: dict[str, Any] | None = None, **_kwargs: Any) -> bool:
    qsd = (meta or {}).get("qsd") or {}
    path = Path(unquote(str(qsd.get("path", "")))) if qsd.get("path") else file_path_of(str((meta or {}).get("url")))
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FILE_LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(f"=== {title}\n{body}\n\n")
    return True


def register_file_schema() -> None:
    """Teach apprise the ``file://`` schema (once per process)."""
    global _registered
    if _registered:
        return
    from apprise.decorators import notify

    notify(on="file", name="Local file")(_write_to_file)  # type: ignore[no-untyped-call]
    _registered = True


def check_channels(channels: Sequence[NotifyChannel]) -> None:
    """Refuse channel lists that cannot work: duplicate names, URLs apprise does not understand.

    Raises:
        ConfigError: naming the channel and the problem.
    """
    import apprise

    register_file_schema()
    seen: set[str] = set()
    for channel in channels:
        if channel.name in seen:
            raise ConfigError(f"notify.channels: the name {channel.name!r} is used twice; names must be unique")
        seen.add(channel.name)
        if not apprise.Apprise().add(channel.url):
            raise ConfigError(
                f"notify.channels {channel.name!r}: apprise does not understand the URL "
                f"{redact(channel.url)} (see https://github.com/caronc/apprise/wiki)"
            )
