"""Conversion rules: which calls and leads a destination counts, under what name and value.

A rule belongs to one destination (an ad platform, analytics, a CRM). It is read from the
destination's `rules` JSON (`parse_rule`), and applied to the facts of one call or lead at
send time (`evaluate`), so a call marked target an hour after it ended is sent then. The
answer is a `Conversion` to send, or a `Skip` whose `code` is one of the constants below and
whose `words` a marketer understands. Codes in `REOPENABLE` may change when the call does (a
target mark, a tag, a deal value): such a skipped delivery is opened again on the next change.

CRM events (`call.started`, `call.ended`, `call.updated.N`, `lead.created`) are not filtered by
the rule: a CRM gets every call and lead; the rule only gives them their value. Consent
applies to every event sent to an ad platform ("conversion" events) when the project's mode
is `require`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from ringtrail.domain.conversions import Conversion, ConversionFacts, OnChange, Skip

ValueMode = Literal["none", "fixed", "deal", "tags"]
ConsentMode = Literal["ignore", "require"]
VALUE_MODES: tuple[ValueMode, ...] = ("none", "fixed", "deal", "tags")
CONSENT_MODES: tuple[ConsentMode, ...] = ("ignore", "require")

CONVERSION_EVENT = "conversion"
"""The event name of the first conversion of a call or lead sent to an ad platform."""
CRM_EVENTS = ("call.started", "call.ended", "call.updated", "lead.created")

# Skip codes: stable, for totals and filters.
CALLS_NOT_COUNTED = "calls_not_counted"
LEADS_NOT_COUNTED = "leads_not_counted"
LEAD_KIND_NOT_COUNTED = "lead_kind_not_counted"
NOT_ANSWERED = "not_answered"
TALK_TOO_SHORT = "talk_too_short"
NOT_FIRST_TIME = "not_first_time"
NOT_TARGET_YET = "not_target_yet"
MARKED_NOT_TARGET = "marked_not_target"
MISSING_TAG = "missing_tag"
NO_VALUE = "no_value"
CONSENT_NOT_GIVEN = "consent_not_given"
UNCHANGED = "unchanged"
CHANGES_NOT_SENT = "changes_not_sent"
UNKNOWN_EVENT = "unknown_event"

REOPENABLE = frozenset({NOT_TARGET_YET, MARKED_NOT_TARGET, MISSING_TAG, NO_VALUE})
"""Skips that a later change of the call may turn into a conversion."""

CONSENT_KEY = "ad_storage"
"""The consent a visit must carry (`facts.consent[CONSENT_KEY]`) when consent is required."""

MAX_NAME_LENGTH = 100
_NAME = re.compile(r"[^\x00-\x1f]{1,100}")
_CHANGE_EVENT = re.compile(r"conversion\.(update|restatement)\.([1-9][0-9]{0,5})")
_UPDATED_EVENT = re.compile(r"call\.updated\.([1-9][0-9]{0,5})")


class RuleError(ValueError):
    """A rule value is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ConversionRule:
    """One destination's rule. The defaults count every answered call, with no value."""

    count_calls: bool = True
    answered_only: bool = True
    min_talk_seconds: int = 0
    target_only: bool = False
    first_time_only: bool = False
    required_tags: tuple[str, ...] = ()
    count_leads: bool = False
    lead_kinds: tuple[str, ...] = ("form", "callback")
    leads_target_only: bool = False
    conversion_name: str = "phone_call"
    lead_conversion_name: str = "lead"
    value_mode: ValueMode = "none"
    fixed_value: Decimal | None = None
    tag_values: Mapping[str, Decimal] = field(default_factory=dict)
    fallback_value: Decimal | None = None
    resend_on_change: bool = False


@dataclass(frozen=True)
class SentConversion:
    """What an earlier accepted delivery of the same subject carried."""

    name: str
    value: Decimal | None


