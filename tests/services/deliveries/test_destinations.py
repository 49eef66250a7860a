"""Destinations: settings checked by the kind, secrets encrypted and masked, rules checked."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ringtrail.services.deliveries import destinations as service
from ringtrail.services.errors import InvalidInput, NotFound
from tests.conftest import World
from tests.services.deliveries.fake_sink import KIND, Sink, SinkConfig


def test_secrets_are_kept_apart_encrypted_masked_and_kept_when_left_blank(
    db: Session, world: World, sink: Sink
) -> None:
    project = world.ours.project
    row = service.create_destination(
        db,
        project,
        kind=KIND,
        name=" Sink ",
        config={"url": sink.url, "token": "first-token-1"},
        rules={"target_only": True},
    )
    assert row.name == "Sink" and row.config == {"url": sink.url}
    assert service.stored_secrets(row) == {"token": "first-token-1"}
    stored = db.execute(text("SELECT secrets FROM integration_destinations")).scalar_one()
    assert "first-token-1" not in stored  # encrypted at rest
    assert service.shown_config(row) == {"url": sink.url, "token": service.MASK}
    assert row.rules["target_only"] is True and row.rules["value_mode"] == "none"
    service.update_destination(db, project, row.id, config={"url": sink.url + "?a", "token": ""})
    config = service.config_of(row)
    assert isinstance(config, SinkConfig) and config.token == "first-token-1"
    service.update_destination(
        db, project, row.id, config={"url": sink.url, "token": "second-token"}
    )
    assert service.stored_secrets(row) == {"token": "second-token"}
    assert json.loads(row.secrets or "{}") == {"token": "second-token"}


def test_bad_settings_and_rules_name_the_field(db: Session, world: World, sink: Sink) -> None:
    project = world.ours.project
    with pytest.raises(InvalidInput) as caught:
        service.create_destination(db, project, kind=KIND, name="x", config={"url": sink.url})
    assert caught.value.field == "config.token"
    with pytest.raises(InvalidInput) as caught:
        service.create_destination(
            db,
            project,
            kind=KIND,
            name="x",
            config={"url": sink.url, "token": "t" * 9},
            rules={"min_talk_seconds": -5},
        )
    assert caught.value.field == "rules.min_talk_seconds"
    with pytest.raises(NotFound):
        service.create_destination(db, project, kind="carrier_pigeon", name="x", config={})
    with pytest.raises(InvalidInput):
        service.create_destination(
            db, project, kind=KIND, name=" ", config={"url": sink.url, "token": "t" * 9}
        )


def test_another_projects_destination_is_not_found(db: Session, world: World, sink: Sink) -> None:
    row = service.create_destination(
        db, world.ours.project, kind=KIND, name="Sink", config={"url": sink.url, "token": "t" * 9}
    )
    with pytest.raises(NotFound):
        service.get_destination(db, world.outsider.project, row.id)
    service.delete_destination(db, world.ours.project, row.id)
    assert service.list_destinations(db, world.ours.project) == []


def test_consent_mode_is_a_project_setting(db: Session, world: World) -> None:
    project = world.ours.project
    assert service.consent_mode(project) == "ignore"
    service.set_consent_mode(db, project, "require")
    assert service.consent_mode(project) == "require"
    with pytest.raises(InvalidInput):
        service.set_consent_mode(db, project, "sometimes")
