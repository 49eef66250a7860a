"""`ringtrail project set --number-allocation`: stored, printed, and a wrong value refused."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_number_allocation_is_set_printed_and_checked(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project_id = str(world.ours.project.id)
    shown = backend_invoke("project", "set", project_id)
    assert "number allocation: visit" in shown.stdout

    result = backend_invoke("project", "set", project_id, "--number-allocation", "intent")

    assert result.exit_code == 0, result.output
    assert "number allocation: intent" in result.stdout
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.number_allocation == "intent"
    refused = backend_invoke("project", "set", project_id, "--number-allocation", "later")
    assert "one of visit, intent" in assert_one_error_line(refused, 2)
