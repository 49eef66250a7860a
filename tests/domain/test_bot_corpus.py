"""Bot detection measured on the public corpus in tests/domain/bot_corpus (see its README).

Crawlers: at least 98% detected. Browsers as people use them, in-app ones included: none
refused. The figures are printed (run with `-s`, or see bench/bot_bench.py for timings).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ringtrail.domain.bots import BOT_KINDS, bot_kind, is_bot

CORPUS = Path(__file__).parent / "bot_corpus"
IN_APPS = ("facebook", "instagram", "tiktok", "telegram", "viber")


def load(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


CRAWLERS = load("crawlers.tsv")
BROWSERS = load("browsers.tsv") + load("inapp_browsers.tsv")


def test_the_corpus_is_big_labelled_and_named_by_source() -> None:
    assert len(CRAWLERS) >= 1500
    assert len(BROWSERS) >= 1000
    assert all(row["source"] and row["label"] in BOT_KINDS for row in CRAWLERS)
    assert all(row["source"] and row["category"] for row in BROWSERS)
    categories = Counter(row["category"] for row in BROWSERS)
    assert categories["desktop"] >= 100 and categories["mobile"] >= 100
    assert categories["webview"] >= 50
    for app in IN_APPS:
        assert categories[f"in_app:{app}"] >= 5, app
    assert len({row["user_agent"] for row in CRAWLERS + BROWSERS}) == len(CRAWLERS + BROWSERS)


def test_at_least_98_percent_of_crawlers_are_detected() -> None:
    missed = [row for row in CRAWLERS if not is_bot(row["user_agent"])]
    rate = 1 - len(missed) / len(CRAWLERS)
    print(f"\ncrawlers detected: {len(CRAWLERS) - len(missed)}/{len(CRAWLERS)} = {rate:.2%}")
    for row in missed:
        print(f"  missed ({row['pattern']}): {row['user_agent']}")
    assert rate >= 0.98


def test_no_browser_as_people_use_it_is_refused_a_number() -> None:
    refused = [(row, bot_kind(row["user_agent"])) for row in BROWSERS]
    refused = [(row, kind) for row, kind in refused if kind is not None]
    by_category = Counter(row["category"] for row in BROWSERS)
    print(f"\nbrowsers refused: {len(refused)}/{len(BROWSERS)} {dict(sorted(by_category.items()))}")
    assert [(row["source"], kind, row["user_agent"]) for row, kind in refused] == []


@pytest.mark.parametrize("label", sorted({row["label"] for row in CRAWLERS}))
def test_every_labelled_kind_of_crawler_is_detected(label: str) -> None:
    rows = [row for row in CRAWLERS if row["label"] == label]
    detected = sum(is_bot(row["user_agent"]) for row in rows)
    assert detected / len(rows) >= 0.98, (label, detected, len(rows))


FACEBOOK_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Mobile/21E236 [FBAN/FBIOS;FBAV/458.0.0.35.105;FBBV/583012310;FBDV/iPhone15,2;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.4.1;FBSS/3;FBCR/{carrier};FBID/phone;FBLC/en_GB;FBOP/5]"
)
PEOPLE = [row["user_agent"] for row in BROWSERS if row["category"] in ("mobile", "desktop")]
ANDROID = [ua for ua in PEOPLE if re.match(r"Mozilla/5\.0 \(Linux; Android [\d.]+; ", ua)]
carriers = st.text(
    alphabet=st.characters(blacklist_characters=";]\r\n\t", blacklist_categories=("Cs",)),
    max_size=40,
)


def test_the_issue_s_facebook_visitor_on_orange_botswana_is_a_person() -> None:
    assert not is_bot(FACEBOOK_IOS.format(carrier="OrangeBotswana"))


@given(carriers)
def test_no_carrier_field_makes_a_facebook_in_app_browser_a_bot(carrier: str) -> None:
    assert bot_kind(FACEBOOK_IOS.format(carrier=carrier)) is None


@given(st.sampled_from(PEOPLE), carriers, st.sampled_from(["FB_IAB/FB4A", "FBAN/FBIOS"]))
def test_appending_facebook_s_fields_never_makes_a_browser_a_bot(
    user_agent: str, carrier: str, app: str
) -> None:
    assert not is_bot(user_agent)
    assert not is_bot(f"{user_agent} [{app};FBAV/450.0.0.1;FBCR/{carrier};]")


@given(
    st.sampled_from(ANDROID),
    st.from_regex(r"[A-Za-z][A-Za-z0-9 _-]{0,20}", fullmatch=True),
    st.sampled_from(["Telegram-Android/11.2.1", "Viber/22.1.0.4", "Instagram 330.0.0.1"]),
)
def test_an_in_app_browser_on_any_phone_model_is_a_person(
    user_agent: str, model: str, app: str
) -> None:
    """A phone's model name (the platform comment) and the app's own field never make a bot,
    unless the model calls itself a bot, crawler or spider (crawlers dressed as phones do:
    "Storebot-Google/1.0" in the Android comment)."""
    assume(not re.search(r"(?i)bot|crawl|spider|scrap", model))
    phone = re.sub(r"(Android [\d.]+; )[^;)]*", lambda m: m.group(1) + model, user_agent, count=1)
    suffix = f" {app} (Samsung {model}; Android 14; SDK 34; HIGH)"
    if app.startswith("Instagram"):
        suffix = f" {app} (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 1)"
    assert bot_kind(phone + suffix) is None, phone + suffix


@given(
    st.sampled_from(PEOPLE),
    st.sampled_from(
        [
            "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "(compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "GPTBot/1.2",
            "HeadlessChrome/124.0.0.0",
            "Chrome-Lighthouse",
        ]
    ),
)
def test_a_crawler_s_token_after_any_browser_makes_it_a_bot(user_agent: str, token: str) -> None:
    """Crawlers that dress as browsers (mobile Googlebot) are still caught."""
    assert is_bot(f"{user_agent} {token}")


@pytest.mark.parametrize(
    ("user_agent", "kind"),
    [
        ("Viber", "link_preview"),  # the previewer, no browser in front: a bot
        (
            "Mozilla/5.0 (Linux; Android 14; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Version/4.0 Chrome/129.0 Mobile Safari/537.36 Viber/22.0.0.0",
            None,  # Viber's in-app browser: a person
        ),
        ("TelegramBot (like TwitterBot)", "link_preview"),
        ("Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", "crawler"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_2 like Mac OS X) AppleWebKit/603.2.4 "
            "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30 SogouMSE,SogouMobile",
            None,  # Sogou's mobile browser, not its spider
        ),
        (
            "Mozilla/5.0 (Linux; U; Android 4.1.1; zh-CN; HTC J Butterfly Build/JRO03C) "
            "AppleWebKit/534.31 (KHTML, like Gecko) UCBrowser/9.3.0.321 Mobile Safari/534.31",
            None,  # a phone's model is no crawler's name
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; Cubot X30) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/140.0 Mobile Safari/537.36",
            None,
        ),
        ("Mozilla/5.0 (compatible; Qualys; +https://www.qualys.com/)", "site_checker"),
        ("FeedFlow/1.0", "feed_reader"),
        ("Amazon CloudFront", "site_checker"),
        ("Mozilla/5.0 (compatible; SnapURLPreview/1.0; +https://www.snapchat.com)", "link_preview"),
    ],
)
def test_the_user_agent_is_read_by_its_structure(user_agent: str, kind: str | None) -> None:
    assert bot_kind(user_agent) == kind
