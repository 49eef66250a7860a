"""One lead per person: the open lead or deal handed over in the facts, and the words."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.one_lead_per_person import (
    OpenContact,
    lead_is_open,
    open_contact,
    refusal,
)


@given(st.sampled_from(["lead", "deal"]), st.integers(1, 2**62))
def test_an_open_contact_round_trips_and_is_named_in_the_words(kind: Any, ident: int) -> None:
    found = OpenContact(kind, ident)
    assert open_contact({"open_contact": found.as_extra()}) == found
    assert refusal(found) == f"caller already has an open {kind} (#{ident})"


@given(st.none() | st.text() | st.dictionaries(st.text(), st.text() | st.integers()))
def test_anything_else_in_the_facts_lets_the_lead_go(value: Any) -> None:
    assert refusal(open_contact({"open_contact": value})) is None or (
        isinstance(value, dict) and value.get("kind") in ("lead", "deal")
    )


def test_only_worked_leads_are_open() -> None:
    assert [s for s in ("new", "qualified", "in_progress", "won", "lost", "junk") if
            lead_is_open(s)] == ["new", "qualified", "in_progress"]  # fmt: skip
    assert lead_is_open(None)
