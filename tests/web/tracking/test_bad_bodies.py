"""No body, however malformed, makes /t/v1/visit or /t/v1/heartbeat answer with a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.tracking.test_api import GOOGLE_ADS_URL, SITE, lease_rows, set_up_site

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def lenient(runtime: Runtime) -> Iterator[TestClient]:
    """A client that answers a server error as a 500 instead of raising it."""
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client


def send(client: TestClient, path: str, raw: str) -> object:
    """POST a hand-written JSON text (escapes kept as written), as the script does."""
    headers = {"Origin": SITE, "Content-Type": "text/plain"}
    return client.post(path, content=raw.encode(), headers=headers)


def visit_text(site_key: str, **fields: str) -> str:
    """A visit body whose values are raw JSON string contents (so `\\ud800` stays an escape)."""
    values = {
        "key": json.dumps(site_key)[1:-1],
        "url": GOOGLE_ADS_URL,
        "referrer": "https://www.google.com/",
        **fields,
    }
    members = ['"visible": true'] + [f'"{name}": "{value}"' for name, value in values.items()]
    return "{" + ", ".join(members) + "}"


@pytest.mark.parametrize("path", ["/t/v1/visit", "/t/v1/heartbeat"])
def test_json_nested_a_thousand_deep_is_a_400(
    lenient: TestClient, db: Session, world: World, path: str
) -> None:
    site = set_up_site(db, world)
    raw = f'{{"key": "{site.key}", "url": "{GOOGLE_ADS_URL}", "visit": "v", "extra": {DEEP}}}'

    response = lenient.post(path, content=raw.encode(), headers={"Origin": SITE})

    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "bad_json"
    assert "deeper" in response.json()["detail"]


@pytest.mark.parametrize("field", ["url", "referrer", "visitor"])
def test_a_lone_surrogate_in_a_visit_is_a_422_naming_the_field(
    lenient: TestClient, db: Session, world: World, field: str
) -> None:
    site = set_up_site(db, world)

    response = send(
        lenient, "/t/v1/visit", visit_text(site.key, **{field: "https://a.example/\\ud800"})
    )

    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "invalid_body"
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert lease_rows(db) == []


@pytest.mark.parametrize("field", ["url", "referrer", "visitor", "key"])
def test_a_nul_character_in_a_visit_is_a_422_naming_the_field(
    lenient: TestClient, db: Session, world: World, field: str
) -> None:
    site = set_up_site(db, world)
    raw = visit_text(site.key, **{field: "https://a.example/a\\u0000b"})

    response = send(lenient, "/t/v1/visit", raw)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert "NUL" in response.json()["detail"][0]["msg"]
    assert lease_rows(db) == []


def test_a_nul_character_in_a_cookie_is_a_422(
    lenient: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    raw = visit_text(site.key)[:-1] + ', "cookies": {"_ga": "GA1.1.1\\u0000"}}'

    response = send(lenient, "/t/v1/visit", raw)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "cookies", "_ga"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("key", "k\\u0000"), ("visit", "v\\u0000"), ("visitor", "x\\u0000"), ("visit", "\\udfff")],
)
def test_nul_or_a_lone_surrogate_in_a_heartbeat_is_a_422(
    lenient: TestClient, db: Session, world: World, field: str, value: str
) -> None:
    site = set_up_site(db, world)
    values = {"key": json.dumps(site.key)[1:-1], "visitor": "someone", "visit": "v1"}
    values[field] = value
    raw = "{" + ", ".join(f'"{name}": "{text}"' for name, text in values.items()) + "}"

    response = send(lenient, "/t/v1/heartbeat", raw)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
