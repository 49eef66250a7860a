"""`ringtrail rule ...` on SQLite and PostgreSQL: conditions, order, switching and the catch-all."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.tracking_config import load_tracking_config
from ringtrail.storage.models import AuditEntry, SourceRule
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def _rules(db: Session, project_id: int) -> list[SourceRule]:
    db.expire_all()
    query = select(SourceRule).where(SourceRule.project_id == project_id)
    return list(db.scalars(query.order_by(SourceRule.priority, SourceRule.id)))


def test_the_catch_all_rule_points_every_visit_at_a_pool(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke("pool", "create", "--project", project, "--name", "Site",
                   "--number", "+380441111111")  # fmt: skip
    backend_invoke("rule", "add", "--project", project, "--name", "Ads",
                   "--when", "utm_medium:equals:cpc", "--source", "google")  # fmt: skip
    result = backend_invoke("rule", "add", "--project", project, "--catch-all", "--pool", "Site")
    assert result.exit_code == 0, result.output
    rules = _rules(db, world.ours.project.id)
    catch_all = rules[-1]
    assert catch_all.conditions == [] and catch_all.pool_id is not None
    assert catch_all.priority > rules[0].priority
    config = load_tracking_config(db, world.ours.project.public_key)
    assert config is not None and config.rules[-1].pool_id == catch_all.pool_id
    listed = backend_invoke("rule", "list", "--project", project)
    assert "every visit" in listed.stdout and f"pool {catch_all.pool_id}" in listed.stdout


def test_a_rule_is_added_with_conditions_moved_switched_and_removed(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke("number", "add", "--project", project, "+380441111111")
    first = backend_invoke(
        "rule", "add", "--project", project, "--name", "Google Ads",
        "--when", "click_id:equals:gclid", "--when", "landing_path:regex:^/sale/(a|b)",
        "--number", "+380441111111", "--medium", "cpc",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    second = backend_invoke(
        "rule", "add", "--project", project, "--name", "Facebook",
        "--when", "utm_source:contains:facebook", "--source", "facebook",
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    google, facebook = _rules(db, world.ours.project.id)
    assert google.conditions == [
        {"field": "click_id", "op": "equals", "value": "gclid"},
        {"field": "landing_path", "op": "regex", "value": "^/sale/(a|b)"},
    ]
    assert google.static_number_id is not None
    moved = backend_invoke("rule", "move", "--project", project, str(facebook.id), "--first")
    assert moved.exit_code == 0, moved.output
    assert "tried 1 of 2" in moved.stdout
    assert [r.id for r in _rules(db, world.ours.project.id)] == [facebook.id, google.id]
    assert backend_invoke("rule", "disable", "--project", project, str(google.id)).exit_code == 0
    assert not _rules(db, world.ours.project.id)[1].is_active
    assert backend_invoke("rule", "enable", "--project", project, str(google.id)).exit_code == 0
    assert _rules(db, world.ours.project.id)[1].is_active
    changed = backend_invoke("rule", "set", "--project", project, str(google.id), "--any-visit",
                             "--no-number")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    google = _rules(db, world.ours.project.id)[1]
    assert (google.conditions, google.static_number_id, google.medium) == ([], None, "cpc")
    assert backend_invoke("rule", "remove", "--project", project, str(google.id)).exit_code == 0
    assert [r.id for r in _rules(db, world.ours.project.id)] == [facebook.id]
    actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.actor_kind == "cli")))
    assert {"source_rule.create", "source_rule.update", "source_rule.delete"} <= actions


def test_bad_conditions_are_refused_in_one_line(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    cases = {
        "utm_source": "write FIELD:OP[:VALUE]",
        "colour:equals:red": "invalid conditions.0.field",
        "utm_source:equals": "needs a text value",
        "landing_path:regex:(a+)+": "invalid conditions.0.value",
    }
    for when, message in cases.items():
        result = backend_invoke("rule", "add", "--project", project, "--name", "X",
                                "--when", when, "--source", "x")  # fmt: skip
        assert message in assert_one_error_line(result, 2), when
    assert _rules(db, world.ours.project.id) == []


def test_the_catch_all_needs_a_pool_and_takes_no_conditions(
    backend_invoke: Invoke, world: World
) -> None:
    project = str(world.ours.project.id)
    bare = backend_invoke("rule", "add", "--project", project, "--catch-all")
    assert "--catch-all needs --pool" in assert_one_error_line(bare, 2)
    backend_invoke("pool", "create", "--project", project, "--name", "Site")
    narrowed = backend_invoke("rule", "add", "--project", project, "--catch-all", "--pool",
                              "Site", "--when", "utm_source:exists")  # fmt: skip
    assert "takes no --when" in assert_one_error_line(narrowed, 2)
    other = backend_invoke("rule", "add", "--project", str(world.outsider.project.id),
                           "--catch-all", "--pool", "Site")  # fmt: skip
    assert "no pool named 'Site'" in assert_one_error_line(other, 1)
