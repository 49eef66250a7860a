"""Bot detection and device description from real User-Agent strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.bots import BOT_KINDS, bot_kind, describe_device, is_bot

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.6367.155 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "AdsBot-Google (+http://www.google.com/adsbot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots yabs01)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "curl/8.4.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "python-httpx/0.27.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "",
    "   ",
]

HUMANS = [
    (CHROME_WINDOWS, "desktop", "Chrome", "Windows"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "desktop",
        "Safari",
        "Mac OS X",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "desktop",
        "Firefox",
        "Windows",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "desktop",
        "Firefox",
        "Ubuntu",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        "desktop",
        "Edge",
        "Windows",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        "desktop",
        "Yandex Browser",
        "Windows",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
        "desktop",
        "Opera",
        "Windows",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        "mobile",
        "Mobile Safari",
        "iOS",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        "mobile",
        "Chrome Mobile iOS",
        "iOS",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Chrome Mobile",
        "Android",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Samsung Internet",
        "Android",
    ),
    (
        "Mozilla/5.0 (Linux; arm_64; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.6261.186 YaBrowser/24.4.3.54.00 SA/3 Mobile Safari/537.36",
        "mobile",
        "Yandex Browser",
        "Android",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        "mobile",
        "Firefox Mobile",
        "Android",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36 OPR/82.0.4227.80224",
        "mobile",
        "Opera Mobile",
        "Android",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "tablet",
        "Mobile Safari",
        "iOS",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "tablet",
        "Chrome",
        "Android",
    ),
]


@pytest.mark.parametrize("user_agent", BOTS)
def test_crawlers_tools_monitors_previewers_and_empty_agents_are_bots(user_agent: str) -> None:
    assert is_bot(user_agent)
    assert describe_device(user_agent).device_type == "bot"


@pytest.mark.parametrize(("user_agent", "device_type", "browser", "os"), HUMANS)
def test_real_browsers_are_people_with_their_device_browser_and_os(
    user_agent: str, device_type: str, browser: str, os: str
) -> None:
    assert not is_bot(user_agent)
    device = describe_device(user_agent)
    assert (device.device_type, device.browser, device.os) == (device_type, browser, os)


def test_our_own_headless_browser_tests_count_as_bots_unless_they_override_the_agent() -> None:
    headless = CHROME_WINDOWS.replace("Chrome/", "HeadlessChrome/")
    assert is_bot(headless)
    assert not is_bot(CHROME_WINDOWS)


def test_device_carries_major_and_minor_versions() -> None:
    device = describe_device(HUMANS[2][0])
    assert (device.browser_version, device.os_version) == ("125.0", "10")


def test_an_unrecognisable_agent_is_a_desktop_with_no_browser_or_os() -> None:
    device = describe_device("Mozilla/5.0 (something-new)")
    assert (device.device_type, device.browser, device.os) == ("desktop", None, None)


def test_a_huge_user_agent_is_read_only_up_to_the_cap() -> None:
    assert not is_bot(CHROME_WINDOWS + " " + "x" * 100_000)
    assert is_bot("Googlebot/2.1 " + "x" * 100_000)


@given(st.text(max_size=300))
def test_any_text_as_user_agent_never_raises(user_agent: str) -> None:
    assert isinstance(is_bot(user_agent), bool)
    assert describe_device(user_agent).device_type in {"mobile", "tablet", "desktop", "bot"}


@given(st.one_of(st.text(max_size=300), st.sampled_from(BOTS + [h[0] for h in HUMANS])))
def test_a_bot_kind_is_given_exactly_for_bots_and_is_a_known_kind(user_agent: str) -> None:
    kind = bot_kind(user_agent)
    assert (kind is not None) == is_bot(user_agent)
    assert kind is None or kind in BOT_KINDS


@pytest.mark.parametrize(
    ("user_agent", "kind"),
    [
        ("", "no_user_agent"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0.0.0 Safari/537.36",
            "headless_browser",
        ),
        ("Mozilla/5.0 Chrome/124.0 Safari/537.36 Playwright/1.44", "automation"),
        ("Mozilla/5.0 Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", "site_checker"),
        ("curl/8.4.0", "http_client"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler"),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "link_preview",
        ),
        (CHROME_WINDOWS, None),
    ],
)
def test_the_bot_kind_names_the_signal(user_agent: str, kind: str | None) -> None:
    assert bot_kind(user_agent) == kind
