"""`ringtrail pool ...` on SQLite and PostgreSQL; a pool that no rule shows is warned about."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import AuditEntry, Pool, TrackingNumber
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def _pool_numbers(db: Session, pool_id: int) -> dict[str, bool]:
    db.expire_all()
    query = select(TrackingNumber).where(TrackingNumber.pool_id == pool_id)
    return {n.e164: n.is_pool_default for n in db.scalars(query)}


def test_a_pool_is_created_with_its_numbers_and_default_number(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    result = backend_invoke(
        "pool", "create", "--project", project, "--name", "Google Ads",
        "--number", "044 111 11 11", "--number", "044 222 22 22",
        "--default-number", "044 333 33 33", "--grace-minutes", "10",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pool = db.scalar(select(Pool).where(Pool.project_id == world.ours.project.id))
    assert pool is not None and pool.grace_minutes == 10
    assert _pool_numbers(db, pool.id) == {
        "+380441111111": False, "+380442222222": False, "+380443333333": True,
    }  # fmt: skip
    assert "with 3 numbers, default +380443333333" in result.stdout
    audit = db.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "pools"))
    assert audit == "pool.create"


def test_create_and_list_warn_until_a_rule_shows_the_pool(
    backend_invoke: Invoke, world: World
) -> None:
    project = str(world.ours.project.id)
    created = backend_invoke("pool", "create", "--project", project, "--name", "Ads",
                             "--number", "+380441111111")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "warning:" in created.stderr and "catch-all" in created.stderr
    assert "--catch-all --pool" in created.stderr
    listed = backend_invoke("pool", "list", "--project", project)
    assert "Ads" in listed.stdout and "catch-all" in listed.stderr
    rule = backend_invoke("rule", "add", "--project", project, "--catch-all", "--pool", "Ads")
    assert rule.exit_code == 0, rule.output
    quiet = backend_invoke("pool", "list", "--project", project)
    assert "Ads" in quiet.stdout and "warning" not in quiet.stderr


def test_numbers_are_added_to_and_removed_from_a_pool(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke("pool", "create", "--project", project, "--name", "Ads")
    pool = db.scalar(select(Pool).where(Pool.project_id == world.ours.project.id))
    assert pool is not None
    added = backend_invoke("pool", "add-number", "--project", project, "Ads",
                           "+380441111111", "+380442222222")  # fmt: skip
    assert added.exit_code == 0, added.output
    default = backend_invoke("pool", "add-number", "--project", project, str(pool.id),
                             "+380443333333", "--default")  # fmt: skip
    assert default.exit_code == 0, default.output
    assert _pool_numbers(db, pool.id) == {
        "+380441111111": False, "+380442222222": False, "+380443333333": True,
    }  # fmt: skip
    busy = backend_invoke("pool", "remove", "--project", project, "Ads")
    assert "still has 3 numbers" in assert_one_error_line(busy, 1)
    removed = backend_invoke("pool", "remove-number", "--project", project, "Ads",
                             "+380441111111", "+380442222222", "+380443333333")  # fmt: skip
    assert removed.exit_code == 0, removed.output
    assert _pool_numbers(db, pool.id) == {}
    pool_id = pool.id
    gone = backend_invoke("pool", "remove", "--project", project, "Ads")
    assert gone.exit_code == 0, gone.output
    db.expire_all()
    assert db.get(Pool, pool_id) is None


def test_a_number_of_another_pool_is_not_removed(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke(
        "pool", "create", "--project", project, "--name", "A", "--number", "+380441111111"
    )
    backend_invoke("pool", "create", "--project", project, "--name", "B")
    result = backend_invoke("pool", "remove-number", "--project", project, "B", "+380441111111")
    assert "is not in pool" in assert_one_error_line(result, 2)


def test_set_renames_and_switches_a_pool_off(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = str(world.ours.project.id)
    backend_invoke("pool", "create", "--project", project, "--name", "Ads")
    result = backend_invoke(
        "pool", "set", "--project", project, "Ads", "--name", "Paid", "--inactive",
        "--cooldown-minutes", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    db.expire_all()
    pool = db.scalar(select(Pool).where(Pool.project_id == world.ours.project.id))
    assert pool is not None
    assert (pool.name, pool.is_active, pool.cooldown_minutes) == ("Paid", False, 5)
    unknown = backend_invoke("pool", "set", "--project", project, "Nope", "--name", "x")
    assert "no pool named 'Nope'" in assert_one_error_line(unknown, 1)
