"""`ringtrail user create` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.accounts import authenticate, role_in_project
from ringtrail.storage.models import User
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_created_user_can_sign_in(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "user", "create", "--email", "Ann@Example.com", "--name", "Ann", "--password", "pa55word!"
    )
    assert result.exit_code == 0, result.output
    assert "<ann@example.com>" in result.stdout
    user = authenticate(db, "ann@example.com", "pa55word!", NOW)
    assert user is not None and user.name == "Ann" and not user.is_superuser


def test_superuser_flag_makes_a_superuser(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "user", "create", "--email", "root@example.com", "--superuser", "--password", "pa55word!"
    )
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User.is_superuser).where(User.email == "root@example.com")) is True


def test_project_and_role_give_a_membership(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    project = world.ours.project
    result = backend_invoke(
        "user",
        "create",
        "--email",
        "sam@example.com",
        "--password",
        "pa55word!",
        "--project",
        str(project.id),
        "--role",
        "sales",
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "sam@example.com"))
    assert user is not None
    assert role_in_project(db, user, project.id) == "sales"
    assert role_in_project(db, user, world.outsider.project.id) is None


def test_unknown_project_creates_no_user(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "user",
        "create",
        "--email",
        "x@example.com",
        "--password",
        "pa55word!",
        "--project",
        "999999",
        "--role",
        "viewer",
    )
    assert "no project with id 999999" in assert_one_error_line(result, 1)
    assert db.scalar(select(User).where(User.email == "x@example.com")) is None


def test_project_without_role_is_a_usage_error(backend_invoke: Invoke) -> None:
    result = backend_invoke(
        "user", "create", "--email", "x@example.com", "--password", "pa55word!", "--project", "1"
    )
    assert "--role" in assert_one_error_line(result, 2)


def test_password_comes_from_the_environment(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "user", "create", "--email", "env@example.com", RINGTRAIL_PASSWORD="from-the-env"
    )
    assert result.exit_code == 0, result.output
    assert authenticate(db, "env@example.com", "from-the-env", NOW) is not None


def test_password_is_prompted_with_confirmation(backend_invoke: Invoke, db: Session) -> None:
    result = backend_invoke(
        "user", "create", "--email", "p@example.com", input="typed-pass\ntyped-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert authenticate(db, "p@example.com", "typed-pass", NOW) is not None


def test_short_password_is_refused(backend_invoke: Invoke) -> None:
    result = backend_invoke("user", "create", "--email", "s@example.com", "--password", "short")
    assert "password" in assert_one_error_line(result, 2)


def _open_sessions(db: Session, user_id: int) -> int:
    from sqlalchemy import func

    from ringtrail.storage.models import UserSession

    return db.scalar(select(func.count()).where(UserSession.user_id == user_id)) or 0


def _sign_in_twice(db: Session, user_id: int) -> None:
    from datetime import timedelta

    from ringtrail.services.user_sessions import SessionLifetime, open_session

    lifetime = SessionLifetime(idle=timedelta(hours=1), absolute=timedelta(days=1))
    now = datetime.now(UTC)
    open_session(db, user_id, now, lifetime)
    open_session(db, user_id, now, lifetime)
    db.commit()


def test_sign_out_ends_every_session_of_the_user(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    owner_id = world.ours.owner.id
    _sign_in_twice(db, owner_id)
    _sign_in_twice(db, world.outsider.owner.id)
    result = backend_invoke("user", "sign-out", "--email", "Owner@Acme-Realty.example")
    assert result.exit_code == 0, result.output
    assert "2 session(s) signed out" in result.stdout
    db.expire_all()
    assert _open_sessions(db, owner_id) == 0
    assert _open_sessions(db, world.outsider.owner.id) == 2


def test_set_password_changes_it_and_signs_the_user_out(
    backend_invoke: Invoke, db: Session, world: World
) -> None:
    _sign_in_twice(db, world.ours.owner.id)
    result = backend_invoke(
        "user", "set-password", "--email", "owner@acme-realty.example", input="new-pa55word\n" * 2
    )
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert _open_sessions(db, world.ours.owner.id) == 0
    assert authenticate(db, "owner@acme-realty.example", "new-pa55word", NOW) is not None


def test_an_unknown_email_is_one_error_line(backend_invoke: Invoke) -> None:
    result = backend_invoke("user", "sign-out", "--email", "nobody@example.com")
    assert "no user with e-mail nobody@example.com" in assert_one_error_line(result, 1)
