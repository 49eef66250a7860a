"""Masking callers' numbers: the shape viewers see, and what it never gives away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.privacy import MASK, mask_phone, phone_digest, retention_cutoff
from ringtrail.domain.roles import Permission, Role, can

numbers = st.from_regex(r"\+?[0-9]{1,16}", fullmatch=True)


def test_a_ukrainian_mobile_keeps_its_operator_code_and_last_two_digits() -> None:
    assert mask_phone("+380501234567") == "+38050•••••67"


def test_a_hidden_number_stays_hidden() -> None:
    assert mask_phone(None) is None
    assert mask_phone("") == ""


@given(numbers)
def test_the_mask_keeps_the_length_and_hides_at_least_a_third(number: str) -> None:
    masked = mask_phone(number)
    assert masked is not None and len(masked) == len(number)
    hidden = masked.count(MASK)
    assert hidden >= max(1, -(-len(number) // 3))
    assert masked != number


@given(numbers)
def test_what_shows_is_the_number_itself_at_both_ends(number: str) -> None:
    masked = mask_phone(number)
    assert masked is not None
    head = masked.split(MASK, 1)[0]
    tail = masked.rsplit(MASK, 1)[1]
    assert number.startswith(head) and number.endswith(tail)
    assert set(masked[len(head) : len(masked) - len(tail)]) == {MASK}


def test_sales_and_above_see_callers_numbers_viewers_do_not() -> None:
    assert not can(Role.VIEWER, Permission.SEE_CALLER_NUMBERS)
    for role in (Role.SALES, Role.MARKETER, Role.ADMIN, Role.OWNER):
        assert can(role, Permission.SEE_CALLER_NUMBERS)


def test_the_digest_depends_on_the_salt_and_never_holds_the_number() -> None:
    one, other = phone_digest("+380501234567", b"a"), phone_digest("+380501234567", b"b")
    assert one != other and "380501234567" not in one
    assert one == phone_digest("+380501234567", b"a")


def test_kept_forever_has_no_cutoff() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    assert retention_cutoff(now, None) is None
    assert retention_cutoff(now, 30) == now - timedelta(days=30)
