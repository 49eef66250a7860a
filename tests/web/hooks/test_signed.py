"""The generic signed webhook: HMAC over timestamp and body, replay window, fail-closed checks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.runtime import bootstrap
from ringtrail.services.tracking import add_number
from ringtrail.services.webhook_secrets import rotate_webhook_secret
from ringtrail.settings import Settings
from ringtrail.storage.models import Call, CallEvent, Project
from ringtrail.telephony.signed import MAX_SKEW_SECONDS, sign
from ringtrail.web.app import create_app
from tests.conftest import World

NUMBER = "+380441230001"


@pytest.fixture
def flyer(db: Session, world: World) -> str:
    add_number(db, world.ours.project, {"number": NUMBER, "kind": "static", "source": "flyer"})
    db.commit()
    return NUMBER


def url(world: World) -> str:
    return f"/hooks/v1/{world.ours.project.public_key}/calls"


def post(
    client: TestClient,
    world: World,
    payload: Any,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    sent_at = int(time.time()) if timestamp is None else timestamp
    signed = {
        "Content-Type": "application/json",
        "X-Ringtrail-Timestamp": str(sent_at),
        "X-Ringtrail-Signature": sign(secret or world.ours.project.webhook_secret, sent_at, body),
    }
    return client.post(url(world), content=body, headers=headers if headers is not None else signed)


def started(call_id: str = "pbx-1", **extra: Any) -> dict[str, Any]:
    return {
        "event": "call.started",
        "call_id": call_id,
        "occurred_at": "2026-11-23T10:00:00+02:00",
        "to": NUMBER,
        "from": "+380501112233",
        **extra,
    }


def ended(call_id: str = "pbx-1") -> dict[str, Any]:
    return {
        "event": "call.ended",
        "call_id": call_id,
        "occurred_at": "2026-11-23T10:01:30+02:00",
        "outcome": "answered",
        "total_seconds": 90,
        "talk_seconds": 75,
    }


def test_a_signed_batch_makes_one_complete_call(
    client: TestClient, world: World, flyer: str, db: Session
) -> None:
    response = post(client, world, {"events": [started(), ended()]})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    call = db.scalars(select(Call)).one()
    assert (call.status, call.duration_seconds, call.talk_seconds) == ("answered", 90, 75)
    assert (call.source, call.attribution_kind) == ("flyer", "static")


def test_redelivery_is_acknowledged_and_ignored(
    client: TestClient, world: World, flyer: str, db: Session
) -> None:
    for attempt in range(5):
        response = post(client, world, started())
        assert response.status_code == 200
        assert response.json()["duplicates"] == (1 if attempt else 0)
    assert db.scalar(select(func.count()).select_from(CallEvent)) == 1


@pytest.mark.parametrize(
    "problem",
    ["wrong secret", "no signature", "old timestamp", "future timestamp", "altered body"],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(
    client: TestClient, world: World, flyer: str, db: Session, problem: str
) -> None:
    now = int(time.time())
    if problem == "wrong secret":
        response = post(client, world, started(), secret="not-the-secret")
    elif problem == "no signature":
        response = post(client, world, started(), headers={"Content-Type": "application/json"})
    elif problem == "old timestamp":
        response = post(client, world, started(), timestamp=now - MAX_SKEW_SECONDS - 5)
    elif problem == "future timestamp":
        response = post(client, world, started(), timestamp=now + MAX_SKEW_SECONDS + 5)
    else:
        body = json.dumps(started()).encode()
        signature = sign(world.ours.project.webhook_secret, now, body)
        altered = json.dumps(started(call_id="pbx-2")).encode()
        response = client.post(
            url(world),
            content=altered,
            headers={"X-Ringtrail-Timestamp": str(now), "X-Ringtrail-Signature": signature},
        )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("signature refused")
    assert db.scalar(select(func.count()).select_from(CallEvent)) == 0


def test_another_projects_secret_does_not_open_our_hook(
    client: TestClient, world: World, flyer: str
) -> None:
    response = post(client, world, started(), secret=world.outsider.project.webhook_secret)
    assert response.status_code == 403


AT = {"call_id": "x", "occurred_at": "2026-11-23T10:00:00Z"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({**AT, "event": "call.exploded"}, "event"),
        ({**AT, "event": "call.started", "occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"event": "call.started", "occurred_at": "2026-11-23T10:00:00Z"}, "call_id"),
        ({**ended(), "talk_seconds": -3}, "talk_seconds"),
        ({**ended(), "colour": "red"}, "colour"),
        ({"events": []}, "events"),
        ({**AT, "event": "call.recording_ready"}, "recording_url"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(
    client: TestClient, world: World, flyer: str, payload: dict[str, Any], reason: str
) -> None:
    response = post(client, world, payload)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def test_a_body_that_is_not_json_is_rejected(client: TestClient, world: World) -> None:
    body = b"{not json"
    now = int(time.time())
    response = client.post(
        url(world),
        content=body,
        headers={
            "X-Ringtrail-Timestamp": str(now),
            "X-Ringtrail-Signature": sign(world.ours.project.webhook_secret, now, body),
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "body is not valid JSON"


def test_an_unknown_project_key_is_404(client: TestClient) -> None:
    assert client.post("/hooks/v1/nope/calls", content=b"{}").status_code == 404


@pytest.fixture
def down_client(tmp_path: Path) -> Iterator[TestClient]:
    """The app on a PostgreSQL address where nothing listens: the database is down."""
    settings = Settings(
        database_url="postgresql://ringtrail@127.0.0.1:9/ringtrail",
        data_dir=tmp_path,
        secret_key="test-secret-key-not-for-production",
    )
    with TestClient(create_app(bootstrap(settings))) as client:
        yield client


def test_while_the_database_is_down_the_hook_answers_503_so_providers_retry(
    down_client: TestClient,
) -> None:
    response = down_client.post("/hooks/v1/some-key/calls", content=json.dumps(started()))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["detail"].startswith("database unavailable")


def test_after_a_rotation_the_old_secret_works_for_the_grace_period_and_then_never(
    client: TestClient, world: World, flyer: str, db: Session
) -> None:
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    old = project.webhook_secret
    state = rotate_webhook_secret(db, project, datetime.now(UTC), grace_hours=24)
    db.commit()
    assert state.secret != old
    assert post(client, world, started("a"), secret=old).status_code == 200
    assert post(client, world, started("b"), secret=state.secret).status_code == 200
    project.previous_webhook_secret_until = datetime.now(UTC) - timedelta(seconds=1)
    db.commit()
    refused = post(client, world, started("c"), secret=old)
    assert refused.status_code == 403, refused.text
    assert post(client, world, started("d"), secret=state.secret).status_code == 200


def test_a_rotation_without_grace_refuses_the_old_secret_at_once(
    client: TestClient, world: World, flyer: str, db: Session
) -> None:
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    old = project.webhook_secret
    rotate_webhook_secret(db, project, datetime.now(UTC), grace_hours=0)
    db.commit()
    assert post(client, world, started("a"), secret=old).status_code == 403
