"""`ringtrail reports rebuild` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.reports.rollup import Dimension
from ringtrail.storage.models import CallRollup
from tests.call_rows import add_call
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_the_rebuild_command(backend_invoke: Invoke, db: Session, world: World) -> None:
    project = world.ours.project
    add_call(db, project, started_at=datetime(2025, 1, 9, 23, 30, tzinfo=UTC))
    db.commit()
    result = backend_invoke("reports", "rebuild", "--project", str(project.id))
    assert result.exit_code == 0, result.output
    assert f"project {project.id}" in result.stdout
    db.expire_all()
    calls = db.scalar(
        select(CallRollup.calls).where(
            CallRollup.project_id == project.id,
            CallRollup.dimension == Dimension.TOTAL.value,
            CallRollup.day == date(2025, 1, 10),
        )
    )
    assert calls == 1
    missing = backend_invoke("reports", "rebuild", "--project", "999999")
    assert "no such project" in assert_one_error_line(missing, 1)
