"""Quality rules: each condition, working hours across midnight, rule order, reasons in words,
and reading rules back from their stored form."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringtrail.domain.quality_rules import (
    Conditions,
    Rule,
    RuleCall,
    RuleError,
    TextCondition,
    WorkingHours,
    apply_rules,
    check_rule,
    conditions_data,
    conditions_from,
    evaluate,
    working_hours_from,
)

KYIV = ZoneInfo("Europe/Kyiv")
# A Tuesday, 12:00 in Kyiv.
NOON = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def call(**values: object) -> RuleCall:
    base: dict[str, object] = {
        "started_at": NOON,
        "answered": True,
        "talk_seconds": 90,
        "is_first_time": True,
        "source": "google",
        "medium": "cpc",
        "campaign": "spring sale",
        "dialled_e164": "+380441234567",
        "pool_id": 7,
    }
    base.update(values)
    return RuleCall(**base)  # type: ignore[arg-type]


def rule(rule_id: int = 1, **conditions: object) -> Rule:
    return Rule(rule_id, f"rule {rule_id}", Conditions(**conditions), mark="target")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("conditions", "values", "matched"),
    [
        ({"talk_at_least": 60}, {}, True),
        ({"talk_at_least": 120}, {}, False),
        ({"talk_under": 20}, {"talk_seconds": None}, True),
        ({"answered": False}, {"answered": False}, True),
        ({"answered": False}, {}, False),
        ({"first_time": True}, {"is_first_time": None}, False),
        ({"out_of_hours": True}, {}, False),
        ({"out_of_hours": True}, {"started_at": datetime(2026, 3, 7, 10, tzinfo=UTC)}, True),
        ({"text": (TextCondition("source", "equals", "Google"),)}, {}, True),
        ({"text": (TextCondition("campaign", "contains", "SALE"),)}, {}, True),
        ({"text": (TextCondition("channel", "equals", "Paid Search"),)}, {}, True),
        ({"text": (TextCondition("medium", "equals", "organic"),)}, {}, False),
        ({"dialled": ("+38 (044) 123-45-67",)}, {}, True),
        ({"pool_ids": (8,)}, {}, False),
        ({"phrases_any": ("ціна",)}, {"transcript": "Скажіть ціну"}, True),
        ({"phrases_any": ("ціна",)}, {}, False),
        ({"phrases_none": ("реклама",)}, {"transcript": "це рекламою дзвонимо"}, False),
        ({"phrases_none": ("реклама",)}, {"transcript": "хочу купити"}, True),
    ],
)
def test_each_condition(
    conditions: dict[str, object], values: dict[str, object], matched: bool
) -> None:
    assert evaluate(rule(**conditions), call(**values), KYIV).matched is matched


def test_a_rule_that_fails_says_every_reason_in_words() -> None:
    verdict = evaluate(rule(talk_at_least=120, answered=False, phrases_any=("ціна",)), call(), KYIV)
    assert not verdict.matched
    assert verdict.failed == (
        "talk time 90 s is under 120 s",
        "the call was answered",
        "no transcript yet",
    )


def test_working_hours_running_past_midnight() -> None:
    night = WorkingHours(frozenset({0}), time(22, 0), time(2, 0))
    monday_23 = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 23:00 Monday in Kyiv
    tuesday_01 = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 01:00 Tuesday in Kyiv
    tuesday_23 = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)
    assert night.covers(monday_23, KYIV)
    assert night.covers(tuesday_01, KYIV)
    assert not night.covers(tuesday_23, KYIV)


def test_rules_run_in_order_tags_add_up_and_the_first_mark_wins() -> None:
    first = Rule(1, "long", Conditions(talk_at_least=30), add_tags=("long",), mark="target")
    second = Rule(2, "spam", Conditions(), add_tags=("long", "seen"), mark="non_target")
    outcome = apply_rules([first, second], call(), KYIV)
    assert outcome.mark == "target"
    assert outcome.mark_rule == first
    assert {name: r.id for name, r in outcome.tags.items()} == {"long": 1, "seen": 2}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from([None, "target", "non_target"])), max_size=6)
)
def test_the_mark_is_the_first_matching_marking_rule(specs: list[tuple[bool, str | None]]) -> None:
    rules = [
        Rule(index, f"r{index}", Conditions(answered=matches), add_tags=("t",), mark=mark)  # type: ignore[arg-type]
        for index, (matches, mark) in enumerate(specs, start=1)
    ]
    outcome = apply_rules(rules, call(), KYIV)
    expected = next((r for r, (m, mark) in zip(rules, specs, strict=True) if m and mark), None)
    assert outcome.mark_rule == expected
    assert outcome.mark == (expected.mark if expected else None)


def test_stored_conditions_read_back_the_same() -> None:
    conditions = conditions_from(
        {
            "talk_at_least": "30",
            "answered": True,
            "text": [{"field": "source", "op": "contains", "value": " goog "}],
            "phrases_any": ["ціна", " Ціна ", "", "доставка"],
            "dialled": ["+380441234567"],
        }
    )
    assert conditions.phrases_any == ("ціна", "доставка")
    assert conditions_from(conditions_data(conditions)) == conditions


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"talk_at_least": "soon"}, "talk_at_least"),
        ({"talk_at_least": 60, "talk_under": 30}, "talk_under"),
        ({"answered": "yes"}, "answered"),
        ({"text": [{"field": "keyword", "op": "equals", "value": "x"}]}, "text"),
        ({"dialled": ["12"]}, "dialled"),
        ({"phrases_any": ["!!!"]}, "phrases_any"),
    ],
)
def test_bad_conditions_say_which_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(RuleError) as error:
        conditions_from(data)
    assert error.value.field == field


def test_a_rule_must_do_something_and_hours_must_make_sense() -> None:
    with pytest.raises(RuleError, match="neither adds a tag nor marks"):
        check_rule(Rule(1, "nothing"))
    with pytest.raises(RuleError, match="same time"):
        working_hours_from({"start": "09:00", "end": "09:00"})
