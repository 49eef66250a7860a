"""/api/v1/projects/{id}/telephony: provider accounts, hidden secrets, webhook URLs, isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.runtime import bootstrap
from ringtrail.services.telephony_accounts import PROVIDERS
from ringtrail.settings import Settings
from ringtrail.storage.models import TelephonyAccount
from ringtrail.web.api.telephony import Provider
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.api.keys import project_key
from tests.web.api.test_bad_bodies import ODD_VALUES, body_fields

SECRET = "twilio-auth-token-0123456789abcdef"
SID = "AC0123456789abcdef0123456789abcdef"
PROJECT = "/api/v1/projects/{project_id}"


def telephony_url(world: World, tail: str = "") -> str:
    return f"/api/v1/projects/{world.ours.project.id}/telephony{tail}"


def put(client: TestClient, world: World, provider: str, **body: Any) -> dict[str, Any]:
    response = client.put(
        telephony_url(world, f"/{provider}"), headers=world.ours.project_auth, json=body
    )
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_telephony_needs_a_key(client: TestClient, world: World) -> None:
    assert client.get(telephony_url(world)).status_code == 401
    assert client.put(telephony_url(world, "/twilio"), json={}).status_code == 401
    assert client.delete(telephony_url(world, "/twilio")).status_code == 401


def test_connecting_a_provider_stores_the_secret_and_never_returns_it(
    client: TestClient, world: World, db: Session
) -> None:
    url, auth = telephony_url(world, "/twilio"), world.ours.project_auth
    created = client.put(url, headers=auth, json={"account_ref": SID, "secret": SECRET})
    assert created.status_code == 201, created.text
    assert created.json()["has_secret"] is True
    assert (created.json()["account_ref"], created.json()["is_active"]) == (SID, True)
    listing = client.get(telephony_url(world), headers=auth)
    for response in (created, listing):
        assert SECRET not in response.text
        assert "secret" not in str(response.json()).replace("has_secret", "")
    stored = db.query(TelephonyAccount).filter_by(project_id=world.ours.project.id).one()
    assert stored.secret == SECRET


def test_put_changes_only_the_fields_sent_and_null_clears_the_secret(
    client: TestClient, world: World
) -> None:
    put(client, world, "zadarma", account_ref="1234", secret=SECRET, config={"pbx": "100"})
    url, auth = telephony_url(world, "/zadarma"), world.ours.project_auth
    changed = client.put(url, headers=auth, json={"is_active": False})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["account_ref"], body["has_secret"], body["config"]) == (
        "1234",
        True,
        {"pbx": "100"},
    )
    assert body["is_active"] is False
    cleared = client.put(url, headers=auth, json={"secret": None, "config": {}})
    assert (cleared.json()["has_secret"], cleared.json()["config"]) == (False, {})
    for field in ("config", "is_active"):
        refused = client.put(url, headers=auth, json={field: None})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", field]


def test_the_list_shows_accounts_and_every_webhook_url(client: TestClient, world: World) -> None:
    put(client, world, "binotel", config={"allowed_ips": ["194.88.218.116"]})
    put(client, world, "twilio", account_ref=SID)
    body = client.get(telephony_url(world), headers=world.ours.project_auth).json()
    key = world.ours.project.public_key
    assert body["webhook_urls"] == {
        "twilio": "/hooks/twilio/voice",
        "zadarma": f"/hooks/zadarma/{key}",
        "binotel": f"/hooks/binotel/{key}",
        "sip": f"/hooks/v1/{key}/calls",
    }
    assert [a["provider"] for a in body["accounts"]] == ["twilio", "binotel"]
    assert body["accounts"][1]["webhook_url"] == f"/hooks/binotel/{key}"
    assert body["accounts"][1]["has_secret"] is False


@pytest.fixture
def public_client(settings: Settings) -> Iterator[TestClient]:
    """A client for an instance whose public URL is set."""
    runtime = bootstrap(settings.model_copy(update={"public_url": "https://calls.example.com/"}))
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def test_webhook_urls_start_with_the_public_url_when_it_is_set(
    public_client: TestClient, world: World
) -> None:
    body = public_client.get(telephony_url(world), headers=world.ours.project_auth).json()
    key = world.ours.project.public_key
    assert body["webhook_urls"]["twilio"] == "https://calls.example.com/hooks/twilio/voice"
    assert body["webhook_urls"]["sip"] == f"https://calls.example.com/hooks/v1/{key}/calls"


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES, Role.VIEWER])
def test_only_admins_and_owners_manage_accounts_but_every_member_may_list(
    client: TestClient, world: World, db: Session, role: Role
) -> None:
    put(client, world, "twilio", account_ref=SID, secret=SECRET)
    auth = project_key(db, world.ours, role)
    assert client.put(telephony_url(world, "/twilio"), headers=auth, json={}).status_code == 403
    assert client.put(telephony_url(world, "/sip"), headers=auth, json={}).status_code == 403
    assert client.delete(telephony_url(world, "/twilio"), headers=auth).status_code == 403
    listing = client.get(telephony_url(world), headers=auth)
    assert listing.status_code == 200
    assert SECRET not in listing.text
    owner = world.ours.org_auth
    assert client.put(telephony_url(world, "/sip"), headers=owner, json={}).status_code == 201


def test_an_account_sid_claimed_elsewhere_is_no_409_and_reveals_nothing(
    client: TestClient, world: World
) -> None:
    """Another tenant holding this AccountSid is never told, and never blocks anyone: the
    webhook goes to the project whose auth token signs it (tests/web/hooks/test_twilio.py)."""
    put(client, world, "twilio", account_ref=SID, secret=SECRET)
    theirs = f"/api/v1/projects/{world.outsider.project.id}/telephony"
    auth = world.outsider.project_auth
    claim = client.put(f"{theirs}/twilio", headers=auth, json={"account_ref": SID})
    assert claim.status_code == 201, claim.text
    assert (claim.json()["account_ref"], claim.json()["has_secret"]) == (SID, False)
    created = client.put(f"{theirs}/zadarma", headers=auth, json={"account_ref": SID})
    assert created.status_code == 201
    put(client, world, "twilio", account_ref=SID, secret=SECRET)


def test_an_unknown_provider_is_a_422(client: TestClient, world: World) -> None:
    auth = world.ours.project_auth
    for response in (
        client.put(telephony_url(world, "/skype"), headers=auth, json={}),
        client.delete(telephony_url(world, "/skype"), headers=auth),
    ):
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "provider"]


def test_the_providers_in_the_api_are_the_providers_ingestion_knows() -> None:
    assert set(get_args(Provider)) == set(PROVIDERS)


def test_deleting_an_account_disconnects_the_provider(client: TestClient, world: World) -> None:
    put(client, world, "sip", account_ref="192.0.2.10")
    url, auth = telephony_url(world, "/sip"), world.ours.project_auth
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(telephony_url(world), headers=auth).json()["accounts"] == []
    assert client.delete(url, headers=auth).status_code == 404
    assert client.put(url, headers=auth, json={}).status_code == 201


def test_the_outsider_never_sees_or_changes_our_accounts(client: TestClient, world: World) -> None:
    put(client, world, "twilio", account_ref=SID, secret=SECRET)
    theirs = f"/api/v1/projects/{world.outsider.project.id}/telephony"
    for auth in (world.outsider.org_auth, world.outsider.project_auth):
        assert client.get(telephony_url(world), headers=auth).status_code == 404
        assert client.put(telephony_url(world, "/twilio"), headers=auth, json={}).status_code == 404
        assert client.delete(telephony_url(world, "/twilio"), headers=auth).status_code == 404
        assert client.get(theirs, headers=auth).json()["accounts"] == []
        assert client.delete(f"{theirs}/twilio", headers=auth).status_code == 404
    ours = client.get(telephony_url(world), headers=world.ours.project_auth).json()["accounts"]
    assert [(a["provider"], a["account_ref"], a["has_secret"]) for a in ours] == [
        ("twilio", SID, True)
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"account_ref": ""}, "account_ref"),
        ({"account_ref": "x" * 201}, "account_ref"),
        ({"secret": 12345}, "secret"),
        ({"secret": "a\x00b"}, "secret"),
        ({"config": "text"}, "config"),
        ({"config": {"ips": "a\x00b"}}, "config"),
        ({"config": {"big": "x" * 10_001}}, "config"),
        ({"is_active": "sometimes"}, "is_active"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(
    client: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    url = telephony_url(world, "/zadarma")
    response = client.put(url, headers=world.ours.project_auth, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_a_config_that_is_not_plain_json_is_a_422(client: TestClient, world: World) -> None:
    headers = {**world.ours.project_auth, "Content-Type": "application/json"}
    for raw in ('{"config": {"ratio": NaN}}', '{"config": {"ratio": Infinity}}'):
        response = client.put(telephony_url(world, "/sip"), headers=headers, content=raw)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", "config"]


def test_recording_hosts_are_checked_and_kept_normalised(client: TestClient, world: World) -> None:
    hosts = [" PBX.Example.com ", "*.files.example.com", "10.0.0.5"]
    account = put(client, world, "sip", config={"recording_hosts": hosts, "note": "lan"})
    assert account["config"] == {
        "recording_hosts": ["pbx.example.com", "*.files.example.com", "10.0.0.5"],
        "note": "lan",
    }


@pytest.mark.parametrize(
    "hosts", ["pbx.example.com", ["http://pbx.example.com/x"], ["*"], ["*.com"], [None]]
)
def test_unusable_recording_hosts_are_a_422_saying_why(
    client: TestClient, world: World, hosts: Any
) -> None:
    url = telephony_url(world, "/sip")
    response = client.put(
        url, headers=world.ours.project_auth, json={"config": {"recording_hosts": hosts}}
    )
    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", "config.recording_hosts"]
    assert problem["msg"]


def test_odd_values_in_any_field_are_never_a_server_error(client: TestClient, world: World) -> None:
    openapi = client.get("/openapi.json").json()
    auth = world.ours.project_auth
    template = f"{PROJECT}/telephony/{{provider}}"
    for provider in ("zadarma", "twilio"):
        target = telephony_url(world, f"/{provider}")
        for field in body_fields(openapi, template, "put"):
            for value in ODD_VALUES:
                response = client.put(target, headers=auth, json={field: value})
                assert response.status_code < 500, (provider, field, value, response.text)
        odd_bodies: list[Any] = [[], "text", 7, None]
        for body in odd_bodies:
            assert client.put(target, headers=auth, json=body).status_code == 422


def test_the_telephony_endpoints_are_documented_and_need_the_bearer_key(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    reference = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    expected = {
        f"{PROJECT}/telephony": {"get"},
        f"{PROJECT}/telephony/{{provider}}": {"put", "delete"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) & {"get", "put", "patch", "post", "delete"} == methods
        for method in methods:
            assert paths[path][method]["security"] == [{"HTTPBearer": []}]
            assert f"`{method.upper()} {path}`" in reference


def test_a_sip_account_takes_no_secret_and_says_which_secret_signs_instead(
    client: TestClient, world: World, db: Session
) -> None:
    """SIP events come from Kamailio through RabbitMQ: no secret of the account was checked."""
    url, auth = telephony_url(world, "/sip"), world.ours.project_auth
    response = client.put(url, headers=auth, json={"secret": SECRET})
    assert response.status_code == 422, response.text
    assert "webhook-secret" in response.text
    assert db.query(TelephonyAccount).filter_by(project_id=world.ours.project.id).count() == 0
    assert client.put(url, headers=auth, json={"secret": None}).json()["has_secret"] is False


def test_a_sip_account_names_its_trunk_by_the_carrier_addresses(
    client: TestClient, world: World
) -> None:
    account = put(client, world, "sip", account_ref=" 192.0.2.10,2001:DB8::1 192.0.2.10")
    assert account["account_ref"] == "192.0.2.10, 2001:db8::1"
    url, auth = telephony_url(world, "/sip"), world.ours.project_auth
    for ref in ("pbx.example.com", "192.0.2.10, carrier"):
        response = client.put(url, headers=auth, json={"account_ref": ref})
        assert response.status_code == 422, response.text
        assert "IP addresses" in response.text
