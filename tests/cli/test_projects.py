"""`ringtrail project create` on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.accounts import role_in_project
from ringtrail.storage.models import Organization, Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_project_is_created_normalised_and_owned(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    owner = world.ours.owner
    result = backend_invoke(
        "project", "create", "--name", "Kyiv Flats", "--organization", "New Agency",
        "--owner-email", owner.email.upper(), "--timezone", "Europe/Kyiv", "--currency", "uah",
        "--country", "ua", "--domain", "Flats.example", "--domain", "www.flats.example",
        "--main-number", "(044) 290-01-00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    project = db.scalar(select(Project).where(Project.name == "Kyiv Flats"))
    assert project is not None
    organization = db.get(Organization, project.organization_id)
    assert organization is not None and organization.name == "New Agency"
    assert (project.currency, project.default_country, project.main_number) == (
        "UAH",
        "UA",
        "+380442900100",
    )
    assert project.allowed_domains == ["flats.example", "www.flats.example"]
    assert role_in_project(db, owner, project.id) == "owner"
    assert f"created project {project.id}" in result.stdout
    assert f'data-key="{project.public_key}"' in result.stdout
    assert "/t.js" in result.stdout


def test_project_joins_an_existing_organisation_by_name(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    result = backend_invoke(
        "project",
        "create",
        "--name",
        "Second",
        "--organization",
        "Acme Realty",
        "--owner-email",
        world.ours.owner.email,
    )
    assert result.exit_code == 0, result.output
    project = db.scalar(select(Project).where(Project.name == "Second"))
    assert project is not None and project.organization_id == world.ours.organization_id


def test_unknown_owner_creates_nothing(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "project",
        "create",
        "--name",
        "X",
        "--organization",
        "Y",
        "--owner-email",
        "ghost@example.com",
    )
    assert "ghost@example.com" in assert_one_error_line(result, 1)
    assert db.scalar(select(Organization).where(Organization.name == "Y")) is None


def test_unknown_timezone_is_a_usage_error(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke(
        "project",
        "create",
        "--name",
        "X",
        "--organization",
        "Y",
        "--owner-email",
        world.ours.owner.email,
        "--timezone",
        "Mars/Base",
    )
    assert "timezone" in assert_one_error_line(result, 2)
