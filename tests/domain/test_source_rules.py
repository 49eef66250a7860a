"""Project source rules: which rule wins, what it changes, and first- vs last-touch."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.source_rules import (
    CONDITION_FIELDS,
    CONDITION_OPS,
    Condition,
    Decision,
    Rule,
    apply_rules,
    choose_touch,
)
from ringtrail.domain.sources import Classification, VisitFacts, classify_visit

SITE = frozenset({"example.com"})


def visit(query: str = "", referrer: str = "", path: str = "/pricing") -> Classification:
    url = f"https://example.com{path}" + (f"?{query}" if query else "")
    return classify_visit(VisitFacts(url, referrer, SITE))


GOOGLE_ADS = visit("utm_source=Google&utm_medium=cpc&utm_campaign=Brand-UA&gclid=Cj0K")
ORGANIC = visit(referrer="https://www.google.com.ua/")
FACEBOOK = visit("fbclid=IwAR", "https://l.facebook.com/")
DIRECT = visit()
PARTNER = visit(referrer="https://blog.partner.io/post", path="/landing/spring")


def rule(*conditions: Condition, rule_id: int = 1, priority: int = 10, **kw: object) -> Rule:
    return Rule(id=rule_id, priority=priority, conditions=conditions, **kw)  # type: ignore[arg-type]


def c(field: str, op: str, value: str = "") -> Condition:
    return Condition(field, op, value)


# (visit, condition, holds)
CONDITIONS = [
    (GOOGLE_ADS, c("utm_source", "equals", "google"), True),
    (GOOGLE_ADS, c("utm_source", "equals", "GOOGLE"), True),
    (GOOGLE_ADS, c("utm_source", "equals", " google "), True),
    (GOOGLE_ADS, c("utm_source", "equals", "bing"), False),
    (GOOGLE_ADS, c("utm_medium", "exists"), True),
    (ORGANIC, c("utm_medium", "exists"), False),
    (GOOGLE_ADS, c("utm_campaign", "contains", "brand"), True),
    (GOOGLE_ADS, c("utm_campaign", "starts_with", "Brand-"), True),
    (GOOGLE_ADS, c("utm_campaign", "starts_with", "UA"), False),
    (GOOGLE_ADS, c("utm_campaign", "regex", r"-(ua|pl)$"), True),
    (GOOGLE_ADS, c("utm_term", "exists"), False),
    (GOOGLE_ADS, c("utm_content", "equals", "x"), False),
    (ORGANIC, c("referrer_host", "equals", "google.com.ua"), True),
    (ORGANIC, c("referrer_host", "equals", "www.google.com.ua"), True),
    (ORGANIC, c("referrer_host", "contains", "google"), True),
    (ORGANIC, c("referrer_host", "regex", r"^google\."), True),
    (DIRECT, c("referrer_host", "exists"), False),
    (PARTNER, c("landing_path", "starts_with", "/landing/"), True),
    (PARTNER, c("landing_path", "equals", "/LANDING/SPRING"), True),
    (PARTNER, c("landing_url", "contains", "example.com/landing"), True),
    (GOOGLE_ADS, c("click_id", "exists"), True),
    (ORGANIC, c("click_id", "exists"), False),
    (GOOGLE_ADS, c("click_id", "equals", "gclid"), True),
    (GOOGLE_ADS, c("click_id", "equals", "GCLID"), True),
    (GOOGLE_ADS, c("click_id", "equals", "fbclid"), False),
    (FACEBOOK, c("click_id", "exists", "fbclid"), True),
    (FACEBOOK, c("click_id", "contains", "fb"), False),
    (GOOGLE_ADS, c("channel", "equals", "paid_search"), True),
    (FACEBOOK, c("channel", "equals", "organic_social"), True),
    (DIRECT, c("channel", "equals", "direct"), True),
    (FACEBOOK, c("source", "equals", "facebook"), True),
    (ORGANIC, c("medium", "equals", "organic"), True),
    (GOOGLE_ADS, c("utm_source", "regex", "("), False),
    (GOOGLE_ADS, c("nonsense", "equals", "x"), False),
    (GOOGLE_ADS, c("utm_source", "sounds_like", "x"), False),
]


@pytest.mark.parametrize(("classification", "condition", "holds"), CONDITIONS)
def test_a_condition_compares_without_regard_to_case(
    classification: Classification, condition: Condition, holds: bool
) -> None:
    decision = apply_rules(classification, [rule(condition, pool_id=7)])
    assert (decision.rule_id == 1) is holds


def test_every_documented_field_and_operator_is_tested_above() -> None:
    assert {cond.field for _, cond, _ in CONDITIONS} >= set(CONDITION_FIELDS)
    assert {cond.op for _, cond, _ in CONDITIONS} >= set(CONDITION_OPS)


def test_lowest_priority_wins_and_ties_go_to_the_lower_id() -> None:
    rules = [
        rule(rule_id=9, priority=20, pool_id=1),
        rule(c("utm_source", "equals", "google"), rule_id=5, priority=10, pool_id=2),
        rule(c("utm_source", "equals", "google"), rule_id=3, priority=10, pool_id=3),
    ]
    decision = apply_rules(GOOGLE_ADS, rules)
    assert (decision.rule_id, decision.pool_id) == (3, 3)


def test_all_conditions_must_hold() -> None:
    both = rule(c("utm_source", "equals", "google"), c("utm_medium", "equals", "organic"))
    assert apply_rules(GOOGLE_ADS, [both]).rule_id is None


def test_a_rule_without_conditions_catches_everything() -> None:
    decision = apply_rules(DIRECT, [rule(static_number_id=4)])
    assert (decision.rule_id, decision.static_number_id, decision.pool_id) == (1, 4, None)
    assert "rule #1 matched: no conditions (catch-all)" in decision.trace


def test_without_a_matching_rule_the_site_number_stays() -> None:
    decision = apply_rules(ORGANIC, [rule(c("channel", "equals", "paid_search"), pool_id=1)])
    assert (decision.rule_id, decision.pool_id, decision.static_number_id) == (None, None, None)
    assert decision.classification == ORGANIC
    assert decision.trace[-1] == "no rule matched: the site's own number stays"


def test_the_first_match_wins_even_when_it_names_no_number() -> None:
    rules = [
        rule(c("source", "equals", "google"), rule_id=1, campaign="Label only"),
        rule(c("source", "equals", "google"), rule_id=2, pool_id=5),
    ]
    decision = apply_rules(GOOGLE_ADS, rules)
    assert (decision.rule_id, decision.pool_id, decision.classification.campaign) == (
        1,
        None,
        "Label only",
    )


def test_rule_overrides_relabel_and_recompute_the_channel() -> None:
    partner_ads = rule(
        c("referrer_host", "equals", "blog.partner.io"),
        source="partner",
        medium="cpc",
        campaign="Spring",
        pool_id=2,
        name="Partner ads",
    )
    decision = apply_rules(PARTNER, [partner_ads])
    label = decision.classification
    assert (label.source, label.medium, label.campaign, label.channel) == (
        "partner",
        "cpc",
        "Spring",
        "paid_search",
    )
    assert label.referrer_host == PARTNER.referrer_host
    assert "rule #1 'Partner ads' matched: referrer_host equals blog.partner.io" in decision.trace
    assert "channel paid_search from partner / cpc" in decision.trace
    assert decision.trace[: len(PARTNER.trace)] == PARTNER.trace


def test_a_bad_regex_is_no_match_and_the_trace_says_so() -> None:
    rules = [rule(c("utm_source", "regex", "[unclosed"), rule_id=1, pool_id=1), rule(rule_id=2)]
    decision = apply_rules(GOOGLE_ADS, rules)
    assert decision.rule_id == 2
    assert any("bad regular expression" in step for step in decision.trace)


def test_an_exists_condition_stored_with_a_null_value_works() -> None:
    decision = apply_rules(GOOGLE_ADS, [rule(Condition("click_id", "exists", None), pool_id=1)])
    assert decision.rule_id == 1


def decided(classification: Classification, rule_id: int | None = None) -> Decision:
    rules = [rule(rule_id=rule_id, pool_id=rule_id)] if rule_id is not None else []
    return apply_rules(classification, rules)


def test_a_first_visit_keeps_its_own_decision() -> None:
    current = decided(DIRECT)
    chosen = choose_touch(None, current, "last")
    assert chosen.classification == DIRECT
    assert chosen.trace[-1] == "first visit of this visitor"


def test_last_touch_a_direct_return_keeps_the_previous_non_direct_decision() -> None:
    previous, current = decided(GOOGLE_ADS, 3), decided(DIRECT)
    chosen = choose_touch(previous, current, "last")
    assert (chosen.classification, chosen.pool_id, chosen.rule_id) == (GOOGLE_ADS, 3, 3)
    assert chosen.trace[-1] == "last non-direct touch: a direct return keeps google / cpc (rule #3)"


def test_last_touch_a_non_direct_visit_replaces_the_previous_one() -> None:
    previous, current = decided(GOOGLE_ADS, 3), decided(FACEBOOK)
    chosen = choose_touch(previous, current, "last")
    assert (chosen.classification, chosen.rule_id) == (FACEBOOK, None)
    assert chosen.trace[-1] == "last non-direct touch: this visit replaces google / cpc (rule #3)"


def test_last_touch_direct_after_direct_stays_direct() -> None:
    chosen = choose_touch(decided(DIRECT), decided(DIRECT), "last")
    assert chosen.classification.channel == "direct"


def test_last_touch_is_the_default_mode() -> None:
    chosen = choose_touch(decided(GOOGLE_ADS, 3), decided(DIRECT))
    assert chosen.classification == GOOGLE_ADS


def test_first_touch_keeps_the_first_decision_forever() -> None:
    first = decided(ORGANIC)
    for later in (decided(GOOGLE_ADS, 3), decided(FACEBOOK), decided(DIRECT)):
        chosen = choose_touch(first, later, "first")
        assert (chosen.classification, chosen.rule_id) == (ORGANIC, None)
        assert chosen.trace[-1] == "first touch: kept the first decision google / organic"
        first = replace(chosen)


_TEXT = st.text(max_size=40)


@given(
    st.lists(
        st.builds(
            Condition,
            field=st.sampled_from([*CONDITION_FIELDS, "bogus"]),
            op=st.sampled_from([*CONDITION_OPS, "bogus"]),
            value=st.one_of(st.none(), _TEXT),
        ),
        max_size=4,
    ),
    st.sampled_from([GOOGLE_ADS, ORGANIC, FACEBOOK, DIRECT, PARTNER]),
)
def test_any_condition_never_raises(conditions: list[Condition], base: Classification) -> None:
    decision = apply_rules(base, [rule(*conditions, pool_id=1)])
    assert decision.rule_id in (1, None)


def test_a_catastrophic_regex_gives_up_quickly_as_no_match() -> None:
    slow = visit("utm_campaign=" + "a" * 400 + "!")
    rules = [rule(c("utm_campaign", "regex", r"^(a|aa)+$"), rule_id=1, pool_id=1), rule(rule_id=2)]
    decision = apply_rules(slow, rules)
    assert decision.rule_id == 2
    assert any("regular expression too slow" in step for step in decision.trace)
