"""The body of a CRM event (call.started, call.ended, call.updated, lead.created), and a sample.

A CRM gets one JSON object per event, built here from what the delivery service read about
the call or lead (docs/integrations.md lists the fields). The delivery service names a
later change of a call `call.updated.<n>` so each change is its own delivery; the body says
`call.updated` and lists what changed (`facts.extra["changed"]`: recording, tags, target,
transcript...). `sample_facts` is a made-up call for the "send a test" button.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ringtrail.domain.conversions import Conversion, ConversionFacts, VisitFacts

EVENTS = ("call.started", "call.ended", "call.updated", "lead.created")
DESTINATION_EVENTS = frozenset({"call", "lead", *EVENTS})
"""What a CRM destination asks the delivery service for: the "call" and "lead" event
families (services/deliveries/enqueue.py), named by their events too."""
SCHEMA_VERSION = 1
ANALYTICS_IDS = (
    "gclid",
    "gbraid",
    "wbraid",
    "yclid",
    "fbclid",
    "ga_client_id",
    "ga_session_id",
    "ym_uid",
    "fbp",
    "fbc",
)


class UnknownEvent(ValueError):
    """An event name no CRM event is built for."""


def event_kind(event: str) -> str:
    """The event a delivery's name stands for: `call.updated.3` is `call.updated`."""
    if event.startswith("call.updated"):
        return "call.updated"
    if event not in EVENTS:
        raise UnknownEvent(event)
    return event


def event_order(event: str) -> int:
    """Where a delivery's event falls among one call's: started, ended, then each update."""
    if event == "call.started":
        return 0
    if event == "call.ended":
        return 1
    if event.startswith("call.updated."):
        number = event.rsplit(".", 1)[1]
        return 2 + int(number) if number.isdigit() else 2
    return -1


def in_order(answers: Any) -> list[Mapping[str, Any]]:
    """Earlier answers (`facts.extra["previous_responses"]`: by event name, or a list) in the
    order their events happened."""
    if isinstance(answers, Mapping):
        ordered = sorted(answers.items(), key=lambda item: event_order(str(item[0])))
        return [answer for _name, answer in ordered if isinstance(answer, Mapping)]
    if isinstance(answers, (list, tuple)):
        return [answer for answer in answers if isinstance(answer, Mapping)]
    return []


