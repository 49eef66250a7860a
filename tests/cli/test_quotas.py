"""`ringtrail project create` and `apikey create` past the organisation's quota: one error line."""

from __future__ import annotations

from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_a_project_over_the_quota_is_one_error_line(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke(
        "project", "create", "--name", "Second", "--organization", "Acme Realty",
        "--owner-email", world.ours.owner.email,
        RINGTRAIL_MAX_PROJECTS_PER_ORGANIZATION="1",
    )  # fmt: skip
    line = assert_one_error_line(result, 1)
    assert "limit of 1 project" in line and "RINGTRAIL_MAX_PROJECTS_PER_ORGANIZATION" in line


def test_a_key_over_the_quota_is_one_error_line(backend_invoke: Invoke, world: World) -> None:
    result = backend_invoke(
        "apikey", "create", "--organization", "Acme Realty", "--role", "viewer", "--name", "ci",
        RINGTRAIL_MAX_API_KEYS_PER_ORGANIZATION="2",
    )  # fmt: skip
    line = assert_one_error_line(result, 1)
    assert "limit of 2 API keys" in line and "RINGTRAIL_MAX_API_KEYS_PER_ORGANIZATION" in line
