"""Find every translatable message of the web app (used by the catalogue script and the i18n test)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

WEB_DIR = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "lazy": None, "ngettext": (1, 2)}


def extract_messages() -> dict[str, list[tuple[str, int]]]:
    """Every message id in the templates and the Python code of ``stockwarden.web``, with its places."""
    found: dict[str, list[tuple[str, int]]] = {}
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(WEB_DIR), method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append((filename, lineno))
    return dict(sorted(found.items()))


__all__ = ["extract_messages"]
