"""The dashboard's privacy: masked numbers for viewers, retention, erasure, the audit log page."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.storage.models import Call, Project
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import csrf_of, log_in

CALLER = "+380501234567"
MASKED = "+38050•••••67"


def _member(db: Session, world: World, role: Role) -> str:
    email = f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD)
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def _call(db: Session, world: World) -> int:
    call = Call(
        project_id=world.ours.project.id,
        provider="binotel",
        provider_call_id="dash-1",
        caller_e164=CALLER,
        dialled_e164="+380441234567",
        started_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
        status="answered",
    )
    db.add(call)
    db.commit()
    return call.id


def test_a_viewer_sees_callers_numbers_masked_in_the_log_details_and_export(
    client: TestClient, db: Session, world: World
) -> None:
    call_id = _call(db, world)
    log_in(client, _member(db, world, Role.VIEWER))
    base = f"/p/{world.ours.project.id}/calls"
    for path in (base, f"{base}/{call_id}", f"{base}.csv"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert MASKED in page.text and CALLER not in page.text, path


def test_a_sales_user_sees_callers_numbers_whole(
    client: TestClient, db: Session, world: World
) -> None:
    call_id = _call(db, world)
    log_in(client, _member(db, world, Role.SALES))
    base = f"/p/{world.ours.project.id}/calls"
    for path in (base, f"{base}/{call_id}", f"{base}.csv"):
        assert CALLER in client.get(path).text, path


def test_an_owner_sets_retention_erases_a_caller_and_reads_the_audit_log(
    client: TestClient, db: Session, world: World
) -> None:
    _call(db, world)
    project_id = world.ours.project.id
    log_in(client, world.ours.owner.email)
    page = client.get(f"/p/{project_id}/settings/privacy")
    assert page.status_code == 200
    token = csrf_of(page.text)
    saved = client.post(
        f"/p/{project_id}/settings/privacy",
        data={"csrf_token": token, "call_retention_days": "400", "visit_retention_days": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None and project.call_retention_days == 400
    assert project.recording_retention_days is None
    bad = client.post(
        f"/p/{project_id}/settings/privacy",
        data={"csrf_token": token, "call_retention_days": "0"},
    )
    assert bad.status_code == 400
    erased = client.post(
        f"/p/{project_id}/settings/privacy/erase",
        data={"csrf_token": token, "phone": CALLER},
        follow_redirects=False,
    )
    assert erased.status_code == 303 and "caller_erased" in erased.headers["location"]
    assert db.scalar(select(Call.id).where(Call.caller_e164 == CALLER)) is None
    again = client.post(
        f"/p/{project_id}/settings/privacy/erase",
        data={"csrf_token": token, "phone": CALLER},
        follow_redirects=False,
    )
    assert "caller_not_found" in again.headers["location"]
    log = client.get(f"/p/{project_id}/settings/privacy").text
    assert "privacy.erase" in log and "project.update" in log and CALLER not in log


def test_marketers_cannot_open_the_privacy_page(
    client: TestClient, db: Session, world: World
) -> None:
    log_in(client, _member(db, world, Role.MARKETER))
    assert client.get(f"/p/{world.ours.project.id}/settings/privacy").status_code == 403
