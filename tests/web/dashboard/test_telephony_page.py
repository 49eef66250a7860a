"""The Telephony settings page: webhook URL, accounts, and the secret for admins only."""

from __future__ import annotations

import html
import re
import subprocess
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.telephony_accounts import set_account
from ringtrail.storage.models import AuditEntry, Call, Project, TelephonyAccount
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in


def _member(db: Session, world: World, role: Role) -> str:
    email = f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD)
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def page_url(world: World, tail: str = "") -> str:
    return f"/p/{world.ours.project.id}/settings/telephony{tail}"


def test_an_owner_reveals_the_secret_and_the_reveal_is_logged(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client, world.ours.owner.email)
    secret = world.ours.project.webhook_secret
    page = client.get(page_url(world))
    assert page.status_code == 200, page.text
    assert f"/hooks/v1/{world.ours.project.public_key}/calls" in page.text
    assert secret not in page.text
    assert f'href="/p/{world.ours.project.id}/settings/telephony"' in page.text
    shown = client.post(
        page_url(world, "/webhook-secret/reveal"), data={"csrf_token": csrf_of(page.text)}
    )
    assert shown.status_code == 200, shown.text
    assert secret in shown.text
    assert db.scalars(select(AuditEntry.action)).all()[-1] == "project.webhook_secret.show"


def test_rotating_from_the_page_keeps_the_old_secret_for_the_grace_chosen(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client, world.ours.owner.email)
    old = world.ours.project.webhook_secret
    token = csrf_of(client.get(page_url(world)).text)
    done = client.post(
        page_url(world, "/webhook-secret/rotate"),
        data={"csrf_token": token, "grace_hours": "72"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.webhook_secret != old
    assert project.previous_webhook_secret == old
    page = client.get(done.headers["location"])
    assert "still accepted until" in page.text
    refused = client.post(
        page_url(world, "/webhook-secret/rotate"), data={"csrf_token": token, "grace_hours": "5"}
    )
    assert refused.status_code == 400


def test_a_marketer_sees_the_page_without_the_secret_and_cannot_reveal_it(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client, _member(db, world, Role.MARKETER))
    page = client.get(page_url(world))
    assert page.status_code == 200
    assert world.ours.project.webhook_secret not in page.text
    assert "Only the project's admins and owners" in page.text
    assert "/webhook-secret/reveal" not in page.text
    token = csrf_of(page.text)
    for action in ("/webhook-secret/reveal", "/webhook-secret/rotate"):
        refused = client.post(page_url(world, action), data={"csrf_token": token})
        assert refused.status_code == 403
        assert world.ours.project.webhook_secret not in refused.text


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_sales_and_viewers_do_not_open_the_page(
    client: TestClient, db: Session, world: World, role: Role
) -> None:
    log_in(client, _member(db, world, role))
    response = client.get(page_url(world))
    assert response.status_code == 403
    assert world.ours.project.webhook_secret not in response.text


def test_the_accounts_are_listed_with_their_kind_and_webhook_url(
    client: TestClient, db: Session, world: World
) -> None:
    set_account(
        db, world.ours.project, "binotel", {"config": {"recording_hosts": ["pbx.example.com"]}}
    )
    set_account(db, world.ours.project, "sip", {"account_ref": "192.0.2.10"})
    db.commit()
    log_in(client, world.ours.owner.email)
    page = client.get(page_url(world)).text
    key = world.ours.project.public_key
    assert "Binotel" in page and f"/hooks/binotel/{key}" in page and "pbx.example.com" in page
    assert "192.0.2.10" in page


def test_the_curl_example_signs_a_request_the_webhook_accepts(
    client: TestClient, db: Session, world: World
) -> None:
    """The example's own signing lines, run by a shell, make a signature the webhook takes."""
    log_in(client, world.ours.owner.email)
    token = csrf_of(client.get(page_url(world)).text)
    page = client.post(page_url(world, "/webhook-secret/reveal"), data={"csrf_token": token}).text
    found = re.search(r'<textarea id="curl-example"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    script = html.unescape(found.group(1))
    signing = script.split("curl ")[0] + 'printf "%s\\n%s\\n%s" "$TS" "$SIG" "$BODY"\n'
    result = subprocess.run(["bash", "-c", signing], capture_output=True, text=True, check=True)
    stamp, signature, body = result.stdout.split("\n", 2)
    assert abs(int(stamp) - time.time()) < 60
    response = client.post(
        f"/hooks/v1/{world.ours.project.public_key}/calls",
        content=body.encode(),
        headers={
            "Content-Type": "application/json",
            "X-Ringtrail-Timestamp": stamp,
            "X-Ringtrail-Signature": f"v1={signature}",
        },
    )
    assert response.status_code == 200, response.text
    assert db.scalars(select(Call.provider_call_id)).all() == [f"{world.ours.project.id}:test-1"]


def test_an_owner_connects_changes_and_removes_an_account_from_the_page(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client, world.ours.owner.email)
    token = csrf_of(client.get(page_url(world)).text)
    form = {"csrf_token": token, "provider": "sip", "account_ref": "192.0.2.10, 192.0.2.11"}
    saved = client.post(
        page_url(world, "/accounts"), data={**form, "is_active": "1"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    hosts = {"recording_hosts": "pbx.example.com\nfiles.example.com", "is_active": "1"}
    changed = client.post(
        page_url(world, "/accounts"),
        data={"csrf_token": token, "provider": "sip", **hosts},
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    account = db.scalars(select(TelephonyAccount)).one()
    assert account.account_ref == "192.0.2.10, 192.0.2.11"  # an empty field keeps it
    assert account.config == {"recording_hosts": ["pbx.example.com", "files.example.com"]}
    refused = client.post(page_url(world, "/accounts"), data={**form, "secret": "x"})
    assert refused.status_code == 400
    assert "SIP events come from your own Kamailio" in refused.text
    removed = client.post(
        page_url(world, "/accounts/sip/remove"), data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    db.expire_all()
    assert db.scalars(select(TelephonyAccount)).all() == []


def test_a_marketer_cannot_change_accounts(client: TestClient, db: Session, world: World) -> None:
    log_in(client, _member(db, world, Role.MARKETER))
    token = csrf_of(client.get(page_url(world)).text)
    response = client.post(
        page_url(world, "/accounts"), data={"csrf_token": token, "provider": "sip"}
    )
    assert response.status_code == 403
    assert db.scalars(select(TelephonyAccount)).all() == []
