"""``stockwarden serve --workers N``: several server processes answer on one port, each with its own
context built from the same database and rules."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_serve_the_api_from_the_same_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    rules = tmp_path / "rules.toml"
    rules.write_text("[risk]\nreview_period_days = 14\n")
    port = _free_port()
    exe = Path(sys.executable).with_name("stockwarden")
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", url, "--port", str(port), "--config", str(rules), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        answered = None
        deadline = time.monotonic() + 180  # each worker imports the whole app (slow on a loaded machine)
        while time.monotonic() < deadline:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200
        # every worker answers with the same rules in force (seeded once from --config)
        for _ in range(6):
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
            assert r.status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    text = out.decode()
    assert "2 worker(s)" in text
    assert "Traceback" not in text
