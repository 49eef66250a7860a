"""CRM event bodies: names, order, what changed, and the sample call."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.crm_events import (
    UnknownEvent,
    changes,
    event_body,
    event_kind,
    event_order,
    in_order,
    sample_facts,
    snapshot,
)

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
snapshots = st.fixed_dictionaries(
    {
        "recording": st.booleans(),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
        "target": st.none() | st.booleans(),
        "transcript": st.integers(0, 10),
        "deal_value": st.none() | st.sampled_from(["10.00", "20.00"]),
    }
)


@given(st.integers(0, 10_000))
def test_every_update_is_call_updated_and_comes_after_the_end(number: int) -> None:
    name = f"call.updated.{number}"
    assert event_kind(name) == "call.updated"
    assert event_order("call.started") < event_order("call.ended") < event_order(name)
    assert event_order(name) < event_order(f"call.updated.{number + 1}")


def test_other_names_are_refused() -> None:
    with pytest.raises(UnknownEvent):
        event_kind("conversion")


@given(snapshots)
def test_a_snapshot_compared_with_itself_changed_nothing(one: dict[str, object]) -> None:
    assert changes(one, one) == []


@given(snapshots, snapshots)
def test_changes_name_exactly_the_differing_fields(
    before: dict[str, object], after: dict[str, object]
) -> None:
    found = changes(before, after)
    assert found == sorted(found)
    assert set(found) == {name for name in after if before[name] != after[name]}


@given(st.permutations(["call.updated.2", "call.started", "call.updated.10", "call.ended"]))
def test_earlier_answers_come_in_event_order(names: list[str]) -> None:
    answers = {name: {"name": name} for name in names}
    ordered = [answer["name"] for answer in in_order(answers)]
    assert ordered == ["call.started", "call.ended", "call.updated.2", "call.updated.10"]


def test_the_sample_is_a_whole_call_body_in_json() -> None:
    facts = sample_facts(3, NOW)
    body = event_body(facts, "call.ended", 1, "rt-3-call-0-call.ended")
    assert json.loads(json.dumps(body)) == body
    assert body["subject"] == {"kind": "call", "id": 0}
    assert body["analytics_ids"]["gclid"] == "TeSt-GcLiD-sample"
    assert body["source"]["utm"]["utm_campaign"] == "spring-sale"
    assert snapshot(body)["tags"] == ["sample"]
