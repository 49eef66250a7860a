"""Conversion rules: which calls and leads count, their name and value, consent, changes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain import conversion_rules as rules
from ringtrail.domain.conversion_rules import (
    ConversionRule,
    RuleError,
    SentConversion,
    evaluate,
    parse_rule,
    rule_to_json,
)
from ringtrail.domain.conversions import Conversion, ConversionFacts, Skip

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def facts(**changes: object) -> ConversionFacts:
    base: dict[str, object] = {
        "project_id": 1,
        "project_time_zone": "Europe/Kyiv",
        "currency": "UAH",
        "default_country": "UA",
        "subject_kind": "call",
        "subject_id": 7,
        "occurred_at": AT,
        "answered": True,
        "talk_seconds": 95,
        "is_first_time": True,
    }
    base.update(changes)
    return ConversionFacts(**base)  # type: ignore[arg-type]


def test_the_default_rule_counts_an_answered_call_without_value() -> None:
    sent = evaluate(ConversionRule(), facts(), "conversion")
    assert sent == Conversion("phone_call", None, "UAH", "conversion", 0, False)


@pytest.mark.parametrize(
    ("rule", "changes", "code", "words"),
    [
        (ConversionRule(), {"answered": False}, rules.NOT_ANSWERED, "call was not answered"),
        (
            ConversionRule(min_talk_seconds=30),
            {"talk_seconds": 12},
            rules.TALK_TOO_SHORT,
            "talk time 12 s is under the rule's 30 s",
        ),
        (ConversionRule(target_only=True), {}, rules.NOT_TARGET_YET, "not marked target yet"),
        (
            ConversionRule(target_only=True),
            {"is_target": False},
            rules.MARKED_NOT_TARGET,
            "marked not target",
        ),
        (ConversionRule(first_time_only=True), {"is_first_time": False}, rules.NOT_FIRST_TIME, ""),
        (ConversionRule(required_tags=("sale",)), {}, rules.MISSING_TAG, "no tag sale yet"),
        (ConversionRule(value_mode="deal"), {}, rules.NO_VALUE, "no deal value yet"),
        (ConversionRule(count_calls=False), {}, rules.CALLS_NOT_COUNTED, ""),
    ],
)
def test_a_call_the_rule_does_not_count_is_skipped_in_words(
    rule: ConversionRule, changes: dict[str, object], code: str, words: str
) -> None:
    skipped = evaluate(rule, facts(**changes), "conversion")
    assert isinstance(skipped, Skip)
    assert skipped.code == code
    assert words in skipped.words


def test_consent_is_required_only_when_the_project_says_so() -> None:
    without = facts(consent={})
    assert isinstance(evaluate(ConversionRule(), without, "conversion"), Conversion)
    refused = evaluate(ConversionRule(), without, "conversion", consent_mode="require")
    assert refused == Skip(rules.CONSENT_NOT_GIVEN, refused.words)  # type: ignore[union-attr]
    assert "consent not given" in refused.words  # type: ignore[union-attr]
    given_ = facts(consent={"ad_storage": True})
    assert isinstance(
        evaluate(ConversionRule(), given_, "conversion", consent_mode="require"), Conversion
    )


def test_values_fixed_deal_and_per_tag_with_fallback() -> None:
    fixed = ConversionRule(value_mode="fixed", fixed_value=Decimal("150"))
    assert evaluate(fixed, facts(), "conversion").value == Decimal("150")  # type: ignore[union-attr]
    deal = ConversionRule(value_mode="deal", fallback_value=Decimal("10"))
    assert evaluate(deal, facts(), "conversion").value == Decimal("10")  # type: ignore[union-attr]
    assert evaluate(deal, facts(deal_value=Decimal("900")), "conversion").value == Decimal("900")  # type: ignore[union-attr]
    tags = ConversionRule(
        value_mode="tags", tag_values={"sale": Decimal("500"), "lead": Decimal("50")}
    )
    assert evaluate(tags, facts(tags=("lead", "sale")), "conversion").value == Decimal("500")  # type: ignore[union-attr]
    assert isinstance(evaluate(tags, facts(tags=("other",)), "conversion"), Skip)


def test_leads_count_by_kind_and_target() -> None:
    lead = facts(subject_kind="lead", lead_kind="form", answered=False, talk_seconds=None)
    assert evaluate(ConversionRule(), lead, "conversion").code == rules.LEADS_NOT_COUNTED  # type: ignore[union-attr]
    counting = ConversionRule(count_leads=True, lead_kinds=("form",), leads_target_only=True)
    assert evaluate(counting, lead, "conversion").code == rules.NOT_TARGET_YET  # type: ignore[union-attr]
    sent = evaluate(counting, facts(**{**lead.__dict__, "is_target": True}), "conversion")
    assert isinstance(sent, Conversion) and sent.name == "lead"
    callback = facts(subject_kind="lead", lead_kind="callback")
    assert evaluate(counting, callback, "conversion").code == rules.LEAD_KIND_NOT_COUNTED  # type: ignore[union-attr]


def test_changes_go_out_only_when_the_rule_and_the_destination_allow_and_something_changed() -> (
    None
):
    rule = ConversionRule(value_mode="deal", fallback_value=Decimal("0"), resend_on_change=True)
    before = SentConversion("phone_call", Decimal("0"))
    event = "conversion.restatement.1"
    never = evaluate(rule, facts(deal_value=Decimal("5")), event, previous=before)
    assert never.code == rules.CHANGES_NOT_SENT  # type: ignore[union-attr]
    same = evaluate(rule, facts(), event, on_change="restatement", previous=before)
    assert same.code == rules.UNCHANGED  # type: ignore[union-attr]
    sent = evaluate(
        rule, facts(deal_value=Decimal("5")), event, on_change="restatement", previous=before
    )
    assert sent == Conversion("phone_call", Decimal("5"), "UAH", event, 1, True)
    off = ConversionRule(resend_on_change=False)
    assert evaluate(off, facts(), event, on_change="restatement").code == rules.CHANGES_NOT_SENT  # type: ignore[union-attr]


def test_crm_events_are_not_filtered_and_keep_their_order() -> None:
    unanswered = facts(answered=False)
    names = ["call.started", "call.ended", "call.updated.1", "call.updated.2", "lead.created"]
    sent = [evaluate(ConversionRule(target_only=True), unanswered, name) for name in names]
    assert [s.sequence for s in sent] == [0, 1, 2, 3, 0]  # type: ignore[union-attr]
    assert sent[2].name == "call.updated"  # type: ignore[union-attr]
    assert evaluate(ConversionRule(), facts(), "call.exploded").code == rules.UNKNOWN_EVENT  # type: ignore[union-attr]


def test_bad_rules_name_the_field() -> None:
    for data, field in [
        ({"min_talk_seconds": -1}, "min_talk_seconds"),
        ({"value_mode": "fixed"}, "fixed_value"),
        ({"value_mode": "tags"}, "tag_values"),
        ({"fixed_value": "abc"}, "fixed_value"),
        ({"lead_kinds": ["call"]}, "lead_kinds"),
        ({"target_only": "yes"}, "target_only"),
        ({"colour": "red"}, "colour"),
    ]:
        with pytest.raises(RuleError) as caught:
            parse_rule(data)
        assert caught.value.field == field


rule_data = st.fixed_dictionaries(
    {},
    optional={
        "count_calls": st.booleans(),
        "answered_only": st.booleans(),
        "min_talk_seconds": st.integers(0, 600),
        "target_only": st.booleans(),
        "first_time_only": st.booleans(),
        "required_tags": st.lists(st.sampled_from(["sale", "vip", "lead"]), max_size=2),
        "count_leads": st.booleans(),
        "value_mode": st.sampled_from(["none", "deal"]),
        "fallback_value": st.decimals(0, 10_000, places=2).map(str),
        "resend_on_change": st.booleans(),
    },
)
call_facts = st.builds(
    facts,
    answered=st.booleans(),
    talk_seconds=st.none() | st.integers(0, 3600),
    is_first_time=st.none() | st.booleans(),
    is_target=st.none() | st.booleans(),
    tags=st.lists(st.sampled_from(["sale", "vip", "lead", "spam"]), max_size=3).map(tuple),
    deal_value=st.none() | st.decimals(0, 100_000, places=2),
    consent=st.dictionaries(st.just("ad_storage"), st.booleans(), max_size=1),
)


@given(rule_data)
def test_a_parsed_rule_round_trips_through_its_json(data: dict[str, object]) -> None:
    rule = parse_rule(data)
    assert parse_rule(rule_to_json(rule)) == rule


@given(rule_data, call_facts, st.sampled_from(["ignore", "require"]))
def test_a_conversion_always_satisfies_the_rule_and_a_skip_always_explains(
    data: dict[str, object], call: ConversionFacts, consent: str
) -> None:
    rule = parse_rule(data)
    result = evaluate(rule, call, "conversion", consent_mode=consent)  # type: ignore[arg-type]
    if isinstance(result, Skip):
        assert result.code and result.words
        return
    assert rule.count_calls
    assert call.answered or not rule.answered_only
    assert (call.talk_seconds or 0) >= rule.min_talk_seconds
    assert call.is_target is True or not rule.target_only
    assert set(rule.required_tags) <= set(call.tags)
    assert consent == "ignore" or call.consent.get("ad_storage") is True
    assert result.value is None or result.value >= 0


@given(rule_data, call_facts, st.booleans())
def test_more_facts_in_favour_never_turn_a_conversion_into_a_skip(
    data: dict[str, object], call: ConversionFacts, target: bool
) -> None:
    """Marking a call target or adding a tag it lacked never un-counts a counted call."""
    rule = parse_rule(data)
    before = evaluate(rule, call, "conversion")
    better = facts(
        **{**call.__dict__, "is_target": True, "tags": (*call.tags, "sale", "vip", "lead")}
    )
    if isinstance(before, Conversion):
        assert isinstance(evaluate(rule, better, "conversion"), Conversion)
