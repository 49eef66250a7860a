"""`ringtrail privacy`: retention periods, erasing a caller, the audit log, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import AuditEntry, Call, Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World

CALLER = "+380501234567"


def test_retention_erase_and_audit_from_the_command_line(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    db.add(
        Call(
            project_id=project.id,
            provider="binotel",
            provider_call_id="cli-1",
            caller_e164=CALLER,
            dialled_e164="+380441234567",
            started_at=datetime(2025, 3, 1, tzinfo=UTC),
            status="answered",
        )
    )
    db.commit()
    pid = str(project.id)

    shown = backend_invoke(
        "privacy", "retention", "--project", pid, "--calls", "400", "--recordings", "forever"
    )
    assert shown.exit_code == 0, shown.output
    assert "call_retention_days: 400" in shown.output
    assert "recording_retention_days: forever" in shown.output
    db.expire_all()
    fresh = db.get(Project, project.id)
    assert fresh is not None and fresh.call_retention_days == 400

    erased = backend_invoke("privacy", "erase", "--project", pid, "--phone", "050 123 45 67")
    assert erased.exit_code == 0, erased.output
    assert "removed 1 calls" in erased.output and CALLER not in erased.output
    again = backend_invoke("privacy", "erase", "--project", pid, "--phone", CALLER)
    assert "nothing of this caller was left" in again.output
    by_org = backend_invoke("privacy", "erase", "--organization", "acme-realty", "--phone", CALLER)
    assert by_org.exit_code == 0, by_org.output
    assert db.scalar(select(Call.id).where(Call.caller_e164 == CALLER)) is None

    log = backend_invoke("privacy", "audit", "--project", pid)
    assert log.exit_code == 0, log.output
    lines = [json.loads(line) for line in log.output.splitlines()]
    assert [line["action"] for line in lines][:3] == ["privacy.erase"] * 3
    update = next(line for line in lines if line["action"] == "project.update")
    assert update["actor"] == "cli"
    assert update["changes"]["call_retention_days"] == {"old": None, "new": 400}
    assert (
        db.scalar(select(AuditEntry.actor_kind).where(AuditEntry.action == "privacy.erase"))
        == "cli"
    )

    bad = backend_invoke("privacy", "erase", "--project", pid, "--phone", "nope")
    assert_one_error_line(bad, 2)
    both = backend_invoke("privacy", "retention", "--project", pid, "--visits", "0")
    assert_one_error_line(both, 2)
