"""A renewed Bitrix24 token pair is written into the destination's stored secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session

from ringtrail.integrations.bitrix24 import Bitrix24Config, Bitrix24Destination
from ringtrail.runtime import Runtime
from ringtrail.services.bitrix24_tokens import DatabaseTokenStore
from ringtrail.storage.models import IntegrationDestination
from tests.conftest import World
from tests.integrations.bitrix24_stub import Bitrix24Stub


@pytest.fixture
def stub() -> Iterator[Bitrix24Stub]:
    running = Bitrix24Stub().start()
    yield running
    running.stop()


def test_a_renewal_survives_a_restart(
    db: Session, runtime: Runtime, world: World, stub: Bitrix24Stub
) -> None:
    clear = {
        "connection": "oauth",
        "client_endpoint": stub.client_endpoint,
        "client_id": stub.client_id,
        "oauth_server": stub.base_url,
    }
    secrets = {
        "client_secret": stub.client_secret,
        "access_token": "access-0",  # expired: the portal is at access-1
        "refresh_token": stub.refresh_token,
    }
    row = IntegrationDestination(
        project_id=world.ours.project.id,
        kind="bitrix24",
        name="B24 app",
        config=clear,
        secrets=json.dumps(secrets),
    )
    db.add(row)
    db.commit()
    destination = Bitrix24Destination(DatabaseTokenStore(runtime.sessions))
    config = Bitrix24Config.model_validate({**clear, **secrets})
    with httpx.Client() as client:
        assert destination.api(client, config).call("crm.lead.add", {"fields": {}}) == 101
    db.expire_all()
    stored = json.loads(db.get(IntegrationDestination, row.id).secrets or "{}")  # type: ignore[union-attr]
    assert (stored["access_token"], stored["refresh_token"]) == ("access-2", "refresh-2")
    assert stored["client_secret"] == stub.client_secret
    # A new process reads the stored pair and needs no renewal.
    restarted = Bitrix24Destination(DatabaseTokenStore(runtime.sessions))
    again = Bitrix24Config.model_validate({**clear, **stored})
    stub.calls.clear()
    with httpx.Client() as client:
        restarted.api(client, again).call("crm.lead.add", {"fields": {}})
    assert "oauth.token" not in stub.methods()
