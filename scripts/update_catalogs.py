"""Extract the web app's messages and update the gettext catalogues (en, zh_CN).

Usage::

    python scripts/update_catalogs.py           # add new messages (en: the message itself; zh_CN: empty)
    python scripts/update_catalogs.py --check   # exit 1 listing messages missing or untranslated

Messages are ``_()`` / ``gettext()`` / ``ngettext()`` in the templates and ``lazy()`` / ``gettext()`` in
``src/stockwarden/web``. Existing translations are kept; messages no longer used are dropped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from stockwarden.web.i18n import LANGUAGES, LOCALES_DIR  # noqa: E402
from stockwarden.web.messages import extract_messages  # noqa: E402


def update(check: bool) -> int:
    """Update (or only check) the catalogues; returns the exit code."""
    messages = extract_messages()
    problems: list[str] = []
    for language in LANGUAGES:
        path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
        old: Catalog | None = None
        if path.is_file():
            with path.open("rb") as fh:
                old = read_po(fh, locale=language)
        known = {m.id: m.string for m in old} if old is not None else {}
        missing = [m for m in messages if not known.get(m)]
        problems += [f"{language}: {m!r}" for m in missing]
        if check:
            continue
        catalog = Catalog(locale=language, project="stockwarden", version="1", charset="utf-8")
        for msgid, where in messages.items():
            text = known.get(msgid) or (msgid if language == "en" else "")
            catalog.add(msgid, text, locations=where[:3])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False, sort_output=True)
    if problems:
        print(f"{len(problems)} messages lack a translation:", file=sys.stderr)
        for p in problems[:200]:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    return update(parser.parse_args().check)


if __name__ == "__main__":
    sys.exit(main())
