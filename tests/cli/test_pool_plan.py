"""`ringtrail pool plan` (from a rate when there is no history) and `ringtrail simulate`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ringtrail.storage.models import Project
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_a_pool_without_history_is_planned_from_its_rate_and_the_plan_is_kept(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    created = backend_invoke(
        "pool", "create", "--project", project, "--name", "Ads", "--number", "+380441111111",
        "--grace-minutes", "5", "--cooldown-minutes", "10",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    without = backend_invoke("pool", "plan", "--project", project)
    assert without.exit_code == 0, without.output
    assert "--visits-per-hour" in without.stderr
    planned = backend_invoke(
        "pool", "plan", "--project", project, "--visits-per-hour", "30", "--price", "2.5"
    )
    assert planned.exit_code == 0, planned.output
    header, row = planned.stdout.strip().splitlines()[:2]
    assert header.split() == ["ID", "NAME", "NUMBERS", "PLAN", "ACCURACY", "BOUND", "MONTHLY"]
    _, name, numbers, size, accuracy, bound, monthly = row.split()
    # 30 visits an hour, each keeping a number ~15 minutes past its last heartbeat
    assert (name, numbers) == ("Ads", "1")
    assert 5 <= int(size) <= int(bound) + 1
    assert float(accuracy.rstrip("%")) >= 99.0
    assert float(monthly) == int(size) * 2.5
    db.expire_all()
    stored = db.get(Project, world.ours.project.id)
    assert stored is not None
    assert stored.extra["pool_number_price"] == 2.5
    [plan] = stored.extra["pool_plans"].values()
    assert plan["size"] == int(size)


def test_simulate_prints_the_study_and_writes_the_chart(invoke: Invoke, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    result = invoke("simulate", "clinic-5k", "--days", "0.3", "--policy", "lru", "--png", str(png))
    assert result.exit_code == 0, result.output
    assert "| **all** |" in result.stdout
    assert "least-recently-released reuse, smallest for target" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_refuses_an_unknown_scenario(invoke: Invoke) -> None:
    result = invoke("simulate", "no-such-scenario")
    assert "not a preset" in assert_one_error_line(result, 2)
