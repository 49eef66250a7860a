"""Source rule conditions: one table of accepted and refused conditions."""

from __future__ import annotations

from typing import Any

import pytest

from ringtrail.services.errors import InvalidInput
from ringtrail.services.source_rules import validate_conditions

ACCEPTED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"field": "utm_source", "op": "equals", "value": "google"}, {"value": "google"}),
    ({"field": "utm_medium", "op": "contains", "value": "cp"}, {"value": "cp"}),
    ({"field": "utm_term", "op": "starts_with", "value": "buy "}, {"value": "buy "}),
    ({"field": "landing_url", "op": "regex", "value": r"[?&]ref=\w+"}, {"value": r"[?&]ref=\w+"}),
    ({"field": "referrer_host", "op": "exists"}, {"value": None}),
    ({"field": "utm_content", "op": "exists", "value": ""}, {"value": None}),
    ({"field": "click_id", "op": "equals", "value": "FBCLID"}, {"value": "fbclid"}),
    ({"field": "click_id", "op": "exists"}, {"value": None}),
    ({"field": "channel", "op": "equals", "value": "paid"}, {"value": "paid"}),
]

REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"field": "utm_id", "op": "equals", "value": "x"}, "conditions.0.field"),
    ({"field": "utm_source", "op": "matches", "value": "x"}, "conditions.0.op"),
    ({"field": "utm_source", "op": "equals"}, "conditions.0.value"),
    ({"field": "utm_source", "op": "equals", "value": ""}, "conditions.0.value"),
    ({"field": "utm_source", "op": "equals", "value": "x" * 501}, "conditions.0.value"),
    ({"field": "utm_source", "op": "exists", "value": "x"}, "conditions.0.value"),
    ({"field": "landing_path", "op": "regex", "value": "a{2,1}"}, "conditions.0.value"),
    ({"field": "click_id", "op": "equals", "value": "utm_source"}, "conditions.0.value"),
    ({"field": "click_id", "op": "regex", "value": "g.*"}, "conditions.0.op"),
    ({"field": "utm_source", "op": "equals", "value": "x", "case": "i"}, "conditions.0.case"),
]


@pytest.mark.parametrize(("condition", "stored"), ACCEPTED)
def test_a_valid_condition_is_stored_normalised(
    condition: dict[str, Any], stored: dict[str, Any]
) -> None:
    expected = {"field": condition["field"], "op": condition["op"], **stored}
    assert validate_conditions([condition]) == [expected]


@pytest.mark.parametrize(("condition", "field"), REFUSED)
def test_an_invalid_condition_is_refused_naming_its_key(
    condition: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_conditions([condition])
    assert caught.value.field == field


def test_the_index_of_the_bad_condition_is_named() -> None:
    good = {"field": "utm_source", "op": "exists"}
    bad = {"field": "utm_source", "op": "regex", "value": "("}
    with pytest.raises(InvalidInput) as caught:
        validate_conditions([good, good, bad])
    assert caught.value.field == "conditions.2.value"


def test_the_api_accepts_every_field_the_domain_can_test() -> None:
    from ringtrail.domain import source_rules as domain_rules
    from ringtrail.services import source_rules as service_rules

    assert frozenset(domain_rules.CONDITION_FIELDS) == service_rules.CONDITION_FIELDS
