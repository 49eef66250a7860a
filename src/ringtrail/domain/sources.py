"""Visit classification: source, medium, campaign, keyword and channel from URL and referrer.

Precedence, highest first (docs/sources.md has the full story):

1. UTM tags. `utm_source` / `utm_medium` name the source and medium; a missing one is taken
   from the click id (then, for the source, the referrer), else "(not set)".
2. Click ids: gclid/gbraid/wbraid → google / cpc, msclkid → bing / cpc, yclid → yandex / cpc,
   ttclid → tiktok / cpc, fbclid → facebook / social. Meta appends fbclid to every outbound
   click, organic posts included, so fbclid alone is organic social; a paid Meta visit needs
   UTM tags saying so (as Meta's own URL parameters template adds).
3. The referrer: a search engine → organic, a social network → social, webmail → email, any
   other site → referral with its host as the source. The site's own hosts are internal.
4. Nothing of the above: (direct) / (none).

`utm_campaign`, `utm_term` and `utm_content` are kept whichever layer decides the source; the
keyword is `utm_term`, else the query a search-engine referrer carries. Input is never trusted:
each field is capped, unreadable parts are skipped and noted in the trace, nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from ringtrail.domain.referrers import (
    SOURCE_NAMES_BY_KIND,
    KnownReferrer,
    ReferrerKind,
    lookup_referrer,
)

MAX_FIELD_LENGTH = 2000
"""Characters kept of each input (landing URL, referrer); the rest is dropped."""

MAX_QUERY_PAIRS = 100
"""Query parameters read from a URL; the rest are ignored."""

MAX_VALUE_LENGTH = 500
"""Characters kept of one UTM value, click id or search query."""

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CLICK_ID_KINDS = ("gclid", "gbraid", "wbraid", "msclkid", "yclid", "ttclid", "fbclid")
"""The click ids read from the landing URL, in the order they decide the source."""

CHANNELS = (
    "paid_search",
    "paid_social",
    "organic_search",
    "organic_social",
    "referral",
    "email",
    "display",
    "direct",
    "other",
)

DIRECT_SOURCE = "(direct)"
NO_MEDIUM = "(none)"
NOT_SET = "(not set)"

# What each click id says about the visit: (source, medium).
_CLICK_ID_LABELS: dict[str, tuple[str, str]] = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "yclid": ("yandex", "cpc"),
    "ttclid": ("tiktok", "cpc"),
    "fbclid": ("facebook", "social"),
}

_MEDIUM_BY_KIND = {
    ReferrerKind.SEARCH: "organic",
    ReferrerKind.SOCIAL: "social",
    ReferrerKind.EMAIL: "email",
}

# Channel grouping, after GA4's default channel group, reduced to our nine channels.
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_PAID_MEDIUM = re.compile(r"^(?:.*cp.*|ppc|retargeting|paid.*|sem)$")
_PAID_SOCIAL_MEDIA = frozenset(
    {"paid_social", "paidsocial", "paid-social", "paid social", "social_paid", "social-paid"}
)
_SOCIAL_MEDIA = frozenset(
    {"social", "social-network", "social_network", "social-media", "social_media", "sm", "smm"}
    | {"social network", "social media"}
)
_EMAIL_NAMES = frozenset({"email", "e-mail", "e_mail", "e mail", "newsletter", "mail"})
_REFERRAL_MEDIA = frozenset({"referral", "app", "link"})
_SEARCH_SOURCES = SOURCE_NAMES_BY_KIND[ReferrerKind.SEARCH] | {
    "adwords",
    "googleads",
    "google_ads",
    "google-ads",
    "yandex_direct",
    "yandexdirect",
    "microsoft",
    "microsoft_ads",
}
_SOCIAL_SOURCES = SOURCE_NAMES_BY_KIND[ReferrerKind.SOCIAL] | {
    "fb",
    "ig",
    "meta",
    "x",
    "tw",
    "vkontakte",
    "odnoklassniki",
    "tg",
}
_EMAIL_SOURCES = SOURCE_NAMES_BY_KIND[ReferrerKind.EMAIL] | _EMAIL_NAMES
_HOST = re.compile(r"[\w.-]{1,253}")


@dataclass(frozen=True)
class VisitFacts:
    """What the tracking script reports about the page a visit landed on."""

    landing_url: str
    referrer: str = ""
    site_hosts: frozenset[str] = frozenset()
    """The project's own domains (and their subdomains): a referrer from them is internal."""


