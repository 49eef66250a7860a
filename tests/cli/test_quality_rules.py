"""`ringtrail quality rules ...` on SQLite and PostgreSQL: add, list, apply, why, remove."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringtrail.services.quality_rules import list_rules
from tests.call_rows import add_call
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_a_rule_is_added_listed_applied_explained_and_removed(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    add_call(db, project, talk_seconds=5, status="missed")
    add_call(db, project, talk_seconds=90)
    db.commit()
    pid = str(project.id)
    added = backend_invoke(
        "quality", "rules", "add", "--project", pid, "--name", "Missed", "--missed",
        "--tag", "missed", "--mark", "non_target", "--says", "ціна", "--language", "uk",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "missed and says ціна" in added.stdout
    (rule,) = list_rules(db, project.id)
    listed = backend_invoke("quality", "rules", "list", "--project", pid)
    assert "Missed" in listed.stdout and "non_target" in listed.stdout
    applied = backend_invoke(
        "quality", "rules", "apply", "--project", pid, "--from", "2025-03-01", "--to", "2025-03-01"
    )
    assert "looked at 2 ended calls: 0 changed" in applied.stdout
    why = backend_invoke(
        "quality", "rules", "why", "--project", pid, str(rule.id),
        "--from", "2025-03-01", "--to", "2025-03-01",
    )  # fmt: skip
    assert "No call of 2 matched" in why.stdout and "no transcript yet: 2" in why.stdout
    bad = backend_invoke("quality", "rules", "add", "--project", pid, "--name", "Idle")
    assert "neither adds a tag nor marks" in assert_one_error_line(bad, bad.exit_code)
    removed = backend_invoke("quality", "rules", "remove", "--project", pid, str(rule.id))
    assert removed.exit_code == 0
    db.expire_all()
    assert list_rules(db, project.id) == []