def _decimal(raw: Any, name: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise RuleError(name, "must be a number")
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise RuleError(name, "must be a number") from None
    if not value.is_finite() or value < 0:
        raise RuleError(name, "must be a number of zero or more")
    if value >= Decimal("1e12"):
        raise RuleError(name, "is too large")
    return value


def _bool(data: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = data.get(name, default)
    if not isinstance(raw, bool):
        raise RuleError(name, "must be true or false")
    return raw


def _names(raw: Any, name: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list | tuple):
        raise RuleError(name, "must be a list of names")
    out: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise RuleError(name, "must be a list of names")
        cleaned = item.strip()
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return tuple(out)


def _conversion_name(raw: Any, name: str, default: str) -> str:
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or not _NAME.fullmatch(raw.strip()):
        raise RuleError(name, f"must be a name of 1 to {MAX_NAME_LENGTH} characters")
    return raw.strip()


RULE_FIELDS = frozenset(
    {
        "count_calls",
        "answered_only",
        "min_talk_seconds",
        "target_only",
        "first_time_only",
        "required_tags",
        "count_leads",
        "lead_kinds",
        "leads_target_only",
        "conversion_name",
        "lead_conversion_name",
        "value_mode",
        "fixed_value",
        "tag_values",
        "fallback_value",
        "resend_on_change",
    }
)


def parse_rule(data: Mapping[str, Any] | None) -> ConversionRule:
    """The rule stored as JSON (missing keys take the defaults); RuleError names a bad field."""
    data = dict(data or {})
    unknown = sorted(set(data) - RULE_FIELDS)
    if unknown:
        raise RuleError(unknown[0], "unknown rule field")
    defaults = ConversionRule()
    talk = data.get("min_talk_seconds", 0)
    if isinstance(talk, bool) or not isinstance(talk, int) or not 0 <= talk <= 86_400:
        raise RuleError("min_talk_seconds", "must be a whole number of seconds from 0 to 86400")
    mode = data.get("value_mode", "none")
    if mode not in VALUE_MODES:
        raise RuleError("value_mode", f"must be one of {', '.join(VALUE_MODES)}")
    raw_tags = data.get("tag_values") or {}
    if not isinstance(raw_tags, Mapping):
        raise RuleError("tag_values", "must map tag names to values")
    tag_values: dict[str, Decimal] = {}
    for tag, raw in raw_tags.items():
        if not isinstance(tag, str) or not tag.strip():
            raise RuleError("tag_values", "tag names must not be empty")
        value = _decimal(raw, f"tag_values.{tag}")
        if value is None:
            raise RuleError(f"tag_values.{tag}", "must be a number")
        tag_values[tag.strip()] = value
    lead_kinds = _names(data.get("lead_kinds", list(defaults.lead_kinds)), "lead_kinds")
    for kind in lead_kinds:
        if kind not in ("form", "callback"):
            raise RuleError("lead_kinds", "must list form and/or callback")
    rule = ConversionRule(
        count_calls=_bool(data, "count_calls", defaults.count_calls),
        answered_only=_bool(data, "answered_only", defaults.answered_only),
        min_talk_seconds=talk,
        target_only=_bool(data, "target_only", defaults.target_only),
        first_time_only=_bool(data, "first_time_only", defaults.first_time_only),
        required_tags=_names(data.get("required_tags"), "required_tags"),
        count_leads=_bool(data, "count_leads", defaults.count_leads),
        lead_kinds=lead_kinds,
        leads_target_only=_bool(data, "leads_target_only", defaults.leads_target_only),
        conversion_name=_conversion_name(
            data.get("conversion_name"), "conversion_name", defaults.conversion_name
        ),
        lead_conversion_name=_conversion_name(
            data.get("lead_conversion_name"), "lead_conversion_name", defaults.lead_conversion_name
        ),
        value_mode=mode,
        fixed_value=_decimal(data.get("fixed_value"), "fixed_value"),
        tag_values=tag_values,
        fallback_value=_decimal(data.get("fallback_value"), "fallback_value"),
        resend_on_change=_bool(data, "resend_on_change", defaults.resend_on_change),
    )
    if rule.value_mode == "fixed" and rule.fixed_value is None:
        raise RuleError("fixed_value", "is needed when the value is fixed")
    if rule.value_mode == "tags" and not rule.tag_values:
        raise RuleError("tag_values", "name at least one tag and its value")
    return rule


def rule_to_json(rule: ConversionRule) -> dict[str, Any]:
    """The rule as stored: plain JSON, numbers as strings so no cent is lost."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "count_calls": rule.count_calls,
        "answered_only": rule.answered_only,
        "min_talk_seconds": rule.min_talk_seconds,
        "target_only": rule.target_only,
        "first_time_only": rule.first_time_only,
        "required_tags": list(rule.required_tags),
        "count_leads": rule.count_leads,
        "lead_kinds": list(rule.lead_kinds),
        "leads_target_only": rule.leads_target_only,
        "conversion_name": rule.conversion_name,
        "lead_conversion_name": rule.lead_conversion_name,
        "value_mode": rule.value_mode,
        "fixed_value": text(rule.fixed_value),
        "tag_values": {tag: str(value) for tag, value in rule.tag_values.items()},
        "fallback_value": text(rule.fallback_value),
        "resend_on_change": rule.resend_on_change,
    }


def conversion_value(rule: ConversionRule, facts: ConversionFacts) -> Decimal | Skip | None:
    """The value the rule gives these facts: None for no value, a Skip when none can be had."""
    if rule.value_mode == "none":
        return None
    if rule.value_mode == "fixed":
        return rule.fixed_value
    if rule.value_mode == "deal":
        if facts.deal_value is not None:
            return facts.deal_value
        if rule.fallback_value is not None:
            return rule.fallback_value
        return Skip(NO_VALUE, "no deal value yet: will send when the deal gets an amount")
    matched = [rule.tag_values[tag] for tag in facts.tags if tag in rule.tag_values]
    if matched:
        return max(matched)
    if rule.fallback_value is not None:
        return rule.fallback_value
    names = ", ".join(sorted(rule.tag_values))
    return Skip(NO_VALUE, f"no tag with a value ({names}): will send when the call gets one")


def _call_counts(rule: ConversionRule, facts: ConversionFacts) -> Skip | None:
    if not rule.count_calls:
        return Skip(CALLS_NOT_COUNTED, "this destination's rule does not count calls")
    if rule.answered_only and not facts.answered:
        return Skip(NOT_ANSWERED, "call was not answered")
    talk = facts.talk_seconds or 0
    if rule.min_talk_seconds and talk < rule.min_talk_seconds:
        return Skip(
            TALK_TOO_SHORT,
            f"talk time {talk} s is under the rule's {rule.min_talk_seconds} s",
        )
    if rule.first_time_only and facts.is_first_time is False:
        return Skip(NOT_FIRST_TIME, "repeat caller: the rule counts first-time callers only")
    if rule.target_only:
        target = _target(facts)
        if target is not None:
            return target
    missing = [tag for tag in rule.required_tags if tag not in facts.tags]
    if missing:
        return Skip(
            MISSING_TAG,
            f"no tag {', '.join(missing)} yet: will send if the call is tagged so",
        )
    return None


def _target(facts: ConversionFacts) -> Skip | None:
    if facts.is_target is None:
        return Skip(NOT_TARGET_YET, "not marked target yet: will send if it is marked target")
    if facts.is_target is False:
        return Skip(MARKED_NOT_TARGET, "marked not target: will send if it is marked target")
    return None


def _lead_counts(rule: ConversionRule, facts: ConversionFacts) -> Skip | None:
    if not rule.count_leads:
        return Skip(LEADS_NOT_COUNTED, "this destination's rule does not count form leads")
    if facts.lead_kind not in rule.lead_kinds:
        return Skip(
            LEAD_KIND_NOT_COUNTED,
            f"{facts.lead_kind or 'this'} leads are not counted by the rule",
        )
    if rule.leads_target_only:
        return _target(facts)
    return None


def consent_skip(consent_mode: ConsentMode, facts: ConversionFacts) -> Skip | None:
    """A Skip when the project requires consent and the visit did not give it."""
    if consent_mode == "require" and not facts.consent.get(CONSENT_KEY, False):
        return Skip(CONSENT_NOT_GIVEN, "consent not given: the visitor did not allow ad storage")
    return None


def change_event(event: str) -> tuple[OnChange, int] | None:
    """("update" or "restatement", N) for `conversion.update.N` and the like, else None."""
    match = _CHANGE_EVENT.fullmatch(event)
    if match is None:
        return None
    kind: OnChange = "update" if match.group(1) == "update" else "restatement"
    return kind, int(match.group(2))


def crm_sequence(event: str) -> int | None:
    """The order of a CRM event among its subject's: started 0, ended 1, updated.N 1+N."""
    if event in ("call.started", "lead.created"):
        return 0
    if event == "call.ended":
        return 1
    match = _UPDATED_EVENT.fullmatch(event)
    return None if match is None else 1 + int(match.group(1))


def may_resend(rule: ConversionRule, on_change: OnChange) -> bool:
    """Whether a change of a call already sent goes out again to this destination."""
    return rule.resend_on_change and on_change != "nothing"


def evaluate(
    rule: ConversionRule,
    facts: ConversionFacts,
    event: str,
    *,
    consent_mode: ConsentMode = "ignore",
    on_change: OnChange = "nothing",
    previous: SentConversion | None = None,
) -> Conversion | Skip:
    """What to send for `event` about the subject of `facts`, or why nothing.

    `previous` is what the last accepted conversion of this subject carried: a change event
    (`conversion.update.N`) that would carry the same name and value is skipped as unchanged,
    so nothing goes out twice.
    """
    sequence = crm_sequence(event)
    if sequence is not None:
        value = conversion_value(rule, facts)
        name = event.rsplit(".", 1)[0] if event.startswith("call.updated.") else event
        return Conversion(
            name=name,
            value=value if not isinstance(value, Skip) else None,
            currency=facts.currency,
            event=event,
            sequence=sequence,
            restates=event.startswith("call.updated."),
        )
    change = change_event(event)
    if event != CONVERSION_EVENT and change is None:
        return Skip(UNKNOWN_EVENT, f"Ringtrail does not know the event {event!r}")
    if change is not None and not may_resend(rule, on_change):
        return Skip(CHANGES_NOT_SENT, "changes after the first send are not sent by the rule")
    refused = consent_skip(consent_mode, facts)
    if refused is not None:
        return refused
    if facts.subject_kind == "call":
        counted = _call_counts(rule, facts)
        name = rule.conversion_name
    else:
        counted = _lead_counts(rule, facts)
        name = rule.lead_conversion_name
    if counted is not None:
        return counted
    value = conversion_value(rule, facts)
    if isinstance(value, Skip):
        return value
    if (
        change is not None
        and previous is not None
        and (previous.name, previous.value)
        == (
            name,
            value,
        )
    ):
        return Skip(UNCHANGED, "nothing changed that this destination takes: already sent")
    return Conversion(
        name=name,
        value=value,
        currency=facts.currency,
        event=event,
        sequence=0 if change is None else change[1],
        restates=change is not None,
    )
