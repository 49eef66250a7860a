"""Analytics ids read from a visitor's cookies: GA client and session ids, gclid, Meta, Metrica.

Every parser validates strictly and answers None for anything that is not the documented
format; nothing here raises on arbitrary text. Formats:

- `_ga`: `GA1.<depth>.<random>.<seconds>` → client id `<random>.<seconds>`.
- `_ga_<SUFFIX>`: `GS1.1.<session id>.<n>.<engaged>.<ts>...` (old) or
  `GS2.1.s<session id>$o<n>$g<0|1>$t<ts>...` (2025 on) → session id per measurement id.
- `_gcl_aw`: `GCL.<seconds>.<gclid>`; `_gac_<property>`: `1.<seconds>.<gclid>` (older tags).
- `_fbp`: `fb.<index>.<ms>.<random>`; `_fbc`: `fb.<index>.<ms>.<fbclid>`, or built from the
  landing URL's fbclid as `fb.1.<first seen ms>.<fbclid>`, as Meta documents.
- `_ym_uid`: 17 to 20 digits, the first ten the creation time in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_COOKIE_LENGTH = 1000
"""Longer cookie values are not read at all."""

_GA_CLIENT = re.compile(r"(?:GA1\.\d{1,2}\.)?(\d{1,20}\.\d{1,20})")
_GS1 = re.compile(r"GS1\.\d{1,2}\.(\d{1,20})\.\d{1,10}(?:\.[A-Za-z0-9_-]*)*")
_GS2 = re.compile(r"GS2\.\d{1,2}\.s(\d{1,20})(?:\$[a-z][A-Za-z0-9._-]*)*")
_GA_SUFFIX = re.compile(r"[A-Za-z0-9]{1,32}")
_CLICK_ID = r"[A-Za-z0-9_\-]{1,500}"
_GCL_AW = re.compile(rf"GCL\.\d{{1,12}}\.({_CLICK_ID})")
_GAC = re.compile(rf"1\.\d{{1,12}}\.({_CLICK_ID})")
_FBP = re.compile(r"fb\.\d\.\d{1,16}\.\d{1,32}")
_FBC = re.compile(rf"fb\.\d\.\d{{1,16}}\.{_CLICK_ID}")
_YM_UID = re.compile(r"\d{17,20}")
_CLICK_ID_VALUE = re.compile(_CLICK_ID)


@dataclass(frozen=True)
class AnalyticsIds:
    """The ids a visit carries for the analytics and ad platforms conversions are sent to."""

    ga_client_id: str | None = None
    ga_session_ids: dict[str, str] = field(default_factory=dict)
    """Measurement-id suffix (from the `_ga_<SUFFIX>` cookie name) → GA4 session id."""
    ym_uid: str | None = None
    fbp: str | None = None
    fbc: str | None = None
    gclid: str | None = None
    """From the landing URL first, else from `_gcl_aw`, else from a `_gac_*` cookie."""


def extract_analytics_ids(
    cookies: Mapping[str, str],
    click_ids: Mapping[str, str] | None = None,
    now_ms: int | None = None,
) -> AnalyticsIds:
    """The valid ids among the cookies and URL click ids; an fbc is built from fbclid at now_ms."""
    clicks = click_ids or {}
    session_ids: dict[str, str] = {}
    gac: str | None = None
    for name, value in cookies.items():
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        if name.startswith("_ga_") and _GA_SUFFIX.fullmatch(name[4:]):
            session_id = parse_ga4_session_id(value)
            if session_id is not None:
                session_ids[name[4:]] = session_id
        elif name.startswith("_gac_") and gac is None:
            gac = parse_gac(value)
    url_gclid = _valid_click_id(clicks.get("gclid"))
    fbc = parse_fbc(cookies.get("_fbc", ""))
    if fbc is None:
        fbc = build_fbc(clicks.get("fbclid"), now_ms)
    return AnalyticsIds(
        ga_client_id=parse_ga_client_id(cookies.get("_ga", "")),
        ga_session_ids=session_ids,
        ym_uid=parse_ym_uid(cookies.get("_ym_uid", "")),
        fbp=parse_fbp(cookies.get("_fbp", "")),
        fbc=fbc,
        gclid=url_gclid or parse_gcl_aw(cookies.get("_gcl_aw", "")) or gac,
    )


def parse_ga_client_id(value: str) -> str | None:
    """The GA client id from a `_ga` cookie (`GA1.1.123.456` → `123.456`), or a bare client id."""
    match = _full(_GA_CLIENT, value)
    return match.group(1) if match else None


def parse_ga4_session_id(value: str) -> str | None:
    """The session id from a `_ga_<SUFFIX>` cookie in the GS1 or GS2 format."""
    match = _full(_GS2, value) or _full(_GS1, value)
    return match.group(1) if match else None


def parse_gcl_aw(value: str) -> str | None:
    """The gclid from a `_gcl_aw` cookie (`GCL.<seconds>.<gclid>`)."""
    match = _full(_GCL_AW, value)
    return match.group(1) if match else None


def parse_gac(value: str) -> str | None:
    """The gclid from a `_gac_<property>` cookie (`1.<seconds>.<gclid>`)."""
    match = _full(_GAC, value)
    return match.group(1) if match else None


def parse_fbp(value: str) -> str | None:
    """The `_fbp` value as Meta wants it (unchanged), when it has the documented shape."""
    match = _full(_FBP, value)
    return match.group(0) if match else None


def parse_fbc(value: str) -> str | None:
    """The `_fbc` value as Meta wants it (unchanged), when it has the documented shape."""
    match = _full(_FBC, value)
    return match.group(0) if match else None


def build_fbc(fbclid: str | None, now_ms: int | None) -> str | None:
    """`fb.1.<now_ms>.<fbclid>` for a URL fbclid with no `_fbc` cookie (fbclid kept verbatim)."""
    fbclid = _valid_click_id(fbclid)
    if fbclid is None or now_ms is None or now_ms <= 0:
        return None
    return f"fb.1.{now_ms}.{fbclid}"


def parse_ym_uid(value: str) -> str | None:
    """The Yandex Metrica ClientID from `_ym_uid` (17 to 20 digits)."""
    match = _full(_YM_UID, value)
    return match.group(0) if match else None


def _valid_click_id(value: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _CLICK_ID_VALUE.fullmatch(value) else None


def _full(pattern: re.Pattern[str], value: str) -> re.Match[str] | None:
    if not isinstance(value, str) or len(value) > MAX_COOKIE_LENGTH:
        return None
    return pattern.fullmatch(value.strip().strip('"'))
