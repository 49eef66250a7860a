"""Demo phone numbers are valid E.164 and the agency's own numbers never repeat."""

from __future__ import annotations

import random

import phonenumbers

from ringtrail.demo.phones import caller_country, caller_number, tracking_number


def test_caller_numbers_are_valid_and_mostly_ukrainian() -> None:
    rng = random.Random(3)
    numbers = [caller_number(rng) for _ in range(500)]
    for number in numbers:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number
    ukrainian = sum(caller_country(n) == "UA" for n in numbers)
    assert ukrainian > 400
    assert {caller_country(n) for n in numbers} >= {"UA", "PL"}


def test_tracking_numbers_are_distinct_kyiv_numbers() -> None:
    numbers = [tracking_number(index) for index in range(120)]
    assert len(set(numbers)) == 120
    assert all(n.startswith("+38044") for n in numbers)
