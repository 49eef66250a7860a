"""/api/v1/projects/{id}/source-rules: strict conditions, same-project targets, isolation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.domain.rule_patterns import MAX_PATTERN_LENGTH
from ringtrail.domain.source_rules import MAX_CONDITIONS_PER_RULE, MAX_RULES_PER_PROJECT
from ringtrail.storage.models import SourceRule
from tests.conftest import World
from tests.web.api.keys import project_key

GOOGLE_ADS = [
    {"field": "utm_source", "op": "equals", "value": "google"},
    {"field": "click_id", "op": "equals", "value": "GCLID"},
    {"field": "landing_path", "op": "regex", "value": r"^/offer/\d+"},
    {"field": "referrer_host", "op": "exists"},
]


def rules_url(world: World, tail: str = "", project_id: int | None = None) -> str:
    return f"/api/v1/projects/{project_id or world.ours.project.id}/source-rules{tail}"


def post(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    response = client.post(rules_url(world), headers=world.ours.project_auth, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def a_pool(client: TestClient, project_id: int, auth: dict[str, str]) -> int:
    url = f"/api/v1/projects/{project_id}/pools"
    pool_id: int = client.post(url, headers=auth, json={"name": "Ads"}).json()["id"]
    return pool_id


def test_a_rule_is_stored_with_normalised_conditions(client: TestClient, world: World) -> None:
    pool_id = a_pool(client, world.ours.project.id, world.ours.project_auth)
    rule = post(
        client,
        world,
        name="Google Ads",
        source="google",
        medium="cpc",
        conditions=GOOGLE_ADS,
        pool_id=pool_id,
    )
    assert rule["conditions"][1] == {"field": "click_id", "op": "equals", "value": "gclid"}
    assert rule["conditions"][3] == {"field": "referrer_host", "op": "exists", "value": None}
    assert (rule["priority"], rule["pool_id"], rule["is_active"]) == (100, pool_id, True)


def test_rules_are_listed_in_the_order_they_are_tried(client: TestClient, world: World) -> None:
    post(client, world, name="late", priority=50, source="a")
    post(client, world, name="early", priority=-5, source="b")
    post(client, world, name="tie", priority=50, source="c")
    listed = client.get(rules_url(world), headers=world.ours.org_auth).json()
    assert [r["name"] for r in listed] == ["early", "late", "tie"]


@pytest.mark.parametrize(
    ("condition", "loc"),
    [
        ({"field": "utm_colour", "op": "equals", "value": "x"}, ["body", "conditions", 0, "field"]),
        ({"field": "utm_source", "op": "like", "value": "x"}, ["body", "conditions", 0, "op"]),
        ({"field": "utm_source", "op": "equals", "value": 5}, ["body", "conditions", 0, "value"]),
        ({"field": "utm_source", "op": "equals", "x": 1}, ["body", "conditions", 0, "x"]),
        ({"field": "utm_source", "op": "equals"}, ["body", "conditions.0.value"]),
        ({"field": "utm_source", "op": "exists", "value": "x"}, ["body", "conditions.0.value"]),
        ({"field": "landing_url", "op": "regex", "value": "(["}, ["body", "conditions.0.value"]),
        ({"field": "click_id", "op": "equals", "value": "utm"}, ["body", "conditions.0.value"]),
        ({"field": "click_id", "op": "contains", "value": "gcl"}, ["body", "conditions.0.op"]),
    ],
)
def test_a_bad_condition_is_422_naming_it(
    client: TestClient, world: World, condition: dict[str, Any], loc: list[Any]
) -> None:
    body = {"name": "r", "source": "s", "conditions": [condition]}
    response = client.post(rules_url(world), headers=world.ours.project_auth, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_a_rule_shows_a_pool_or_a_static_number_not_both(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    pool_id = a_pool(client, world.ours.project.id, auth)
    numbers = f"/api/v1/projects/{world.ours.project.id}/numbers"
    static = client.post(numbers, headers=auth, json={"number": "044 123 45 67"}).json()["id"]
    pooled = client.post(
        numbers, headers=auth, json={"number": "044 123 45 68", "kind": "pool", "pool_id": pool_id}
    ).json()["id"]
    both = client.post(
        rules_url(world),
        headers=auth,
        json={"name": "r", "pool_id": pool_id, "static_number_id": static},
    )
    assert both.json()["detail"][0]["loc"] == ["body", "static_number_id"]
    pool_number = client.post(
        rules_url(world), headers=auth, json={"name": "r", "static_number_id": pooled}
    )
    assert pool_number.json()["detail"][0]["loc"] == ["body", "static_number_id"]
    nothing = client.post(rules_url(world), headers=auth, json={"name": "r"})
    assert nothing.json()["detail"][0]["loc"] == ["body", "source"]
    assert post(client, world, name="flyer", static_number_id=static)["static_number_id"] == static


def test_a_rule_cannot_point_at_another_projects_pool_or_number(
    client: TestClient, world: World
) -> None:
    them = world.outsider
    their_pool = a_pool(client, them.project.id, them.project_auth)
    their_number = client.post(
        f"/api/v1/projects/{them.project.id}/numbers",
        headers=them.project_auth,
        json={"number": "044 123 45 67"},
    ).json()["id"]
    auth = world.ours.project_auth
    for field, value in (("pool_id", their_pool), ("static_number_id", their_number)):
        response = client.post(rules_url(world), headers=auth, json={"name": "r", field: value})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
    rule = post(client, world, name="r", source="s")
    patched = client.patch(
        rules_url(world, f"/{rule['id']}"), headers=auth, json={"pool_id": their_pool}
    )
    assert patched.json()["detail"][0]["loc"] == ["body", "pool_id"]


def test_patch_replaces_conditions_and_keeps_the_rest(client: TestClient, world: World) -> None:
    rule = post(client, world, name="r", source="google", conditions=GOOGLE_ADS)
    url = rules_url(world, f"/{rule['id']}")
    auth = world.ours.project_auth
    new = [{"field": "channel", "op": "equals", "value": "paid"}]
    changed = client.patch(url, headers=auth, json={"conditions": new, "priority": 1})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["conditions"], changed.json()["source"]) == (new, "google")
    assert client.patch(url, headers=auth, json={"conditions": None}).status_code == 422
    assert client.patch(url, headers=auth, json={"source": None}).json()["detail"][0]["loc"] == [
        "body",
        "source",
    ]


def test_managing_rules_needs_the_tracking_permission(
    client: TestClient, world: World, db: Session
) -> None:
    assert client.post(rules_url(world), json={"name": "r", "source": "s"}).status_code == 401
    sales = project_key(db, world.ours, Role.SALES)
    body = {"name": "r", "source": "s"}
    assert client.post(rules_url(world), headers=sales, json=body).status_code == 403
    assert client.get(rules_url(world), headers=sales).status_code == 200


def test_a_deleted_rule_is_gone(client: TestClient, world: World) -> None:
    rule = post(client, world, name="r", source="s")
    url = rules_url(world, f"/{rule['id']}")
    assert client.delete(url, headers=world.ours.project_auth).status_code == 204
    assert client.get(url, headers=world.ours.project_auth).status_code == 404


def test_the_outsider_never_sees_or_changes_our_rules(client: TestClient, world: World) -> None:
    rid = post(client, world, name="r", source="s")["id"]
    ours, theirs = world.ours.project.id, world.outsider.project.id
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(rules_url(world, project_id=ours), headers=auth).status_code == 404
        assert client.get(rules_url(world, f"/{rid}", theirs), headers=auth).status_code == 404
        assert (
            client.patch(
                rules_url(world, f"/{rid}", theirs), headers=auth, json={"name": "x"}
            ).status_code
            == 404
        )
        assert client.delete(rules_url(world, f"/{rid}", theirs), headers=auth).status_code == 404
        assert client.get(rules_url(world, project_id=theirs), headers=auth).json() == []
    kept = client.get(rules_url(world, f"/{rid}"), headers=world.ours.project_auth).json()
    assert kept["name"] == "r"


def test_a_rule_past_the_projects_limit_is_a_409_with_the_reason(
    client: TestClient, db: Session, world: World
) -> None:
    db.add_all(
        SourceRule(project_id=world.ours.project.id, name=f"r{i}", priority=i, source="s")
        for i in range(MAX_RULES_PER_PROJECT)
    )
    db.commit()
    refused = client.post(
        rules_url(world), headers=world.ours.project_auth, json={"name": "one more", "source": "s"}
    )
    assert refused.status_code == 409
    assert f"limit of {MAX_RULES_PER_PROJECT} source rules" in refused.json()["detail"]
    # the other organisation's project counts its own rules
    theirs = rules_url(world, project_id=world.outsider.project.id)
    body = {"name": "theirs", "source": "s"}
    assert client.post(theirs, headers=world.outsider.project_auth, json=body).status_code == 201


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a" * (MAX_PATTERN_LENGTH + 1), f"at most {MAX_PATTERN_LENGTH} characters"),
        ("^(/[a-z]+)+$" + "(x+)*", "exponential time"),
        ("((a{100}){100}){100}", "larger than"),
    ],
)
def test_a_long_or_costly_regex_is_422_with_the_reason(
    client: TestClient, world: World, pattern: str, reason: str
) -> None:
    condition = {"field": "landing_url", "op": "regex", "value": pattern}
    body = {"name": "r", "source": "s", "conditions": [condition]}
    refused = client.post(rules_url(world), headers=world.ours.project_auth, json=body)
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert problem["loc"] == ["body", "conditions.0.value"] and reason in problem["msg"]
    rid = post(client, world, name="ok", source="s")["id"]
    changed = client.patch(
        rules_url(world, f"/{rid}"),
        headers=world.ours.project_auth,
        json={"conditions": [condition]},
    )
    assert changed.status_code == 422


def test_a_rule_with_more_conditions_than_allowed_is_422(client: TestClient, world: World) -> None:
    conditions = [{"field": "utm_source", "op": "exists"}] * (MAX_CONDITIONS_PER_RULE + 1)
    body = {"name": "r", "source": "s", "conditions": conditions}
    refused = client.post(rules_url(world), headers=world.ours.project_auth, json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "conditions"]
