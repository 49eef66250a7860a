"""`ringtrail apikey create | list | revoke` on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.services.accounts import resolve_api_key
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def _secret(result_stdout: str) -> str:
    return result_stdout.strip().splitlines()[-1]


def _prefix(secret: str) -> str:
    return secret[: len("rt_") + 12]


def test_created_key_works_with_its_role_and_scope(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    result = backend_invoke(
        "apikey",
        "create",
        "--organization",
        "Acme Realty",
        "--role",
        "marketer",
        "--name",
        "ci",
        "--project",
        str(project.id),
    )
    assert result.exit_code == 0, result.output
    key = resolve_api_key(db, _secret(result.stdout))
    assert key is not None
    assert (key.role, key.project_id, key.name) == ("marketer", project.id, "ci")


def test_organisation_wide_key_has_no_project(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    result = backend_invoke(
        "apikey", "create", "--organization", "acme realty", "--role", "admin", "--name", "all"
    )
    assert result.exit_code == 0, result.output
    key = resolve_api_key(db, _secret(result.stdout))
    assert key is not None and key.project_id is None
    assert key.organization_id == world.ours.organization_id


def test_key_for_another_organisations_project_is_refused(
    backend_invoke: Invoke, world: World
) -> None:
    result = backend_invoke(
        "apikey",
        "create",
        "--organization",
        "Acme Realty",
        "--role",
        "admin",
        "--name",
        "x",
        "--project",
        str(world.outsider.project.id),
    )
    assert "another organisation" in assert_one_error_line(result, 2)


def test_unknown_organisation_is_one_line(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke(
        "apikey", "create", "--organization", "Nobody", "--role", "admin", "--name", "x"
    )
    assert "Nobody" in assert_one_error_line(result, 1)


def test_list_shows_prefixes_never_secrets(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke("apikey", "list", "--organization", "Acme Realty")
    assert result.exit_code == 0, result.output
    assert world.ours.org_key not in result.stdout
    assert _prefix(world.ours.org_key) in result.stdout
    assert _prefix(world.outsider.org_key) not in result.stdout


def test_revoked_key_stops_working_and_stays_listed(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    key = resolve_api_key(db, world.ours.project_key)
    assert key is not None
    db.rollback()
    result = backend_invoke("apikey", "revoke", str(key.id))
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert resolve_api_key(db, world.ours.project_key) is None
    listing = backend_invoke("apikey", "list").stdout
    assert "revoked" in listing


def test_revoking_an_unknown_key_is_one_line(backend_invoke: Invoke) -> None:
    assert "999999" in assert_one_error_line(backend_invoke("apikey", "revoke", "999999"), 1)
