"""`ringtrail integrations`: destinations with secrets given or prompted and never printed,
rules, test and validate, and the delivery log with its totals and replay."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from ringtrail.storage.models import IntegrationDestination, OutboundDelivery
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.integration_fakes import fake_kinds  # noqa: F401  (fixture)

SECRET = "s3cret-api-key-0123"
pytestmark = pytest.mark.usefixtures("fake_kinds")


def _add(invoke: Invoke, world: World, *extra: str, **kwargs: Any) -> Result:
    project = str(world.ours.project.id)
    result = invoke(
        "integrations", "add", project, "fake", "Ads", "--set", "account=acme", *extra, **kwargs
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    return result


def test_a_destination_is_added_with_a_prompted_secret_and_listed(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    empty = backend_invoke("integrations", "list", project)
    assert "no destinations yet" in empty.output
    _add(backend_invoke, world, input=f"{SECRET}\n")
    row = db.scalars(select(IntegrationDestination)).one()
    assert SECRET in (row.secrets or "") and row.config["account"] == "acme"
    listed = backend_invoke("integrations", "list", project)
    assert "Ads" in listed.output and "fake" in listed.output and SECRET not in listed.output
    kinds = backend_invoke("integrations", "kinds")
    assert "--secret api_secret=..." in kinds.output and "(live|debug)" in kinds.output


def test_bad_settings_are_one_error_line(backend_invoke: Invoke, world: World) -> None:
    project = str(world.ours.project.id)
    secret_as_set = backend_invoke(
        "integrations", "add", project, "fake", "Ads", "--set", f"api_secret={SECRET}"
    )
    assert "--secret" in assert_one_error_line(secret_as_set, 2)
    short = backend_invoke(
        "integrations", "add", project, "fake", "Ads", "--set", "account=a",
        "--secret", "api_secret=short",
    )  # fmt: skip
    assert "api secret" in assert_one_error_line(short, 2)
    unknown = backend_invoke("integrations", "add", project, "fax", "Ads")
    assert "fax" in assert_one_error_line(unknown, 1)


def test_edit_keeps_the_secret_and_the_rule_changes(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    _add(backend_invoke, world, "--secret", f"api_secret={SECRET}")
    row = db.scalars(select(IntegrationDestination)).one()
    edited = backend_invoke(
        "integrations", "edit", project, str(row.id), "--name", "Ads 2", "--set", "mode=debug"
    )
    assert edited.exit_code == 0, edited.output
    ruled = backend_invoke(
        "integrations", "rule", project, str(row.id), "--target-only", "--min-talk", "45",
        "--value-mode", "fixed", "--value", "300", "--consent", "require",
    )  # fmt: skip
    assert ruled.exit_code == 0, ruled.output
    assert "min_talk_seconds: 45" in ruled.output and "project consent: require" in ruled.output
    db.expire_all()
    row = db.get(IntegrationDestination, row.id)  # type: ignore[assignment]
    assert row.name == "Ads 2" and row.config["mode"] == "debug"
    assert SECRET in (row.secrets or "") and row.rules["fixed_value"] == "300"
    bad = backend_invoke("integrations", "rule", project, str(row.id), "--value-mode", "fixed",
                         "--value", "")  # fmt: skip
    assert "is needed when the value is fixed" in assert_one_error_line(bad, 2)


def test_test_and_validate_print_the_answer_and_fail_when_refused(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    _add(backend_invoke, world, "--secret", f"api_secret={SECRET}")
    row = db.scalars(select(IntegrationDestination)).one()
    tested = backend_invoke("integrations", "test", project, str(row.id))
    assert tested.exit_code == 0, tested.output
    assert "test: accepted" in tested.output and "TEST-GCLID-" in tested.output
    assert "+380501234567" not in tested.output
    refused = backend_invoke("integrations", "validate", project, str(row.id))
    assert "validation: rejected" in refused.output
    assert "value missing" in assert_one_error_line(refused, 1)


def test_the_log_totals_and_replay(backend_invoke: Invoke, db: Session, world: World) -> None:
    project = str(world.ours.project.id)
    _add(backend_invoke, world, "--secret", f"api_secret={SECRET}")
    row = db.scalars(select(IntegrationDestination)).one()
    dead = OutboundDelivery(
        project_id=world.ours.project.id, destination=str(row.id), destination_id=row.id,
        subject_kind="call", subject_id=7, event_name="conversion", status="dead", attempts=8,
        reason="the service did not answer", payload={"phone": "+380501234567"},
    )  # fmt: skip
    db.add(dead)
    db.commit()
    log = backend_invoke("integrations", "log", project, "--status", "dead")
    assert "the service did not answer" in log.output and "call 7" in log.output
    as_json = backend_invoke("integrations", "log", project, "--json", "--call", "7")
    assert '"phone": "***"' in as_json.output
    totals = backend_invoke("integrations", "totals", project)
    assert "Ads" in totals.output and "dead" in totals.output
    replayed = backend_invoke("integrations", "replay", project, str(dead.id))
    assert replayed.exit_code == 0, replayed.output
    again = backend_invoke("integrations", "replay", project, str(dead.id))
    assert "pending" in assert_one_error_line(again, 1)
    removed = backend_invoke("integrations", "remove", project, str(row.id), "--yes")
    assert removed.exit_code == 0
    db.expire_all()
    assert db.scalars(select(IntegrationDestination)).all() == []
