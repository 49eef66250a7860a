"""Whether a call may be reported to an ad platform as a click conversion, and why not.

Google Ads matches an offline conversion to the ad click by its click id (gclid, or gbraid /
wbraid for iOS traffic), one id per conversion; the click must be younger than the
conversion action's click-through window (at most 90 days) and precede the conversion, which
may not lie in the future. Yandex Metrica links a call to a visit by the visitor's ClientId
(`_ym_uid`) or the ad click's yclid, within 21 days between visit and upload.

Every refusal carries a `code` for totals and `words` a marketer understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

GOOGLE_CLICK_WINDOW = timedelta(days=90)
"""The longest click-through window a Google Ads conversion action may have."""
YANDEX_LINK_WINDOW = timedelta(days=21)
"""Metrica links an uploaded call to a visit at most this long before the upload."""
CLOCK_SKEW = timedelta(minutes=5)
"""A conversion up to this far ahead of our clock is not "in the future" (clocks differ)."""

GoogleClickKind = Literal["gclid", "gbraid", "wbraid"]
YandexIdKind = Literal["CLIENT_ID", "YCLID"]


@dataclass(frozen=True)
class Refusal:
    """Why a conversion is not sent: `code` for machines and totals, `words` for people."""

    code: str
    words: str


@dataclass(frozen=True)
class ClickId:
    """The one click id a conversion is matched on."""

    kind: GoogleClickKind
    value: str


@dataclass(frozen=True)
class YandexId:
    """The one visitor id a Metrica call is linked on."""

    kind: YandexIdKind
    value: str


CONVERSION_BEFORE_CLICK = Refusal("conversion_before_click", "conversion time is before the click")
CONVERSION_IN_FUTURE = Refusal("conversion_in_future", "conversion time is in the future")
CALL_BEFORE_VISIT = Refusal("call_before_visit", "the call is before the visit")
NO_VISIT = Refusal("no_visit", "the call was not tied to a website visit, so there is no click")
NO_YANDEX_ID = Refusal("no_yandex_id", "no Yandex ClientId or yclid on the visit")


def click_too_old(window: timedelta) -> Refusal:
    return Refusal("click_too_old", f"click older than {window.days} days")


def visit_too_old(window: timedelta) -> Refusal:
    return Refusal(
        "visit_too_old", f"visit older than {window.days} days: Metrica no longer links it"
    )


def no_google_click(source: str | None, medium: str | None) -> Refusal:
    """The refusal for a visit without a Google click id, naming where the visit came from."""
    source = (source or "").strip()
    medium = (medium or "").strip()
    if medium == "organic":
        where = "the visit came from organic search"
        if source and source != "(direct)":
            where = f"the visit came from organic search ({source})"
    elif source in ("", "(direct)") and medium in ("", "(none)"):
        where = "the visit was direct (no ad click)"
    elif medium in ("cpc", "ppc", "paid", "paidsearch") and source.startswith("google"):
        where = "the Google Ads click arrived without one (auto-tagging off?)"
    else:
        where = f"the visit came from {source or '(unknown)'} / {medium or '(none)'}"
    return Refusal("no_gclid", f"no gclid: {where}")


def google_click_id(
    gclid: str | None, gbraid: str | None = None, wbraid: str | None = None
) -> ClickId | None:
    """The id to report, one per conversion: the gclid when the visit has one (it matches
    best), else gbraid (app), else wbraid (web); None when there is none."""
    for kind, value in (("gclid", gclid), ("gbraid", gbraid), ("wbraid", wbraid)):
        if value and value.strip():
            return ClickId(kind, value.strip())  # type: ignore[arg-type]
    return None


def check_click_window(
    clicked_at: datetime,
    converted_at: datetime,
    now: datetime,
    window: timedelta = GOOGLE_CLICK_WINDOW,
) -> Refusal | None:
    """None when a conversion at `converted_at` for a click at `clicked_at` may be sent `now`:
    after the click, not in the future, the click within `window` of the conversion and of
    now (Google refuses clicks older than the window at upload time too)."""
    if converted_at < clicked_at:
        return CONVERSION_BEFORE_CLICK
    if converted_at > now + CLOCK_SKEW:
        return CONVERSION_IN_FUTURE
    if converted_at - clicked_at > window or now - clicked_at > window:
        return click_too_old(window)
    return None


def yandex_id(
    ym_uid: str | None, yclid: str | None, prefer: YandexIdKind | None = None
) -> YandexId | None:
    """The visitor id to link a call on: the `prefer`red kind only when given, else the
    ClientId (`_ym_uid`, every Metrica visit has one) before the yclid (ad clicks only)."""
    found: dict[YandexIdKind, str] = {}
    if ym_uid and ym_uid.strip():
        found["CLIENT_ID"] = ym_uid.strip()
    if yclid and yclid.strip():
        found["YCLID"] = yclid.strip()
    order: tuple[YandexIdKind, ...] = (prefer,) if prefer else ("CLIENT_ID", "YCLID")
    for kind in order:
        if kind in found:
            return YandexId(kind, found[kind])
    return None


def check_yandex_window(
    visited_at: datetime,
    called_at: datetime,
    now: datetime,
    window: timedelta = YANDEX_LINK_WINDOW,
) -> Refusal | None:
    """None when Metrica can still link a call at `called_at` to a visit at `visited_at`
    when uploaded `now`: the call after the visit, not in the future, the visit within
    `window` of the upload."""
    if called_at < visited_at:
        return CALL_BEFORE_VISIT
    if called_at > now + CLOCK_SKEW:
        return CONVERSION_IN_FUTURE
    if now - visited_at > window:
        return visit_too_old(window)
    return None
