"""The local GA4 rules: each documented limit refused at its edge, and properties that hold
for any payload (no crash, the name rule exactly as documented)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ringtrail.integrations.ga4_limits import (
    MAX_BACKDATE_MICROS,
    MAX_BODY_BYTES,
    RESERVED_EVENT_NAMES,
    RESERVED_PREFIXES,
    check_payload,
    event_name_problem,
)

NOW = 1_790_184_100_000_000
DOCUMENTED_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def body(**event: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"name": "phone_call", "params": {"call_id": "1"}}
    found.update(event)
    return {"client_id": "123.456", "timestamp_micros": NOW, "events": [found]}


def codes(payload: dict[str, Any], now: int | None = NOW) -> list[str]:
    return [problem.code for problem in check_payload(payload, now)]


def test_a_clean_call_event_has_no_problem() -> None:
    assert (
        check_payload(body(params={"value": 50, "currency": "UAH", "session_id": "1"}), NOW) == []
    )


def test_event_names_at_the_documented_edges() -> None:
    assert event_name_problem("a" * 40) is None
    assert event_name_problem("a" * 41) is not None
    assert event_name_problem("1call") is not None
    assert event_name_problem("phone-call") is not None
    assert event_name_problem("first_visit") is not None
    for prefix in ("_", "firebase_", "ga_", "google_"):
        problem = event_name_problem(f"{prefix}call")
        assert problem is not None and problem.code == "NAME_RESERVED"


def test_counts_are_capped_at_25() -> None:
    twenty_five = {f"p{i}": i for i in range(25)}
    assert codes(body(params=twenty_five)) == []
    assert codes(body(params={**twenty_five, "p25": 1})) == ["EXCEEDED_MAX_ENTITIES"]
    events = [{"name": "phone_call", "params": {}}] * 26
    assert "EXCEEDED_MAX_ENTITIES" in codes({"client_id": "1.2", "events": events})
    assert codes({"client_id": "1.2", "events": events[:25]}) == []


def test_param_names_and_values() -> None:
    assert codes(body(params={"a" * 41: 1})) == ["NAME_INVALID"]
    assert codes(body(params={"ga_source": 1})) == ["NAME_RESERVED"]
    assert codes(body(params={"firebase_conversion": 1})) == ["NAME_RESERVED"]
    assert codes(body(params={"note": "x" * 100})) == []
    assert codes(body(params={"note": "x" * 101})) == ["VALUE_OUT_OF_BOUNDS"]
    assert codes(body(params={"note": float("nan")})) == ["VALUE_INVALID"]
    assert codes(body(params={"note": {"nested": 1}})) == ["VALUE_INVALID"]


def test_a_value_needs_a_currency() -> None:
    assert codes(body(params={"value": 5})) == ["VALUE_REQUIRED"]
    assert codes(body(params={"value": 5, "currency": "uah"})) == ["VALUE_INVALID"]
    assert codes(body(params={"value": "5", "currency": "UAH"})) == ["VALUE_INVALID"]
    assert codes(body(params={"value": True, "currency": "UAH"})) == ["VALUE_INVALID"]


def test_user_properties() -> None:
    ok = {"plan": {"value": "pro"}}
    assert codes({**body(), "user_properties": ok}) == []
    assert codes({**body(), "user_properties": {"p" * 25: {"value": 1}}}) == ["NAME_INVALID"]
    assert codes({**body(), "user_properties": {"plan": {"value": "x" * 37}}}) == [
        "VALUE_OUT_OF_BOUNDS"
    ]
    assert codes({**body(), "user_properties": {"user_id": {"value": "1"}}}) == ["NAME_RESERVED"]
    assert codes({**body(), "user_properties": {"plan": "pro"}}) == ["VALUE_REQUIRED"]


def test_the_client_id_and_the_back_dating_limit() -> None:
    assert codes({**body(), "client_id": "GA1.1.123.456"}) == ["VALUE_INVALID"]
    assert codes({"events": body()["events"]}) == ["VALUE_REQUIRED"]
    assert codes({**body(), "timestamp_micros": NOW - MAX_BACKDATE_MICROS}) == []
    assert codes({**body(), "timestamp_micros": NOW - MAX_BACKDATE_MICROS - 1}) == [
        "VALUE_OUT_OF_BOUNDS"
    ]
    assert codes({**body(), "timestamp_micros": NOW + 1}) == ["VALUE_OUT_OF_BOUNDS"]
    assert codes({**body(), "timestamp_micros": NOW - MAX_BACKDATE_MICROS - 1}, now=None) == []


def test_the_body_must_stay_under_130_kb() -> None:
    events = [{"name": "phone_call", "params": {f"p{i}": "x" * 100 for i in range(25)}}] * 25
    payload = {"client_id": "1.2", "events": events}
    assert "VALUE_OUT_OF_BOUNDS" not in codes(payload)
    big = {"client_id": "1.2", "events": events, "padding": "z" * MAX_BODY_BYTES}
    assert codes(big) == ["VALUE_OUT_OF_BOUNDS"]


@given(st.text(max_size=60))
def test_an_event_name_passes_exactly_when_the_documented_rule_allows_it(name: str) -> None:
    allowed = (
        DOCUMENTED_NAME.fullmatch(name) is not None
        and name not in RESERVED_EVENT_NAMES
        and not name.startswith(RESERVED_PREFIXES)
    )
    assert (event_name_problem(name) is None) == allowed


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=120),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=45), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["client_id", "events", "timestamp_micros", "user_properties", "x"]),
        JSON_LIKE,
    )
)
def test_any_payload_is_judged_without_crashing(payload: dict[str, Any]) -> None:
    for problem in check_payload(payload, NOW):
        assert problem.code and problem.words


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(DOCUMENTED_NAME, fullmatch=True).filter(
            lambda key: (
                not key.startswith(RESERVED_PREFIXES)
                and key != "firebase_conversion"
                and key not in ("value", "currency", "items")
            )
        ),
        st.integers() | st.text(max_size=100),
        max_size=25,
    )
)
def test_params_within_every_limit_are_never_refused(params: dict[str, Any]) -> None:
    assert check_payload(body(params=params), NOW) == []
