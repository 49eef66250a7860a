"""Callbacks owed to missed callers: which calls owe one and which later call settles it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.callbacks import (
    CallFacts,
    callback_times,
    open_callbacks,
    owes_callback,
    settles,
    settling_call,
)
from ringtrail.domain.calls import CallStatus
from ringtrail.domain.phones import dialled_to_e164

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
OURS = "+380441230001"
PEOPLE = ["+380501112233", "+380671234567", "+48221234567"]


def call(
    call_id: int,
    minutes: int,
    status: str,
    person: str | None = PEOPLE[0],
    direction: str = "inbound",
) -> CallFacts:
    caller, dialled = (person, OURS) if direction == "inbound" else (OURS, person)
    return CallFacts(call_id, T0 + timedelta(minutes=minutes), direction, status, caller, dialled)


calls_strategy = st.lists(
    st.builds(
        lambda minutes, status, person, direction: (minutes, status, person, direction),
        st.integers(0, 600),
        st.sampled_from([s.value for s in CallStatus]),
        st.sampled_from([*PEOPLE, None]),
        st.sampled_from(["inbound", "outbound"]),
    ),
    max_size=12,
).map(lambda rows: [call(index + 1, *row) for index, row in enumerate(rows)])


def test_a_missed_inbound_call_from_a_known_number_owes_a_callback() -> None:
    assert owes_callback(call(1, 0, "missed"))
    assert owes_callback(call(1, 0, "busy"))
    assert not owes_callback(call(1, 0, "answered"))
    assert not owes_callback(call(1, 0, "in_progress"))
    assert not owes_callback(call(1, 0, "missed", person=None))
    assert not owes_callback(call(1, 0, "missed", direction="outbound"))


def test_a_later_answered_call_either_way_settles_it() -> None:
    missed = call(1, 0, "missed")
    assert settles(call(2, 30, "answered"), missed)
    assert settles(call(2, 30, "answered", direction="outbound"), missed)
    assert not settles(call(2, 30, "missed", direction="outbound"), missed)
    assert not settles(call(2, -30, "answered"), missed)
    assert not settles(call(2, 30, "answered", person=PEOPLE[1]), missed)


def test_numbers_written_nationally_are_the_same_person_once_normalised() -> None:
    national = dialled_to_e164("050 111 22 33", "UA")
    missed = CallFacts(1, T0, "inbound", "missed", dialled_to_e164("+380501112233"), OURS)
    answered = CallFacts(2, T0 + timedelta(hours=1), "outbound", "answered", OURS, national)
    assert settles(answered, missed)


@given(calls_strategy)
def test_the_settling_call_is_the_earliest_later_answered_call_with_that_person(
    calls: list[CallFacts],
) -> None:
    for missed in calls:
        found = settling_call(missed, calls)
        candidates = [
            c
            for c in calls
            if c.status == "answered"
            and c.started_at > missed.started_at
            and c.other_party == missed.caller
        ]
        if not owes_callback(missed) or not candidates:
            assert found is None
            continue
        assert found is not None and found in candidates
        assert all(found.started_at <= c.started_at for c in candidates)


@given(calls_strategy, st.data())
def test_open_callbacks_do_not_depend_on_order_and_only_shrink(
    calls: list[CallFacts], data: st.DataObject
) -> None:
    open_now = open_callbacks(calls)
    assert open_callbacks(data.draw(st.permutations(calls))) == open_now
    assert open_now <= {c.call_id for c in calls if owes_callback(c)}
    extra = data.draw(st.builds(call, st.just(99), st.integers(0, 600), st.just("answered")))
    assert open_callbacks([*calls, extra]) <= open_now
    marked = set(data.draw(st.lists(st.sampled_from(sorted(open_now) or [0]))))
    assert open_callbacks(calls, marked) == open_now - marked


@given(calls_strategy, st.sampled_from(PEOPLE))
def test_an_answered_call_after_everything_settles_all_of_that_person(
    calls: list[CallFacts], person: str
) -> None:
    last = call(99, 601, "answered", person=person, direction="outbound")
    still_open = open_callbacks([*calls, last])
    assert not any(c.caller == person for c in calls if c.call_id in still_open)
    assert still_open == {c for c in open_callbacks(calls) if _of(calls, c).caller != person}


def _of(calls: list[CallFacts], call_id: int) -> CallFacts:
    return next(c for c in calls if c.call_id == call_id)


def test_callback_times_median_and_share_within_an_hour() -> None:
    times = callback_times([timedelta(minutes=10), timedelta(minutes=50), timedelta(hours=3), None])
    assert (times.owed, times.settled, times.settled_within) == (4, 3, 2)
    assert times.median_delay == timedelta(minutes=50)
    assert times.share_within == 0.5
    assert callback_times([]).share_within is None
    assert callback_times([]).median_delay is None


@given(st.lists(st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=3)))))
def test_callback_times_count_every_owed_callback(delays: list[timedelta | None]) -> None:
    times = callback_times(delays)
    assert times.owed == len(delays)
    assert times.settled == sum(1 for d in delays if d is not None)
    assert 0 <= times.settled_within <= times.settled <= times.owed
    if times.median_delay is not None:
        settled = sorted(d for d in delays if d is not None)
        assert settled[0] <= times.median_delay <= settled[-1]