def snapshot(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a sent body said about the things a `call.updated` reports changes of."""
    transcript = body.get("transcript")
    return {
        "recording": bool(body.get("recording_url")),
        "tags": list(body.get("tags") or ()),
        "target": body.get("target"),
        "transcript": len(transcript) if isinstance(transcript, str) else 0,
        "deal_value": body.get("deal_value"),
    }


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The names of what differs between two snapshots (all that is set, without a before)."""
    if before is None:
        return sorted(name for name, value in after.items() if value not in (None, False, 0, []))
    return sorted(name for name in after if before.get(name) != after[name])


def delivery_id(project_id: int, subject_kind: str, subject_id: int, event: str) -> str:
    """The id a receiver deduplicates by: the same for every retry of one delivery."""
    return f"rt-{project_id}-{subject_kind}-{subject_id}-{event}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _source(facts: ConversionFacts) -> dict[str, Any]:
    visit = facts.visit
    utm = dict(visit.utm) if visit is not None else {}
    return {
        "source": facts.source or (visit.source if visit else None),
        "medium": facts.medium or (visit.medium if visit else None),
        "campaign": facts.campaign or (visit.campaign if visit else None),
        "keyword": visit.keyword if visit else None,
        "landing_page": facts.landing_page or (visit.landing_url if visit else None) or None,
        "referrer": (visit.referrer if visit else None) or None,
        "utm": {key: utm[key] for key in sorted(utm)},
    }


def _analytics(facts: ConversionFacts) -> dict[str, str]:
    visit = facts.visit
    if visit is None:
        return {}
    found = {name: getattr(visit, name, None) for name in ANALYTICS_IDS}
    return {name: str(value) for name, value in found.items() if value}


def event_body(facts: ConversionFacts, event: str, sequence: int, sent_for: str) -> dict[str, Any]:
    """The JSON object sent for `event` (a delivery's event name) about the facts' subject.

    `sent_for` is the delivery id. Raises UnknownEvent for an event that is not a CRM event.
    """
    kind = event_kind(event)
    subject: dict[str, Any] = {"kind": facts.subject_kind, "id": facts.subject_id}
    body: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "event": kind,
        "delivery_id": sent_for,
        "sequence": sequence,
        "project_id": facts.project_id,
        "occurred_at": _iso(facts.occurred_at),
        "subject": subject,
        "caller": {"phone": facts.phone_e164, "name": facts.name, "email": facts.email},
        "source": _source(facts),
        "analytics_ids": _analytics(facts),
        "first_time": facts.is_first_time,
        "target": facts.is_target,
        "tags": sorted(facts.tags),
        "recording_url": facts.recording_url,
        "deal_value": _money(facts.deal_value),
        "currency": facts.currency,
    }
    if facts.subject_kind == "call":
        body["call"] = {
            "id": facts.subject_id,
            "status": facts.status,
            "answered": facts.answered,
            "duration_seconds": facts.duration_seconds,
            "talk_seconds": facts.talk_seconds,
            "tracking_number": facts.extra.get("tracking_number"),
        }
        body["transcript"] = facts.transcript
    else:
        body["lead"] = {
            "id": facts.subject_id,
            "kind": facts.lead_kind,
            "call_id": facts.extra.get("call_id"),
        }
    if kind == "call.started":
        # Nothing is known yet of how the call ends; say so rather than send zeros.
        body["call"].update(answered=None, duration_seconds=None, talk_seconds=None)
        body["recording_url"] = None
        body.pop("transcript", None)
    if kind == "call.updated":
        given = facts.extra.get("changed")
        if given:
            body["changed"] = sorted({str(name) for name in given})
        else:
            earlier = [a.get("sent") for a in in_order(facts.extra.get("previous_responses"))]
            last = next((s for s in reversed(earlier) if isinstance(s, Mapping)), None)
            body["changed"] = changes(last, snapshot(body))
    return body


def sample_facts(
    project_id: int, now: datetime, *, time_zone: str = "UTC", currency: str = "USD"
) -> ConversionFacts:
    """A made-up answered call of three minutes from a Google Ads click that ended a minute
    before `now`, for the "send a test" button (subject id 0: no real call has it)."""
    started = now - timedelta(minutes=4)
    visit = VisitFacts(
        started_at=started - timedelta(minutes=6),
        landing_url="https://example.com/offer?utm_source=google&utm_medium=cpc",
        referrer="https://www.google.com/",
        source="google",
        medium="cpc",
        campaign="spring-sale",
        keyword="buy a flat",
        utm={
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "spring-sale",
            "utm_term": "buy a flat",
        },
        gclid="TeSt-GcLiD-sample",
        ga_client_id="1234567890.1700000000",
        ga_session_id="1700000000",
    )
    return ConversionFacts(
        project_id=project_id,
        project_time_zone=time_zone,
        currency=currency,
        default_country="US",
        subject_kind="call",
        subject_id=0,
        occurred_at=started,
        phone_e164="+15550100123",
        name="Test caller (sample)",
        answered=True,
        talk_seconds=170,
        duration_seconds=185,
        status="answered",
        is_first_time=True,
        is_target=True,
        tags=("sample",),
        source="google",
        medium="cpc",
        campaign="spring-sale",
        landing_page="https://example.com/offer",
        lead_kind="call",
        visit=visit,
        extra={"sample": True, "tracking_number": "+15550100999"},
    )


def sample_conversion(event: str = "call.ended") -> Conversion:
    """The conversion a test message goes out as."""
    return Conversion(name="sample", value=None, currency="USD", event=event, sequence=1)
