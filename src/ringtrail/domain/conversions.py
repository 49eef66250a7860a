"""The facts about a call or lead that a conversion is made of, and what a rule makes of them.

Plain values, no I/O: the delivery service reads them from the database
(`services.deliveries.facts`), the conversion rules (`domain.conversion_rules`) and the
destinations (`integrations`) read them. `ringtrail.integrations.base` re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

OnChange = Literal["update", "restatement", "nothing"]
"""What a destination can do when a call it already got changes later."""


@dataclass(frozen=True)
class VisitFacts:
    """The visit a call or lead was attributed to: the ids the ad platforms match on."""

    started_at: datetime
    landing_url: str = ""
    referrer: str = ""
    source: str = "(direct)"
    medium: str = "(none)"
    campaign: str | None = None
    keyword: str | None = None
    utm: Mapping[str, str] = field(default_factory=dict)
    gclid: str | None = None
    gbraid: str | None = None
    wbraid: str | None = None
    yclid: str | None = None
    fbclid: str | None = None
    ga_client_id: str | None = None
    ga_session_id: str | None = None
    ym_uid: str | None = None
    fbp: str | None = None
    fbc: str | None = None
    user_agent: str = ""
    ip_address: str | None = None  # only where kept; Ringtrail normally keeps a hash


@dataclass(frozen=True)
class ConversionFacts:
    """Everything a destination may put in a message about one call or lead, read once by the
    delivery service from the database. Times are aware UTC datetimes."""

    project_id: int
    project_time_zone: str
    currency: str
    default_country: str
    subject_kind: Literal["call", "lead"]
    subject_id: int
    occurred_at: datetime  # the call's start or the lead's creation
    phone_e164: str | None = None
    email: str | None = None
    name: str | None = None
    answered: bool = False
    talk_seconds: int | None = None
    duration_seconds: int | None = None
    status: str | None = None
    is_first_time: bool | None = None
    is_target: bool | None = None
    tags: Sequence[str] = ()
    deal_value: Decimal | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    landing_page: str | None = None
    recording_url: str | None = None  # a signed link, when the call has a recording
    transcript: str | None = None
    lead_kind: str | None = None  # call, form, callback
    consent: Mapping[str, bool] = field(default_factory=dict)
    visit: VisitFacts | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversion:
    """What the project's conversion rule made of the facts for one destination."""

    name: str
    value: Decimal | None
    currency: str
    event: str  # the delivery's event name: "conversion", "call.ended", "lead.created"...
    sequence: int = 0  # order among one subject's events for one destination
    restates: bool = False  # a later message about a conversion already sent


@dataclass(frozen=True)
class Skip:
    """Nothing to send, and why: `code` for machines and totals, `words` for the marketer."""

    code: str
    words: str
