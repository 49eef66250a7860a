"""`ringtrail calls unmatched` and `calls assign`: the operator's list of unclaimed calls."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion
from ringtrail.storage.models import Call
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.services.test_unmatched_calls import sip_call


def test_unmatched_calls_are_listed_and_given_to_a_project(
    backend_invoke: Invoke, runtime: Runtime, db: Session, world: World
) -> None:
    assert "no unmatched calls" in backend_invoke("calls", "unmatched").output
    CallIngestion(runtime.sessions).ingest_many(sip_call("cli-unmatched-1"))
    call_id = db.query(Call.id).one()[0]

    listed = backend_invoke("calls", "unmatched")
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith(f"{call_id}\t")
    assert "to +380443330000" in listed.output and "trunk 192.0.2.10" in listed.output

    project = str(world.ours.project.id)
    given = backend_invoke("calls", "assign", str(call_id), "--project", project)
    assert given.exit_code == 0, given.output
    assert f"now belongs to project {project}" in given.output
    db.expire_all()
    assert db.get(Call, call_id).project_id == world.ours.project.id  # type: ignore[union-attr]
    again = backend_invoke("calls", "assign", str(call_id), "--project", project)
    assert "already belongs to project" in assert_one_error_line(again, 2)
