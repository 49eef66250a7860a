"""Fixtures shared by the webhook tests: clients whose requests come from a chosen address."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from ringtrail.runtime import Runtime
from ringtrail.web.app import create_app


@pytest.fixture
def client_from(runtime: Runtime) -> Iterator[Callable[[str], TestClient]]:
    """HTTP clients whose requests come from a chosen address."""
    app = create_app(runtime)
    opened: list[TestClient] = []

    def make(address: str) -> TestClient:
        client = TestClient(app, client=(address, 40000))
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()
