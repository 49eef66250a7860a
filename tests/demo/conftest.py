"""One generated demo per backend, shared by the read-only tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ringtrail.demo.generator import DemoSummary, generate_demo
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from tests.conftest import empty_all_tables

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)


@dataclass
class GeneratedDemo:
    """The demo as generated once: the runtime it lives in and the generator's summary."""

    runtime: Runtime
    summary: DemoSummary
    now: datetime

    def session(self) -> Session:
        return self.runtime.sessions()


@pytest.fixture(scope="module")
def generated(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeneratedDemo]:
    """90 days of demo data generated into the backend's database, removed afterwards."""
    data_dir: Path = tmp_path_factory.mktemp("demo-data")
    runtime = bootstrap(
        Settings(
            database_url=database_url,
            data_dir=data_dir,
            secret_key="test-secret-key-not-for-production",
        )
    )
    try:
        with runtime.sessions() as session:
            summary = generate_demo(session, NOW, days=90, seed=7)
            session.commit()
        yield GeneratedDemo(runtime, summary, NOW)
    finally:
        empty_all_tables(runtime)
        runtime.close()
