"""Fixtures for job tests: a scripted audio host and the project recordings belong to.

The audio host listens on 127.0.0.1, which a fetch never reaches unless the operator allows
it: the settings here allow that one address, and the project's account lists it as a
recording host, the way an installation with a PBX on its own network would be set up.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.accounts import create_user, get_or_create_organization
from ringtrail.services.projects import create_project
from ringtrail.settings import Settings
from ringtrail.storage.models import Project
from tests.recordings.audio_server import AudioServer, running_audio_server
from tests.recordings.rows import add_account

AUDIO_HOST = "127.0.0.1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings, with the operator allowing fetches from the local audio host."""
    return settings.model_copy(
        update={"recording_fetch_allowed_networks": (ip_network(f"{AUDIO_HOST}/32"),)}
    )


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    """A local HTTP server standing in for a provider's media host."""
    with running_audio_server(AUDIO_HOST) as server:
        yield server


@pytest.fixture
def project(db: Session) -> Project:
    """A project with a 30-day recording retention whose PBX serves recordings locally."""
    organization = get_or_create_organization(db, "Recording Agency")
    owner = create_user(db, "owner@recording.example", "correct horse battery")
    project = create_project(db, organization, "Calls site", owner=owner)
    project.recording_retention_days = 30
    add_account(db, project, "sip", "pbx", "pbx-secret", recording_hosts=[AUDIO_HOST])
    db.commit()
    return project
