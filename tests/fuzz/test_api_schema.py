"""Schemathesis over the OpenAPI document: no generated request gets a 5xx or logs an error.

Every operation is called with schema-valid and schema-breaking data as the project's owner,
as a viewer and as another tenant; path ids point at the first tenant's project, so the other
tenant's requests probe isolation as well as parsing: an outsider never gets a 2xx there.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from tests.conftest import World
from tests.fuzz.conftest import count_request, examples
from tests.web.api.keys import project_key

EXAMPLES_PER_OPERATION = 30


def fuzz_every_operation(client: TestClient, who: str, auth: dict[str, str], world: World) -> None:
    """Run each operation's generated cases as `who`; fail on the first bad answer."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=examples(EXAMPLES_PER_OPERATION),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def send(case: Any) -> None:
            if "project_id" in (case.path_parameters or {}):
                case.path_parameters["project_id"] = world.ours.project.id
            # No 5xx is the check here; speed is bench/'s. A generous read timeout keeps a
            # stall of a busy shared machine (schemathesis waits 10 s) from failing it.
            response = case.call(headers=auth, timeout=120)
            count_request(f"api as {who}")
            where = f"{case.method} {case.formatted_path} as {who}"
            assert response.status_code < 500, (where, response.text[:500])
            if who == "outsider" and "{project_id}" in case.path:
                assert response.status_code >= 400, where

        send()


@pytest.mark.usefixtures("no_errors_logged")
def test_the_owner_never_gets_a_server_error(client: TestClient, world: World) -> None:
    fuzz_every_operation(client, "owner", world.ours.org_auth, world)


@pytest.mark.usefixtures("no_errors_logged")
def test_a_viewer_never_gets_a_server_error(client: TestClient, world: World, db: Session) -> None:
    fuzz_every_operation(client, "viewer", project_key(db, world.ours, Role.VIEWER), world)


@pytest.mark.usefixtures("no_errors_logged")
def test_another_tenant_never_gets_a_server_error_or_our_data(
    client: TestClient, world: World
) -> None:
    fuzz_every_operation(client, "outsider", world.outsider.org_auth, world)