@dataclass(frozen=True)
class Classification:
    """Where a visit came from, with the evidence and the steps that led there."""

    source: str
    medium: str
    campaign: str | None
    keyword: str | None
    channel: str
    click_ids: dict[str, str]
    utm: dict[str, str]
    landing_path: str
    referrer_host: str | None
    trace: tuple[str, ...]
    landing_url: str = ""
    """The landing URL as read (capped), for `landing_url` rule conditions."""
    landing_host: str | None = None


@dataclass
class _Url:
    """The parts of a URL this module reads."""

    host: str | None = None
    path: str = ""
    query: list[tuple[str, str]] = field(default_factory=list)


def classify_visit(facts: VisitFacts) -> Classification:
    """Classify a visit by UTM tags, then click ids, then the referrer; direct otherwise."""
    trace: list[str] = []
    landing_url = _capped(facts.landing_url, "landing url", trace)
    referrer = _capped(facts.referrer, "referrer", trace)
    landing = _read_url(landing_url, "landing url", trace)
    params = _first_values(landing.query)
    utm = _pick(params, UTM_KEYS)
    click_ids = _pick(params, CLICK_ID_KINDS)

    referrer_url = _read_url(referrer, "referrer", trace) if referrer.strip() else _Url()
    referrer_host = normalise_host(referrer_url.host) if referrer_url.host else None
    known = lookup_referrer(referrer_host) if referrer_host else None
    internal = referrer_host is not None and _is_internal(
        referrer_host, facts.site_hosts, landing.host
    )

    source, medium = _from_referrer(referrer, referrer_host, known, internal, trace)
    if click_ids:
        source, medium = _from_click_ids(click_ids, known, trace)
    if "utm_source" in utm or "utm_medium" in utm:
        source, medium = _from_utm(utm, source, medium, click_ids, trace)

    keyword = utm.get("utm_term")
    if keyword is None and known is not None and known.kind is ReferrerKind.SEARCH:
        keyword = _search_query(known, referrer_url.query)
        if keyword is not None:
            trace.append(f"keyword from the {known.name} search query")
    channel = channel_for(source, medium)
    trace.append(f"channel {channel} from {source} / {medium}")
    return Classification(
        source=source,
        medium=medium,
        campaign=utm.get("utm_campaign"),
        keyword=keyword,
        channel=channel,
        click_ids=click_ids,
        utm=utm,
        landing_path=landing.path,
        referrer_host=referrer_host,
        trace=tuple(trace),
        landing_url=landing_url,
        landing_host=normalise_host(landing.host) if landing.host else None,
    )


def channel_for(source: str, medium: str) -> str:
    """The channel of a source / medium pair (GA4's default grouping, in our nine channels).

    Paid media (cpc, ppc, paid*, anything with "cp") are paid social for a social source and
    paid search for any other: we have no "paid other", and a cpc click is a search ad far more
    often than not. Display media come before paid ones, so cpm is display.
    """
    source, medium = source.strip().lower(), medium.strip().lower()
    if source == DIRECT_SOURCE and medium in (NO_MEDIUM, NOT_SET, ""):
        return "direct"
    social_source = _is_known(source, _SOCIAL_SOURCES, ReferrerKind.SOCIAL)
    if medium in _DISPLAY_MEDIA:
        return "display"
    if medium in _PAID_SOCIAL_MEDIA:
        return "paid_social"
    if _PAID_MEDIUM.match(medium):
        return "paid_social" if social_source else "paid_search"
    if medium in _SOCIAL_MEDIA:
        return "organic_social"
    if medium in _EMAIL_NAMES:
        return "email"
    if medium == "organic":
        return "organic_search"
    if social_source:
        return "organic_social"
    if _is_known(source, _SEARCH_SOURCES, ReferrerKind.SEARCH):
        return "organic_search"
    if _is_known(source, _EMAIL_SOURCES, ReferrerKind.EMAIL):
        return "email"
    if medium in _REFERRAL_MEDIA:
        return "referral"
    return "other"


def normalise_host(host: str) -> str:
    """A host lower-cased, without port, trailing dot, and a leading `www.` or `m.`."""
    host = host.strip().lower().rstrip(".")
    for prefix in ("www.", "m."):
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            host = host[len(prefix) :]
            break
    return host


def _is_known(source: str, names: frozenset[str], kind: ReferrerKind) -> bool:
    if source in names:
        return True
    known = lookup_referrer(normalise_host(source)) if "." in source else None
    return known is not None and known.kind is kind


