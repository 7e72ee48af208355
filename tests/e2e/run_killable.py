"""Helper process for the kill tests: run the daily pipeline and SIGKILL itself after a named step.

Usage: python run_killable.py DB_URL CONFIG_TOML KILL_AFTER_STEP|-
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

from stockwarden.config import load_rules
from stockwarden.pipeline import run_pipeline
from stockwarden.store.db import make_engine, upgrade_database


def main() -> None:
    url, config, kill_after = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def hook(step: str) -> None:
        if step == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    engine = make_engine(url)
    upgrade_database(engine)
    run_pipeline(engine, as_of=None, config=load_rules(config), now=dt.datetime.now(dt.UTC), on_step_done=hook)


if __name__ == "__main__":
    main()
