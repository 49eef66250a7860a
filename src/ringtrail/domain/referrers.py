"""The table of known referrers: search engines, social networks and webmail, by host.

A referrer host is looked up after lower-casing and stripping `www.` / `m.`. An entry matches
its host and every subdomain of it; an entry written `name.*` matches `name` under any country
or generic top-level domain (`google.de`, `google.co.uk`, `google.com.ua`). The more specific
entries (webmail, Dzen) come before the engine they live under (`mail.google.com` is e-mail,
not Google search). `android-app://<package>` referrers arrive with the package as host, so
the apps that send them are listed by package name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class ReferrerKind(StrEnum):
    """What a known referrer is, which decides the medium of a visit it sends."""

    SEARCH = "search"
    SOCIAL = "social"
    EMAIL = "email"


@dataclass(frozen=True)
class KnownReferrer:
    """A recognised referrer: the source name, its kind and where it puts the search query."""

    name: str
    kind: ReferrerKind
    query_params: tuple[str, ...] = ()


_SEARCH = ReferrerKind.SEARCH
_SOCIAL = ReferrerKind.SOCIAL
_EMAIL = ReferrerKind.EMAIL

# (host pattern, entry), first match wins: specific hosts before the engines they live under.
_TABLE: tuple[tuple[str, KnownReferrer], ...] = (
    # Webmail
    ("mail.google.com", KnownReferrer("gmail", _EMAIL)),
    ("com.google.android.gm", KnownReferrer("gmail", _EMAIL)),
    ("outlook.live.com", KnownReferrer("outlook", _EMAIL)),
    ("outlook.office.com", KnownReferrer("outlook", _EMAIL)),
    ("outlook.office365.com", KnownReferrer("outlook", _EMAIL)),
    ("mail.yahoo.com", KnownReferrer("yahoo mail", _EMAIL)),
    ("mail.yandex.*", KnownReferrer("yandex mail", _EMAIL)),
    ("e.mail.ru", KnownReferrer("mail.ru", _EMAIL)),
    ("touch.mail.ru", KnownReferrer("mail.ru", _EMAIL)),
    ("mail.ukr.net", KnownReferrer("ukr.net", _EMAIL)),
    ("mail.proton.me", KnownReferrer("proton mail", _EMAIL)),
    ("mail.aol.com", KnownReferrer("aol mail", _EMAIL)),
    ("mail.zoho.com", KnownReferrer("zoho mail", _EMAIL)),
    ("email.seznam.cz", KnownReferrer("seznam mail", _EMAIL)),
    ("gmx.net", KnownReferrer("gmx", _EMAIL)),
    ("gmx.de", KnownReferrer("gmx", _EMAIL)),
    ("web.de", KnownReferrer("web.de", _EMAIL)),
    # Social networks and messengers
    ("dzen.ru", KnownReferrer("dzen", _SOCIAL)),
    ("zen.yandex.*", KnownReferrer("dzen", _SOCIAL)),
    ("facebook.com", KnownReferrer("facebook", _SOCIAL)),
    ("fb.com", KnownReferrer("facebook", _SOCIAL)),
    ("fb.me", KnownReferrer("facebook", _SOCIAL)),
    ("messenger.com", KnownReferrer("facebook", _SOCIAL)),
    ("com.facebook.katana", KnownReferrer("facebook", _SOCIAL)),
    ("instagram.com", KnownReferrer("instagram", _SOCIAL)),
    ("com.instagram.android", KnownReferrer("instagram", _SOCIAL)),
    ("threads.net", KnownReferrer("threads", _SOCIAL)),
    ("threads.com", KnownReferrer("threads", _SOCIAL)),
    ("t.co", KnownReferrer("twitter", _SOCIAL)),
    ("twitter.com", KnownReferrer("twitter", _SOCIAL)),
    ("x.com", KnownReferrer("twitter", _SOCIAL)),
    ("com.twitter.android", KnownReferrer("twitter", _SOCIAL)),
    ("linkedin.com", KnownReferrer("linkedin", _SOCIAL)),
    ("lnkd.in", KnownReferrer("linkedin", _SOCIAL)),
    ("com.linkedin.android", KnownReferrer("linkedin", _SOCIAL)),
    ("youtube.com", KnownReferrer("youtube", _SOCIAL)),
    ("youtu.be", KnownReferrer("youtube", _SOCIAL)),
    ("com.google.android.youtube", KnownReferrer("youtube", _SOCIAL)),
    ("tiktok.com", KnownReferrer("tiktok", _SOCIAL)),
    ("vk.com", KnownReferrer("vk", _SOCIAL)),
    ("vk.ru", KnownReferrer("vk", _SOCIAL)),
    ("vkontakte.ru", KnownReferrer("vk", _SOCIAL)),
    ("ok.ru", KnownReferrer("ok", _SOCIAL)),
    ("odnoklassniki.ru", KnownReferrer("ok", _SOCIAL)),
    ("t.me", KnownReferrer("telegram", _SOCIAL)),
    ("telegram.me", KnownReferrer("telegram", _SOCIAL)),
    ("telegram.org", KnownReferrer("telegram", _SOCIAL)),
    ("org.telegram.messenger", KnownReferrer("telegram", _SOCIAL)),
    ("reddit.com", KnownReferrer("reddit", _SOCIAL)),
    ("pinterest.*", KnownReferrer("pinterest", _SOCIAL)),
    ("pin.it", KnownReferrer("pinterest", _SOCIAL)),
    ("snapchat.com", KnownReferrer("snapchat", _SOCIAL)),
    ("quora.com", KnownReferrer("quora", _SOCIAL)),
    ("tumblr.com", KnownReferrer("tumblr", _SOCIAL)),
    ("whatsapp.com", KnownReferrer("whatsapp", _SOCIAL)),
    ("wa.me", KnownReferrer("whatsapp", _SOCIAL)),
    ("discord.com", KnownReferrer("discord", _SOCIAL)),
    ("viber.com", KnownReferrer("viber", _SOCIAL)),
    ("mastodon.social", KnownReferrer("mastodon", _SOCIAL)),
    ("bsky.app", KnownReferrer("bluesky", _SOCIAL)),
    ("news.ycombinator.com", KnownReferrer("hacker news", _SOCIAL)),
    # Search engines
    ("com.google.android.googlequicksearchbox", KnownReferrer("google", _SEARCH)),
    ("google.*", KnownReferrer("google", _SEARCH, ("q",))),
    ("bing.com", KnownReferrer("bing", _SEARCH, ("q",))),
    ("ya.ru", KnownReferrer("yandex", _SEARCH, ("text",))),
    ("yandex.*", KnownReferrer("yandex", _SEARCH, ("text",))),
    ("duckduckgo.com", KnownReferrer("duckduckgo", _SEARCH, ("q",))),
    ("search.yahoo.com", KnownReferrer("yahoo", _SEARCH, ("p",))),
    ("search.yahoo.co.jp", KnownReferrer("yahoo", _SEARCH, ("p",))),
    ("yahoo.com", KnownReferrer("yahoo", _SEARCH, ("p",))),
    ("yahoo.co.jp", KnownReferrer("yahoo", _SEARCH, ("p",))),
    ("baidu.com", KnownReferrer("baidu", _SEARCH, ("wd", "word"))),
    ("ecosia.org", KnownReferrer("ecosia", _SEARCH, ("q",))),
    ("naver.com", KnownReferrer("naver", _SEARCH, ("query",))),
    ("seznam.cz", KnownReferrer("seznam", _SEARCH, ("q",))),
    ("search.brave.com", KnownReferrer("brave", _SEARCH, ("q",))),
    ("startpage.com", KnownReferrer("startpage", _SEARCH, ("query", "q"))),
    ("qwant.com", KnownReferrer("qwant", _SEARCH, ("q",))),
    ("search.aol.com", KnownReferrer("aol", _SEARCH, ("q",))),
    ("ask.com", KnownReferrer("ask", _SEARCH, ("q",))),
    ("sogou.com", KnownReferrer("sogou", _SEARCH, ("query",))),
    ("so.com", KnownReferrer("360 search", _SEARCH, ("q",))),
    ("daum.net", KnownReferrer("daum", _SEARCH, ("q",))),
    ("go.mail.ru", KnownReferrer("mail.ru", _SEARCH, ("q",))),
    ("rambler.ru", KnownReferrer("rambler", _SEARCH, ("query",))),
    ("meta.ua", KnownReferrer("meta.ua", _SEARCH, ("q",))),
)

# A `name.*` entry: the name, then a country or generic TLD, optionally behind com/co/org...
_ANY_TLD = r"\.(?:[a-z]{2,6}|(?:com?|org|net|gov|edu|ac|gob|or|ne)\.[a-z]{2})"

SOURCE_NAMES_BY_KIND: dict[ReferrerKind, frozenset[str]] = {
    kind: frozenset(entry.name for _, entry in _TABLE if entry.kind is kind)
    for kind in ReferrerKind
}
"""Every source name the table can produce, by kind (used to give UTM sources a channel)."""


def _compile(pattern: str) -> re.Pattern[str]:
    if pattern.endswith(".*"):
        return re.compile(rf"(?:^|\.){re.escape(pattern[:-2])}{_ANY_TLD}$")
    return re.compile(rf"(?:^|\.){re.escape(pattern)}$")


_COMPILED = tuple((_compile(pattern), entry) for pattern, entry in _TABLE)


@lru_cache(maxsize=4096)
def lookup_referrer(host: str) -> KnownReferrer | None:
    """The known referrer a normalised host belongs to, or None for any other site."""
    host = host.lower().rstrip(".")
    for pattern, entry in _COMPILED:
        if pattern.search(host):
            return entry
    return None
