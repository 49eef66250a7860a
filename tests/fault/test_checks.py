"""The fault run's checks catch what they are for: a number held twice, a hold cut short, a
release written without its cool-down."""

from __future__ import annotations

from faults.checks import Interval, LeaseRow, broken_history, overlapping_holds, uncovered_holds
from faults.load import Hold


def lease(
    lease_id: int,
    start: float,
    end: float | None,
    *,
    until: float | None = None,
    visitor: int | None = 1,
    cooldown: bool = True,
) -> LeaseRow:
    hold_until = until if until is not None else (end if end is not None else start + 60)
    return LeaseRow(
        id=lease_id,
        number="+380447700001",
        visitor_id=visitor,
        leased_at=start,
        last_heartbeat_at=start,
        hold_until=hold_until,
        released_at=end,
        cooldown_until=end if end is not None and cooldown else None,
    )


def test_a_number_held_by_two_visitors_at_once_is_caught() -> None:
    holds = [
        Interval("+380447700001", "visitor 1", 0, 60),
        Interval("+380447700002", "visitor 2", 10, 70),
        Interval("+380447700001", "visitor 3", 59.9, 120),
    ]
    ((first, second),) = overlapping_holds(holds)
    assert (first.holder, second.holder) == ("visitor 1", "visitor 3")


def test_back_to_back_holds_and_one_visitors_own_holds_are_not_a_clash() -> None:
    holds = [
        Interval("+380447700001", "visitor 1", 0, 60),
        Interval("+380447700001", "visitor 1", 30, 90),
        Interval("+380447700001", "visitor 2", 90, 150),
    ]
    assert overlapping_holds(holds) == []


def test_a_clash_hidden_behind_a_long_hold_is_still_caught() -> None:
    holds = [
        Interval("+380447700001", "visitor 1", 0, 100),
        Interval("+380447700001", "visitor 2", 100, 110),
        Interval("+380447700001", "visitor 1", 5, 10),
        Interval("+380447700001", "visitor 3", 50, 60),
    ]
    assert [(a.holder, b.holder) for a, b in overlapping_holds(holds)] == [
        ("visitor 1", "visitor 3")
    ]


def test_a_release_without_its_cooldown_or_outside_its_hold_is_broken_history() -> None:
    rows = [
        lease(1, 0, 60),
        lease(2, 0, 60, cooldown=False),
        lease(3, 0, 90, until=60),
        lease(4, 0, None, visitor=None),
    ]
    assert broken_history(rows) == [
        "lease 2: released without a cool-down end",
        "lease 3: released outside its hold",
        "lease 4: no visitor",
    ]


def test_a_hold_the_history_ends_before_the_visitor_was_told_is_uncovered() -> None:
    rows = [lease(1, 0, 40, until=80)]
    told = [Hold(1, "+380447700001", shown=0.1, until=70)]
    assert uncovered_holds([Hold(1, "+380447700001", shown=0.1, until=40)], rows) == []
    (problem,) = uncovered_holds(told, rows)
    assert problem.startswith("visitor 1 held +380447700001 until")
    assert uncovered_holds([Hold(2, "+380447700001", shown=0.1, until=30)], rows)
