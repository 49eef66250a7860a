"""The set-up checklist: each step ticks from its own fact, and the next step is the first open."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.setup_checklist import STEPS, SetupFacts, Step, checklist

MOMENT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
moments = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)))
facts = st.builds(
    SetupFacts,
    numbers=st.integers(0, 5),
    pools_with_rule=st.integers(0, 3),
    first_visit_at=moments,
    first_visit_page=st.one_of(st.none(), st.just("https://shop.example/")),
    first_number_shown_at=moments,
    first_call_at=moments,
)


def test_a_new_project_has_every_step_open_and_starts_with_numbers() -> None:
    empty = checklist(SetupFacts())
    assert [state.done for state in empty.steps] == [False] * 5
    assert empty.next_step is Step.NUMBERS
    assert not empty.complete


def test_numbers_without_a_pointed_pool_leave_the_pool_and_rule_step_next() -> None:
    current = checklist(SetupFacts(numbers=3))
    assert current.next_step is Step.POOL_AND_RULE
    assert current.done_count == 1


def test_the_tag_step_says_when_and_on_which_page_the_first_visit_came() -> None:
    current = checklist(
        SetupFacts(
            numbers=2,
            pools_with_rule=1,
            first_visit_at=MOMENT,
            first_visit_page="https://shop.example/prices",
        )
    )
    tag = current.steps[STEPS.index(Step.TAG_INSTALLED)]
    assert (tag.done, tag.when, tag.page) == (True, MOMENT, "https://shop.example/prices")
    assert current.next_step is Step.NUMBER_SHOWN


@given(facts)
def test_the_next_step_is_the_first_one_not_done(given_facts: SetupFacts) -> None:
    current = checklist(given_facts)
    assert [state.step for state in current.steps] == list(STEPS)
    open_steps = [state.step for state in current.steps if not state.done]
    assert current.next_step == (open_steps[0] if open_steps else None)
    assert current.complete == (not open_steps)
    assert current.done_count == len(STEPS) - len(open_steps)


@given(facts, facts)
def test_more_data_never_unticks_a_step(first: SetupFacts, more: SetupFacts) -> None:
    merged = SetupFacts(
        numbers=first.numbers + more.numbers,
        pools_with_rule=first.pools_with_rule + more.pools_with_rule,
        first_visit_at=first.first_visit_at or more.first_visit_at,
        first_number_shown_at=first.first_number_shown_at or more.first_number_shown_at,
        first_call_at=first.first_call_at or more.first_call_at,
    )
    before = {state.step: state.done for state in checklist(first).steps}
    after = {state.step: state.done for state in checklist(merged).steps}
    assert all(after[step] for step, done in before.items() if done)
