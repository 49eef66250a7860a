"""Trying a destination before real calls reach it: a sample conversion sent through the
destination's own `prepare` and `send` ("Send a test"), or through its `validate` step where
it has one (GA4's debug endpoint: "Validate").

The sample is a fake call happening now, with ids that say they are tests (a gclid
`TEST-GCLID-...`, a GA client id, `_fbp`/`_fbc`, a Yandex ClientId), so the destination's
real checks run and an ad platform's report shows the test for what it is. Nothing is
written to the delivery log: a test is not a conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from ringtrail.domain.conversion_rules import (
    CONSENT_KEY,
    CONVERSION_EVENT,
    ConversionRule,
    evaluate,
)
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    Destination,
    Prepared,
    SendResult,
    Skip,
    VisitFacts,
)
from ringtrail.integrations.registry import UnknownDestination, destination
from ringtrail.services.deliveries.destinations import config_of, rule_of
from ringtrail.services.errors import Conflict
from ringtrail.storage.models import IntegrationDestination, Project

TEST_PHONE = "+380501234567"
SAMPLE_SUBJECT_ID = 0  # no real call has id 0
TEST_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class CheckOutcome:
    """What a test or a validation came to, in words: `outcome` is accepted, rejected,
    retry (the destination could not be reached or asked to try later) or skipped (the
    destination's rules sent nothing, `reason` says why)."""

    outcome: str
    reason: str = ""
    status_code: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    messages: Sequence[str] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == "accepted"


def sample_facts(
    project: Project, now: datetime, rule: ConversionRule | None = None
) -> ConversionFacts:
    """A fake answered, target, first-time call made a few minutes ago, from a visit with every
    test id, carrying the tags the rule asks for, so the rule lets it through."""
    rule = rule or ConversionRule()
    tags = ("test", *rule.required_tags, *list(rule.tag_values)[:1])
    stamp = int(now.timestamp())
    visit = VisitFacts(
        started_at=now - timedelta(minutes=10),
        landing_url="https://example.com/?utm_source=google&utm_medium=cpc&gclid=TEST",
        source="google",
        medium="cpc",
        campaign="ringtrail-test",
        utm={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "ringtrail-test"},
        gclid=f"TEST-GCLID-{stamp}",
        yclid=f"{stamp}0000000001",
        ga_client_id=f"555.{stamp}",
        ga_session_id=str(stamp),
        ym_uid=f"{stamp}000001",
        fbp=f"fb.1.{stamp * 1000}.1234567890",
        fbc=f"fb.1.{stamp * 1000}.TEST-FBCLID",
        user_agent="Ringtrail test",
    )
    return ConversionFacts(
        project_id=project.id,
        project_time_zone=project.timezone,
        currency=project.currency,
        default_country=project.default_country,
        subject_kind="call",
        subject_id=SAMPLE_SUBJECT_ID,
        occurred_at=now - timedelta(minutes=5),
        phone_e164=TEST_PHONE,
        name="Ringtrail test",
        answered=True,
        talk_seconds=95,
        duration_seconds=110,
        status="answered",
        is_first_time=True,
        is_target=True,
        tags=tuple(dict.fromkeys(tags)),
        deal_value=Decimal("100.00"),
        source="google",
        medium="cpc",
        campaign="ringtrail-test",
        landing_page=visit.landing_url,
        lead_kind="call",
        consent={CONSENT_KEY: True, "ad_user_data": True, "ad_personalization": True},
        visit=visit,
        extra={"test": True},
    )


def _messages(response: Mapping[str, Any]) -> list[str]:
    """Validation messages a debug endpoint answered with, as text."""
    found = response.get("validationMessages") or response.get("messages") or []
    if not isinstance(found, list):
        return [str(found)]
    return [
        str(item.get("description") or item) if isinstance(item, dict) else str(item)
        for item in found
    ]


def _result(
    prepared: Prepared, destination: Destination, config: BaseModel, result: Any
) -> CheckOutcome:
    payload = destination.masked(prepared.payload, config)
    if isinstance(result, SendResult):
        return CheckOutcome(
            outcome=result.outcome,
            reason=result.reason,
            status_code=result.status_code,
            payload=payload,
            response=result.response,
            messages=_messages(result.response),
        )
    messages = [str(item) for item in result] if isinstance(result, list | tuple) else []
    return CheckOutcome(
        outcome="rejected" if messages else "accepted",
        reason="; ".join(messages),
        payload=payload,
        messages=messages,
    )


def sample_event(destination: Destination) -> str:
    """The event a test sends: a conversion, else a call's end, else a new lead."""
    wanted = getattr(destination, "events", None) or frozenset({"conversion"})
    if "conversion" in wanted:
        return CONVERSION_EVENT
    return "call.ended" if "call" in wanted else "lead.created"


def sample_conversion(
    destination: Destination, rule: ConversionRule, facts: ConversionFacts
) -> Conversion | Skip:
    """What the destination's rule makes of the sample (consent given, so never refused)."""
    return evaluate(rule, facts, sample_event(destination), on_change=destination.on_change)


def can_validate(destination: Destination) -> bool:
    """Whether the destination has a validation step besides sending."""
    return callable(getattr(destination, "validate", None))


def run_check(
    destination: Destination,
    config: BaseModel,
    facts: ConversionFacts,
    conversion: Conversion | Skip,
    now: datetime,
    *,
    validate: bool = False,
    client_factory: Callable[[], httpx.Client] | None = None,
) -> CheckOutcome:
    """Prepare the sample and send it (or validate it); every failure comes back in words."""
    if isinstance(conversion, Skip):
        return CheckOutcome(outcome="skipped", reason=conversion.words)
    prepared = destination.prepare(facts, conversion, config, now)
    if isinstance(prepared, Skip):
        return CheckOutcome(outcome="skipped", reason=prepared.words)
    step = getattr(destination, "validate") if validate else destination.send  # noqa: B009
    make_client = client_factory or (lambda: httpx.Client(timeout=TEST_TIMEOUT_SECONDS))
    try:
        with make_client() as client:
            answer = step(client, config, prepared)
    except httpx.HTTPError as exc:
        return CheckOutcome(
            outcome="retry",
            reason=f"could not reach the destination: {exc.__class__.__name__}: {exc}",
            payload=destination.masked(prepared.payload, config),
        )
    return _result(prepared, destination, config, answer)


def _loaded(row: IntegrationDestination) -> tuple[Destination, BaseModel]:
    try:
        kind = destination(row.kind)
    except (UnknownDestination, ImportError):
        raise Conflict(f"this version of Ringtrail cannot send to {row.kind!r}") from None
    try:
        return kind, config_of(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "config"
        raise Conflict(f"the settings need fixing first: {where}: {first.get('msg')}") from None


def check_destination(
    project: Project,
    row: IntegrationDestination,
    now: datetime,
    *,
    validate: bool = False,
    client_factory: Callable[[], httpx.Client] | None = None,
) -> CheckOutcome:
    """Send the sample to the destination (or validate it): Conflict, with the reason, when
    the kind is missing, the settings no longer validate, or it has no validation step."""
    kind, config = _loaded(row)
    if validate and not can_validate(kind):
        raise Conflict(
            f"{kind.label} has no validation step; use the test instead, which really sends"
        )
    rule = rule_of(row)
    facts = sample_facts(project, now, rule)
    conversion = sample_conversion(kind, rule, facts)
    return run_check(
        kind, config, facts, conversion, now, validate=validate, client_factory=client_factory
    )
