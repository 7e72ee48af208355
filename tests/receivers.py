"""Real local receivers for notification tests: a threaded HTTP webhook and an aiosmtpd SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """What a receiver got: every request (including refused ones) and the accepted ones."""

    attempts: list[dict[str, object]] = field(default_factory=list)
    accepted: list[dict[str, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_receiver(*, fail_first: int = 0, hold_first: threading.Event | None = None) -> Iterator[tuple[str, Received]]:
    """A webhook on 127.0.0.1 answering 500 to the first ``fail_first`` requests, then 200.

    Yields ``("host:port", received)``; ``received.accepted`` holds the JSON bodies and headers of
    the requests answered 200. With ``hold_first``, the first request is read and then held
    unanswered until the event is set (a sender killed in flight).
    """
    got = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            record = {"path": self.path, "headers": dict(self.headers), "json": json.loads(raw or b"{}")}
            with got.lock:
                got.attempts.append(record)
                refuse = len(got.attempts) <= fail_first
                is_held = hold_first is not None and len(got.attempts) == 1
            if is_held:
                assert hold_first is not None
                hold_first.wait(60)
                return
            self.send_response(500 if refuse else 200)
            self.end_headers()
            self.wfile.write(b"{}")
            if not refuse:
                with got.lock:
                    got.accepted.append(record)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", got
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_receiver() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An aiosmtpd server on 127.0.0.1; yields (port, mails) with from/to/subject/body of each mail."""
    from aiosmtpd.controller import Controller

    mails: list[dict[str, str]] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
            msg = message_from_bytes(envelope.content, policy=policy.default)
            part = msg.get_body(preferencelist=("plain", "html"))
            mails.append(
                {
                    "from": envelope.mail_from,
                    "to": ",".join(envelope.rcpt_tos),
                    "subject": str(msg["subject"]),
                    "body": part.get_content() if part else "",
                }
            )
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mails
    finally:
        controller.stop()
