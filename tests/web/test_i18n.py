"""Both languages are complete: every message of the templates and the code has a translation in each."""

from __future__ import annotations

import datetime as dt

import pytest

from stockwarden.domain.alert import AlertAction, AlertState, FeedbackVerdict
from stockwarden.domain.order import OverrideReason, ProposalStatus
from stockwarden.domain.risk import ReasonCode, RiskLevel
from stockwarden.web import labels
from stockwarden.web.i18n import LANGUAGES, load_catalog, negotiate, normalise_language, translator
from stockwarden.web.messages import extract_messages


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation(language: str) -> None:
    catalog = {m.id: m.string for m in load_catalog(language) if m.id}
    messages = extract_messages()
    assert len(messages) > 200
    missing = [m for m in messages if not catalog.get(m)]
    assert missing == [], f"{language} lacks {len(missing)} messages, e.g. {missing[:5]} (scripts/update_catalogs.py)"


def test_chinese_catalogue_is_chinese_not_a_copy_of_english() -> None:
    zh = {m.id: m.string for m in load_catalog("zh_CN") if m.id}
    same = [k for k, v in zh.items() if v == k and any(c.isalpha() for c in k) and k not in ("SKU", "PO", "OK")]
    assert same == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language: str) -> None:
    import re

    for m in load_catalog(language):
        if m.id and m.string:
            assert sorted(re.findall(r"%\(\w+\)s", m.id)) == sorted(re.findall(r"%\(\w+\)s", m.string)), m.id


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (labels.LEVELS, RiskLevel),
        (labels.ALERT_STATES, AlertState),
        (labels.ALERT_ACTIONS, AlertAction),
        (labels.VERDICTS, FeedbackVerdict),
        (labels.REASONS, ReasonCode),
        (labels.OVERRIDE_REASONS, OverrideReason),
        (labels.PROPOSAL_STATUSES, ProposalStatus),
    ],
)
def test_every_domain_code_has_a_display_name(table: dict[str, str], enum: type) -> None:
    assert {str(e.value) for e in enum} <= set(table)


def test_first_visit_follows_accept_language() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert negotiate("en-GB,en;q=0.9") == "en"
    assert negotiate("fr-FR,zh-TW;q=0.5") == "zh_CN"
    assert negotiate("fr-FR") == "en"
    assert negotiate("en;q=0.2, zh;q=0.9") == "zh_CN"
    assert negotiate(None) == "en"
    assert normalise_language("zh_Hans") == "zh_CN"


def test_dates_and_numbers_are_localised() -> None:
    en, zh = translator("en"), translator("zh_CN")
    day = dt.date(2025, 1, 5)
    assert en.date(day) == "Jan 5, 2025"
    assert zh.date(day) == "2025年1月5日"
    assert en.number(12345.678, 1) == "12,345.7"
    assert zh.percent(0.42) == "42%"
    assert en.number(float("nan")) == "—"
    assert en.date("2025-01-05") == "Jan 5, 2025"
    assert zh.gettext("Sign in") == "登录"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "position 100 (on hand 100 + on order 0 − backorders 0) < order-up-to 120 at the review (every 7 days); "
            "order-up-to 120 − position 100 = 20 → 24 (pack 12)",
            "库存位置 100 (在库 100 + 在途 0 − 欠交 0) 低于补货目标 120（盘点日，每 7 天盘点一次）; "
            "补货目标 120 − 库存位置 100 = 20 → 24 （每包 12）",
        ),
        (
            "position 10 (on hand 10 + on order 0 − backorders 0) ≤ reorder point 18; "
            "order-up-to 32 − position 10 = 22",
            "库存位置 10 (在库 10 + 在途 0 − 欠交 0) ≤ 再订货点 18; 补货目标 32 − 库存位置 10 = 22",
        ),
    ],
)
def test_an_order_lines_explanation_is_translated_phrase_by_phrase_keeping_its_numbers(
    text: str, expected: str
) -> None:
    assert labels.explanation(text, translator("zh_CN").gettext) == expected
    english = labels.explanation(text, translator("en").gettext)
    assert "level level" not in english and english.count("order-up-to level") == text.count("order-up-to")
