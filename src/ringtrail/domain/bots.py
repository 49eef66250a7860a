"""Bots and devices from a User-Agent: is it a crawler, and what device, browser and OS.

A visit is a bot's when its User-Agent is empty or names a crawler, a headless browser, an
HTTP library, a monitor or a link previewer. The patterns come from two offline libraries
that ship their data in the package (`crawlerdetect`, the CrawlerDetect list, and
`ua-parser`, the uap-core rules), plus a few of our own; matching is in memory, nothing is
fetched. Headless Chromium says "HeadlessChrome", so our own browser tests count as bots:
they set an ordinary User-Agent when they need a human visit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import ua_parser
from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]

MAX_USER_AGENT_LENGTH = 1000
"""Characters of a User-Agent that are looked at; real ones are far shorter."""

DeviceType = Literal["mobile", "tablet", "desktop", "bot"]

# Automation and previewers the libraries above do not (all) know, by kind: the kind is what
# the tracking API answers as the `bot` signal, so a site owner learns why a test saw no swap.
_EXTRA_BOT_KINDS: tuple[tuple[str, str], ...] = (
    ("headless_browser", r"headless|phantomjs"),
    ("automation", r"puppeteer|playwright|selenium|webdriver"),
    ("site_checker", r"lighthouse|pagespeed|gtmetrix|pingdom|uptime|statuscake|site24x7|datadog"),
    ("link_preview", r"\bpreview\b|embedly|skypeuripreview|vkshare"),
    (
        "http_client",
        r"okhttp|go-http-client|node-fetch|axios/|aiohttp|httpx|libwww|wget|curl/|java/|scrapy",
    ),
    ("crawler", r"\bspider\b|\bcrawl|\bbot\b|bot/|-bot\b"),
)
_EXTRA_BOTS = re.compile(
    "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _EXTRA_BOT_KINDS), re.IGNORECASE
)
BOT_KINDS = ("no_user_agent", *(kind for kind, _ in _EXTRA_BOT_KINDS))
"""Every answer of `bot_kind`: our own kinds, then `crawler` for the libraries' crawlers too."""
_TABLET = re.compile(r"ipad|tablet(?! pc)|kindle|silk/|playbook|nexus (?:7|9|10)\b", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|opera mini|blackberry", re.I)
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Tizen"})

_detector = CrawlerDetect()


@dataclass(frozen=True)
class Device:
    """What a User-Agent says about the device; None where it says nothing recognisable."""

    device_type: DeviceType
    browser: str | None
    os: str | None
    browser_version: str | None = None
    os_version: str | None = None


def is_bot(user_agent: str) -> bool:
    """True for an empty User-Agent, crawlers, headless browsers, HTTP tools and previewers."""
    agent = _cleaned(user_agent)
    return not agent or _is_bot(agent)


def bot_kind(user_agent: str) -> str | None:
    """Why a User-Agent is a bot's (one of BOT_KINDS), or None for a person's browser."""
    agent = _cleaned(user_agent)
    if not agent:
        return "no_user_agent"
    return _bot_kind(agent)


def describe_device(user_agent: str) -> Device:
    """Device type (mobile, tablet, desktop or bot), browser and OS of a User-Agent."""
    agent = _cleaned(user_agent)
    if not agent:
        return Device("bot", None, None)
    return _describe(agent)


def _cleaned(user_agent: str) -> str:
    if not isinstance(user_agent, str):
        return ""
    return user_agent[:MAX_USER_AGENT_LENGTH].strip()


def _is_bot(agent: str) -> bool:
    return _bot_kind(agent) is not None


@lru_cache(maxsize=4096)
def _bot_kind(agent: str) -> str | None:
    found = _EXTRA_BOTS.search(agent)
    if found:
        return found.lastgroup
    if _detector.is_crawler(agent):
        return "crawler"
    device = ua_parser.parse_device(agent)
    return "crawler" if device is not None and device.family == "Spider" else None


@lru_cache(maxsize=4096)
def _describe(agent: str) -> Device:
    result = ua_parser.parse(agent)
    browser, os = result.user_agent, result.os
    return Device(
        device_type=_device_type(agent, os.family if os else None, result.device),
        browser=_named(browser.family) if browser else None,
        os=_named(os.family) if os else None,
        browser_version=_version(browser.major, browser.minor) if browser else None,
        os_version=_version(os.major, os.minor) if os else None,
    )


def _named(family: str) -> str | None:
    return None if family in ("", "Other") else family


def _device_type(agent: str, os: str | None, device: ua_parser.Device | None) -> DeviceType:
    if _is_bot(agent):
        return "bot"
    brand = device.brand if device else None
    family = device.family if device else ""
    if _TABLET.search(agent) or brand == "Generic_Android_Tablet" or family == "iPad":
        return "tablet"
    if os == "Android" and "mobile" not in agent.lower():
        return "tablet"  # Android phones say "Mobile"; tablets do not (Google's guidance)
    if _MOBILE.search(agent) or os in _MOBILE_OS:
        return "mobile"
    return "desktop"


def _version(major: str | None, minor: str | None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major
