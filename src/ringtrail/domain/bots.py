"""Bots and devices from a User-Agent: is it a crawler, and what device, browser and OS.

A visit is a bot's when its User-Agent is empty or names a crawler, a headless browser, an
HTTP library, a monitor, a security scanner, a feed reader or a link previewer. The
User-Agent is read by its structure, not as one string to search:

1. Fields that in-app browsers and carriers add (Facebook's `[FBAN/...;FBCR/<carrier>;...]`,
   `Instagram 300.0 (...)`, TikTok's `musical_ly_...`/`BytedanceWebview/...`,
   `Telegram-Android/... (...)`, `Viber/...`, LINE, KakaoTalk...) are cut from a browser's
   User-Agent before anything is matched, so a carrier called "OrangeBotswana" or an app's
   name never makes a person a bot. A bare `Viber` or `TelegramBot` (the apps' link
   previewers, with no browser in front) is left whole and matched.
2. On a phone's User-Agent the platform comment (`(Linux; Android 14; <model> Build/...)`,
   `(iPhone; ...)`) names the device: only a word ending in bot/crawler/spider counts there
   (a phone called "HTC J Butterfly" or "I-Buddy" is not the Butterfly or Buddy crawler).
3. Our own rules (headless browsers, automation, monitors, previewers, HTTP clients,
   scanners, feed readers), then the maintained crawler list (domain.crawler_list, generated
   from monperrus/crawler-user-agents by scripts/refresh_bot_data.py: nothing is downloaded
   at run time), are matched as words: a match must start and end on a word's edge (a
   camel-case edge or a plural "s" counts), so "Sogou" (the spider) is not found in
   "SogouMobile" (the browser), nor "Sonic" in "ViewSonic". Each pattern is filed under a
   rare three-letter piece of its literal text, so only the few that can match are tried.
4. Last, any word ending in "bot", "crawler" or "spider" (Googlebot, my-crawler...), or a
   "+http://..." address, the way crawlers sign themselves.

Headless Chromium says "HeadlessChrome", so our own browser tests count as bots: they set an
ordinary User-Agent when they need a human visit. The device description comes from
`ua-parser` (the uap-core rules, shipped in the package).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import ua_parser

from ringtrail.domain.crawler_list import CRAWLER_PATTERNS

MAX_USER_AGENT_LENGTH = 1000
"""Characters of a User-Agent that are looked at; real ones are far shorter."""

DeviceType = Literal["mobile", "tablet", "desktop", "bot"]

# Our own rules by kind (case-insensitive, matched as words, before the crawler list): the
# kind is what the tracking API answers as the `bot` signal, so a site owner learns why a
# test saw no swap.
_OWN_BOT_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("headless_browser", ("headless\\w*", "phantomjs", "slimerjs")),
    ("automation", ("puppeteer", "playwright", "selenium", "webdriver", "cypress")),
    (
        "site_checker",
        (
            "chrome-lighthouse", "lighthouse", "pagespeed", "gtmetrix", "pingdom\\w*",
            "uptime\\w*", "statuscake", "site24x7", "datadog\\w*", "newrelic\\w*", "checkly",
            "catchpoint", "thousandeyes", "dotcom-monitor", "alertsite", "uptrends",
            "blackbox exporter", "cloudflare-[\\w-]+", "amazon cloudfront", "appinsights",
            "google-safety", "google-certificates-bridge", "\\w*monitor\\w*",
        ),
    ),
    (
        "link_preview",
        (
            "\\w*preview\\w*", "embedly", "vkshare", "linkexpanding", "unfurl\\w*", "opengraph\\w*",
            "meta-external\\w+", "facebookexternalhit", "whatsapp/[\\d.]+(?: [ai])?$",
        ),
    ),
    (
        "http_client",
        (
            "okhttp", "go-http-client", "node-fetch", "axios", "aiohttp", "python-\\w+", "httpx",
            "libwww-perl", "wget", "curl", "java/[\\d._]+", "scrapy", "colly", "guzzlehttp",
            "apache-httpclient", "httpclient", "[\\w-]+-http-client", "http client",
        ),
    ),
    ("security_scanner", ("\\w*scanner\\w*", "\\w+scan/[\\d.]+", "nuclei", "zgrab", "masscan")),
    ("feed_reader", ("\\w*rss\\w*", "feed ?(?:fetcher|parser|reader)\\w*", "podcast\\w*")),
)  # fmt: skip
BOT_KINDS = ("no_user_agent", *(kind for kind, _ in _OWN_BOT_KINDS), "crawler")
"""Every answer of `bot_kind`, from the User-Agent alone."""

# A browser's shape: "Mozilla/5.0 (platform) Engine/..." or an Opera Presto one.
_BROWSER_SHAPE = re.compile(r"Mozilla/5\.0 \(|Opera/9\.80 \(")
_IN_APP_HINTS = (
    "FB", "MetaIAB", "Instagram", "musical_ly", "trill_", "ultralite_", "Bytedance", "TikTok",
    "ByteLocale", "Telegram-", "Viber/", "Line/", "KAKAO", "NAVER(", "Snapchat", "Pinterest/",
    "MicroMessenger", "NetType/", "Weibo", "Twitter for", "LinkedInApp", "GSA/", "Zalo",
    "SogouM",
)  # fmt: skip
_IN_APP_FIELDS = re.compile(
    r"""
    \[FB[^\]]*\]?                                      # Facebook: [FBAN/FBIOS;..;FBCR/..;]
    | \bFB(?:AN|AV|BV|DV|MD|SN|SV|SS|CR|ID|LC|OP|RV|_IAB)/[^;\])]*;?
    | \bMetaIAB(?:\s[A-Z]\w*)*                         # Meta's in-app browser marker
    | \bInstagram\s[\d.]+\s(?:Android\s)?\([^)]*\)?    # Instagram 300.0 (iPhone13,2; ...)
    | \b(?:musical_ly|trill|ultralite)_\d[\s\S]*$      # TikTok's long tail
    | \bBytedanceWebview/\S*|\bTikTok\s[\d.]+\S*|\bByteLocale/\S*
    | \bTelegram-(?:Android|iOS)/\S+(?:\s\([^)]*\))?   # Telegram-Android/10.x (Model; ...)
    | \bViber/\S+
    | \bLine/\S+(?:\s\w+)?|\bKAKAOTALK\s?\S*|\bNAVER\([^)]*\)|\bSnapchat/\S+
    | \[?Pinterest/(?:iOS|Android)\]?|\bMicroMessenger/\S+|\bNetType/\S+|\bLanguage/\S+
    | \bWeibo\s\([^)]*\)|\bTwitter\sfor\s\w+|\bLinkedInApp\S*|\bGSA/\S+|\bZalo\S*
    | \bSogou(?:MSE|Mobile\w*)\S*
    """,
    re.VERBOSE,
)
_IN_APP_HINT = re.compile("|".join(re.escape(hint) for hint in _IN_APP_HINTS))
_PHONE_PLATFORM = re.compile(
    r"(Mozilla/5\.0 )\((?:Linux; (?:U; )?Android|iPhone|iPad|iPod|Android|Mobile;|Linux; arm)"
    r"[^()]*\)"
)
_CRAWLER_ENDING = re.compile(r"(?i:bot|crawler|crawl|spider|scraper|scraping)\b")
_NOT_CRAWLER_WORDS = frozenset({"cubot"})  # a phone maker
_KEY = 3
# Three-letter pieces every browser's User-Agent is full of: a pattern is filed under a piece
# of its literal text that is not one of these where it can, so few patterns are tried.
_COMMON = (
    "mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like gecko) "
    "chrome/124.0.0.0 safari/537.36 (macintosh; intel mac os x 10_15_7) version/17.4 "
    "(iphone; cpu iphone os 17_4 like mac os x) mobile/15e148 (linux; android 14; sm-s918b "
    "build/up1a) mobile safari/537.36 (compatible; msie 9.0; trident/5.0) gecko/20100101 "
    "firefox/125.0 (x11; ubuntu; linux x86_64; rv:125.0) +http://www.https://.com/.html "
)


@dataclass(frozen=True)
class _Pattern:
    rank: int
    regex: re.Pattern[str]
    kind: str
    literal: str
    folded: bool  # the pattern ignores case: its literal is looked for in lower case


def _literal_runs(pattern: str) -> list[str]:
    """The literal text runs of a regular expression outside its groups (escapes resolved; a
    run ends at any class, group, anchor or quantifier, and a quantified character leaves
    its run)."""
    runs, run, depth, i = [], "", 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt.isalnum():  # \d, \w, \s, \b...: not a literal
                runs.append(run)
                run = ""
            elif depth == 0:
                run += nxt
            i += 2
            continue
        if char in "?*{":
            runs.append(run[:-1])
            run = ""
        elif char == "[":
            runs.append(run)
            run = ""
            end = pattern.find("]", i + 2)
            i = len(pattern) if end < 0 else end
        elif char in "()^$.|+":
            depth += {"(": 1, ")": -1}.get(char, 0)
            runs.append(run[:-1] if char == "+" else run)
            run = ""
        elif depth == 0:
            run += char
        i += 1
    runs.append(run)
    return [r for r in runs if r]


def _branches(pattern: str) -> list[str] | None:
    """The top-level alternatives of `pattern`, or None when a group holds an alternation."""
    depth, start, out, i = 0, 0, [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            end = pattern.find("]", i + 2)
            i = len(pattern) if end < 0 else end + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|":
            if depth:
                return None
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


Key = tuple[str, str, str]


def _key(literal: str) -> Key:
    """The rarest-looking three-letter piece of a literal (lower case), as a tuple: the keys
    of a User-Agent are then found by `zip`, without a Python loop."""
    folded = literal.lower()
    pieces = [folded[i : i + _KEY] for i in range(len(folded) - _KEY + 1)]
    rare = [p for p in pieces if p not in _COMMON]
    first = (rare or pieces)[0]
    return first[0], first[1], first[2]


def _index(
    patterns: Iterable[tuple[str, str, bool]],
) -> tuple[dict[Key, tuple[_Pattern, ...]], tuple[_Pattern, ...]]:
    """Patterns filed by a three-letter key of their longest literal text; those with no
    literal three letters long are tried on every User-Agent."""
    keyed: dict[Key, list[_Pattern]] = {}
    always: list[_Pattern] = []
    for rank, (source, kind, folded) in enumerate(patterns):
        for branch in _branches(source) or [source]:
            literal = max(_literal_runs(branch), key=len, default="")
            regex = re.compile(f"(?i:{branch})" if folded else branch)
            pattern = _Pattern(rank, regex, kind, literal.lower() if folded else literal, folded)
            if len(literal) < _KEY:
                always.append(pattern)
            else:
                keyed.setdefault(_key(literal), []).append(pattern)
    return {k: tuple(v) for k, v in keyed.items()}, tuple(always)


def _all_patterns() -> list[tuple[str, str, bool]]:
    own = [(p, kind, True) for kind, patterns in _OWN_BOT_KINDS for p in patterns]
    return own + [(p, kind, False) for p, kind in CRAWLER_PATTERNS]


_KEYED, _ALWAYS = _index(_all_patterns())
_TABLET = re.compile(r"ipad|tablet(?! pc)|kindle|silk/|playbook|nexus (?:7|9|10)\b", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|opera mini|blackberry", re.I)
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Tizen"})


@dataclass(frozen=True)
class Device:
    """What a User-Agent says about the device; None where it says nothing recognisable."""

    device_type: DeviceType
    browser: str | None
    os: str | None
    browser_version: str | None = None
    os_version: str | None = None


def is_bot(user_agent: str) -> bool:
    """True for an empty User-Agent, crawlers, headless browsers, HTTP tools, monitors,
    scanners, feed readers and previewers."""
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


def searchable(user_agent: str) -> tuple[str, str]:
    """What of a User-Agent is searched: (the text for crawler names, the phone's platform
    comment, where only a word ending in bot/crawler/spider counts). A browser's in-app and
    carrier fields are cut out of both."""
    agent = _cleaned(user_agent)
    if not _BROWSER_SHAPE.match(agent):
        return agent, ""
    if _IN_APP_HINT.search(agent):
        agent = _IN_APP_FIELDS.sub(" ", agent)
    phone = _PHONE_PLATFORM.match(agent)
    if phone is None or "compatible" in phone.group(0) or "+http" in phone.group(0):
        return agent, ""
    return phone.group(1) + "(device)" + agent[phone.end() :], phone.group(0)


def _cleaned(user_agent: str) -> str:
    if not isinstance(user_agent, str):
        return ""
    return user_agent[:MAX_USER_AGENT_LENGTH].strip()


def _is_bot(agent: str) -> bool:
    return _bot_kind(agent) is not None


@lru_cache(maxsize=8192)
def _bot_kind(agent: str) -> str | None:
    text, platform = searchable(agent)
    lowered = text.lower()
    keys = _KEYED.keys() & zip(lowered, lowered[1:], lowered[2:], strict=False)
    candidates = [p for key in keys for p in _KEYED[key]]
    candidates.extend(_ALWAYS)
    candidates.sort(key=_rank)
    for pattern in candidates:
        if pattern.literal and pattern.literal not in (lowered if pattern.folded else text):
            continue
        if _word_match(pattern.regex, text):
            return pattern.kind
    for part in (text, platform):
        if part and _crawler_word(part):
            return "crawler"
    if "+http" in text:  # "(+http://example.com/bot.html)": how crawlers sign themselves
        return "crawler"
    return None


def _rank(pattern: _Pattern) -> int:
    return pattern.rank


def _crawler_word(text: str) -> bool:
    """Whether a word of `text` ends in bot, crawler, spider or scraper (not a phone maker's
    name such as Cubot)."""
    for found in _CRAWLER_ENDING.finditer(text):
        start = found.start()
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
            start -= 1
        if text[start : found.end()].lower() not in _NOT_CRAWLER_WORDS:
            return True
    return False


def _word_match(regex: re.Pattern[str], text: str) -> bool:
    """Whether `regex` matches `text` on word edges: a match that starts (ends) with a letter
    or digit must not continue a word on that side, unless the edge is a camel-case one
    ("RankSonic", "GigablastOpenSource") or a plural "s" ends the word."""
    for found in regex.finditer(text):
        start, end = found.span()
        if start == end:
            continue
        if start > 0 and not _edge(text[start - 1], text[start]):
            continue
        if end < len(text) and not _edge(text[end - 1], text[end]):
            after = text[end + 1 : end + 2]
            if not (text[end] == "s" and not after.isalpha()):
                continue
        return True
    return False


def _edge(left: str, right: str) -> bool:
    """Whether a word may end between `left` and `right`."""
    if not (left.isalnum() and right.isalnum()):
        return True
    if left.isdigit() or right.isdigit():
        return left.isdigit() != right.isdigit() and right.isdigit()
    return left.islower() and right.isupper()


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
