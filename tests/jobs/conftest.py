"""Fixtures for job tests: a scripted audio host and the project recordings belong to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.accounts import create_user, get_or_create_organization
from ringtrail.services.projects import create_project
from ringtrail.storage.models import Project
from tests.recordings.audio_server import AudioServer, running_audio_server


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    """A local HTTP server standing in for a provider's media host."""
    with running_audio_server() as server:
        yield server


@pytest.fixture
def project(db: Session) -> Project:
    """A project with a 30-day recording retention."""
    organization = get_or_create_organization(db, "Recording Agency")
    owner = create_user(db, "owner@recording.example", "correct horse battery")
    project = create_project(db, organization, "Calls site", owner=owner)
    project.recording_retention_days = 30
    db.commit()
    return project