def _from_referrer(
    referrer: str,
    host: str | None,
    known: KnownReferrer | None,
    internal: bool,
    trace: list[str],
) -> tuple[str, str]:
    if not referrer.strip():
        trace.append("no referrer")
        return DIRECT_SOURCE, NO_MEDIUM
    if host is None:
        trace.append("referrer gives no host: direct")
        return DIRECT_SOURCE, NO_MEDIUM
    if internal:
        trace.append(f"referrer {host} is this site")
        return DIRECT_SOURCE, NO_MEDIUM
    if known is not None:
        trace.append(f"referrer {host} is {known.kind.value} {known.name}")
        return known.name, _MEDIUM_BY_KIND[known.kind]
    trace.append(f"referrer {host} is another site")
    return host, "referral"


def _from_click_ids(
    click_ids: dict[str, str], known: KnownReferrer | None, trace: list[str]
) -> tuple[str, str]:
    kind = next(k for k in CLICK_ID_KINDS if k in click_ids)
    source, medium = _CLICK_ID_LABELS[kind]
    if kind == "fbclid":
        if known is not None and known.kind is ReferrerKind.SOCIAL:
            source = known.name
        trace.append(f"click id fbclid: {source} / {medium} (paid only when UTM says so)")
    else:
        trace.append(f"click id {kind}: {source} / {medium}")
    return source, medium


def _from_utm(
    utm: dict[str, str],
    fallback_source: str,
    fallback_medium: str,
    click_ids: dict[str, str],
    trace: list[str],
) -> tuple[str, str]:
    source = utm.get("utm_source", "").lower()
    medium = utm.get("utm_medium", "").lower()
    shown = ", ".join(f"{key}={utm[key]}" for key in ("utm_source", "utm_medium") if key in utm)
    trace.append(shown)
    if not source:
        source = fallback_source if fallback_source != DIRECT_SOURCE else NOT_SET
        trace.append(f"no utm_source: source {source}")
    if not medium:
        medium = fallback_medium if click_ids else NOT_SET
        trace.append(f"no utm_medium: medium {medium}")
    return source, medium


def _search_query(known: KnownReferrer, query: list[tuple[str, str]]) -> str | None:
    values = _first_values(query)
    for name in known.query_params:
        value = values.get(name, "").strip()
        if value:
            return value[:MAX_VALUE_LENGTH]
    return None


def _is_internal(host: str, site_hosts: frozenset[str], landing_host: str | None) -> bool:
    own = {normalise_host(h) for h in site_hosts if h}
    if landing_host:
        own.add(normalise_host(landing_host))
    return any(host == h or host.endswith("." + h) for h in own)


def _capped(value: str, what: str, trace: list[str]) -> str:
    if not isinstance(value, str):
        trace.append(f"{what} is not text, ignored")
        return ""
    if len(value) > MAX_FIELD_LENGTH:
        trace.append(f"{what} cut to {MAX_FIELD_LENGTH} characters")
        return value[:MAX_FIELD_LENGTH]
    return value


def _read_url(url: str, what: str, trace: list[str]) -> _Url:
    """The host, path and query of a URL; unreadable parts are left empty and noted."""
    text = url.strip()
    if not text:
        return _Url()
    if "://" not in text and not text.startswith(("/", "?")):
        text = "//" + text  # "example.com/page": a host without a scheme
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        trace.append(f"{what} unreadable, ignored")
        return _Url()
    try:
        query = parse_qsl(parts.query, keep_blank_values=False, errors="replace")
    except ValueError:
        trace.append(f"{what} query unreadable, ignored")
        query = []
    if len(query) > MAX_QUERY_PAIRS:
        trace.append(f"{what} has {len(query)} parameters, read the first {MAX_QUERY_PAIRS}")
        query = query[:MAX_QUERY_PAIRS]
    if host and not _HOST.fullmatch(host):
        trace.append(f"{what} has no readable host")
        host = None
    return _Url(host=host or None, path=parts.path or ("/" if host else ""), query=query)


def _first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameter names lower-cased; the first non-empty value of each."""
    out: dict[str, str] = {}
    for key, value in pairs:
        name = key.strip().lower()
        if name not in out and value.strip():
            out[name] = value.strip()[:MAX_VALUE_LENGTH]
    return out


def _pick(params: dict[str, str], keys: Iterable[str]) -> dict[str, str]:
    return {key: params[key] for key in keys if key in params}
