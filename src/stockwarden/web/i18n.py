"""Languages of the web app: message catalogues, the user's language, localised dates and numbers.

The catalogues are gettext ``.po`` files under ``web/locales/<lang>/LC_MESSAGES/messages.po``, read
with Babel when the app starts (no compile step, no Node). English (``en``) and Simplified Chinese
(``zh_CN``) are complete: ``tests/web/test_i18n.py`` fails on any string of a template or of this
package that either catalogue lacks.

The language of a request is, in order: the ``lang`` query parameter (a switch), the user's choice
remembered in the ``sw_lang`` cookie, else the browser's ``Accept-Language`` header, else English.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[str, ...] = ("en", "zh_CN")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
COOKIE = "sw_lang"


@functools.cache
def load_catalog(language: str) -> Catalog:
    """The catalogue of one language, read from its ``.po`` file (cached for the process)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


@functools.cache
def _messages(language: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for message in load_catalog(language):
        if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            out[message.id] = message.string
    return out


def normalise_language(value: str | None) -> str | None:
    """Map ``zh``, ``zh-CN``, ``zh_Hans``, ``en-GB``... to a supported language, or None."""
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str:
    """The best supported language for an ``Accept-Language`` header (quality values respected)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        bits = part.strip().split(";")
        quality = 1.0
        for extra in bits[1:]:
            key, _, val = extra.strip().partition("=")
            if key == "q":
                try:
                    quality = float(val)
                except ValueError:
                    quality = 0.0
        language = normalise_language(bits[0])
        if language and quality > 0:
            choices.append((-quality, index, language))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    """Text, dates and numbers in one language (bound into every template as ``_``, ``fmt_*``)."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.language == "zh_CN" else "en"

    def gettext(self, message: str) -> str:
        """The translation of ``message`` (the message itself when a catalogue lacks it)."""
        return _messages(self.language).get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular or plural (Chinese has one form; English picks by ``n``)."""
        return self.gettext(singular if n == 1 else plural)

    def date(self, value: dt.date | dt.datetime | str | None, fmt: str = "medium") -> str:
        """A localised date (``Jan 5, 2025`` / ``2025年1月5日``); empty for None; ISO text is parsed."""
        if value is None or value != value:  # None or NaN/NaT
            return ""
        if isinstance(value, str):
            text = value
            try:
                value = dt.date.fromisoformat(text[:10])
            except ValueError:
                return text
        if isinstance(value, dt.datetime):
            value = value.date()
        return format_date(value, format=fmt, locale=self.locale)

    def datetime(self, value: dt.datetime | None, fmt: str = "short") -> str:
        """A localised date and time; empty for None."""
        if value is None:
            return ""
        return format_datetime(value, format=fmt, locale=self.locale)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """A localised number with ``digits`` decimals (``12,345.6``); an em dash for None/NaN."""
        if value is None or value != value:  # NaN
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 0) -> str:
        """A localised percentage of a 0-1 share (``42%``); an em dash for None/NaN."""
        if value is None or value != value:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=self.locale)

    def money(self, value: float | None) -> str:
        """A localised amount without currency symbol (the data has no currency), two decimals."""
        return self.number(value, 2)


def translator(language: str) -> Translator:
    """A :class:`Translator` for a supported language (``DEFAULT_LANGUAGE`` otherwise)."""
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def lazy(message: str) -> str:
    """Mark a string in Python code for extraction; it is translated where it is shown (``_(x)``)."""
    return message


Gettext = Callable[[str], str]

__all__ = [
    "COOKIE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Gettext",
    "Translator",
    "lazy",
    "load_catalog",
    "negotiate",
    "normalise_language",
    "translator",
]
