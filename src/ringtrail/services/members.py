"""Project members: who may open a project and with which role, guarded by the role ladder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, func, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ringtrail.domain.roles import Role, outranks_or_equals
from ringtrail.services.audit import record
from ringtrail.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ringtrail.services.tracking import flush_or_conflict
from ringtrail.services.user_sessions import revoke_user_sessions
from ringtrail.storage.models import Membership, Project, User


@dataclass(frozen=True)
class Member:
    """A user as a project sees them: identity and role, never credentials."""

    user_id: int
    email: str
    name: str
    role: Role
    is_active: bool
    joined_at: datetime


def _member(user: User, membership: Membership) -> Member:
    return Member(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        is_active=user.is_active,
        joined_at=membership.created_at,
    )


def ensure_may_grant(actor_role: Role, role: Role) -> None:
    """PermissionDenied unless `actor_role` is at least as strong as `role`."""
    if not outranks_or_equals(actor_role, role):
        raise PermissionDenied(
            f"role {actor_role.value} may not grant or change the {role.value} role"
        )


def list_members(db: Session, project: Project) -> list[Member]:
    """The project's members by e-mail."""
    rows = db.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project.id)
        .order_by(User.email)
    )
    return [_member(user, membership) for user, membership in rows]


NOT_IN_ORGANISATION = (
    "nobody in this organisation has this e-mail address; people new to it are added by the"
    " administrator of this Ringtrail"
)


def add_member(
    db: Session,
    project: Project,
    actor_role: Role,
    *,
    email: str,
    role: Role,
    anywhere: bool = False,
) -> Member:
    """Give someone of the project's organisation `role` in the project, found by e-mail.

    Only people who hold a role in one of the organisation's projects are found: any other
    e-mail, with an account elsewhere or none, gets the same InvalidInput, so the answer says
    nothing about other organisations' people. Accounts are made, and people from outside
    brought in, by an operator (`anywhere`: a superuser; `ringtrail user create`).
    """
    ensure_may_grant(actor_role, role)
    user = _person_known_to(db, project, email.strip().lower(), anywhere=anywhere)
    if user is None:
        raise InvalidInput("email", NOT_IN_ORGANISATION)
    if _membership(db, project, user.id) is not None:
        raise Conflict(f"{user.email} is already a member of this project")
    membership = Membership(user_id=user.id, project_id=project.id, role=role.value)
    db.add(membership)
    flush_or_conflict(db, f"{user.email} is already a member of this project")
    _log_role(db, project, "member.add", user.id, None, role.value)
    return _member(user, membership)


def _log_role(
    db: Session, project: Project, action: str, user_id: int, old: str | None, new: str | None
) -> None:
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action=action,
        object_type="member",
        object_id=user_id,
        changes={"role": {"old": old, "new": new}},
    )


def _person_known_to(db: Session, project: Project, email: str, *, anywhere: bool) -> User | None:
    query = select(User).where(User.email == email)
    if not anywhere:
        in_organisation = (
            select(Membership.id)
            .join(Project, Project.id == Membership.project_id)
            .where(
                Membership.user_id == User.id,
                Project.organization_id == project.organization_id,
            )
        )
        query = query.where(in_organisation.exists())
    return db.scalar(query)


def change_member_role(
    db: Session, project: Project, actor_role: Role, user_id: int, role: Role
) -> Member:
    """Change a member's role; nobody promotes past, or touches anyone above, their own role."""
    user, membership = _existing(db, project, user_id)
    old_role = membership.role
    ensure_may_grant(actor_role, Role(membership.role))
    ensure_may_grant(actor_role, role)
    if membership.role == Role.OWNER.value and role is not Role.OWNER:
        _lock_owners(db, project)
    changed = db.execute(
        update(Membership)
        .where(Membership.id == membership.id, _keeps_an_owner(project, role))
        .values(role=role.value)
        .execution_options(synchronize_session=False)
    )
    _ensure_one_row(changed)
    db.refresh(membership)
    if old_role != membership.role:
        _log_role(db, project, "member.role", user.id, old_role, membership.role)
    return _member(user, membership)


def remove_member(db: Session, project: Project, actor_role: Role, user_id: int) -> None:
    """Take a user out of the project (the account stays, signed out); the last owner stays."""
    _user, membership = _existing(db, project, user_id)
    ensure_may_grant(actor_role, Role(membership.role))
    if membership.role == Role.OWNER.value:
        _lock_owners(db, project)
    removed = db.execute(
        delete(Membership)
        .where(Membership.id == membership.id, _keeps_an_owner(project, None))
        .execution_options(synchronize_session=False)
    )
    _ensure_one_row(removed)
    db.expunge(membership)
    _log_role(db, project, "member.remove", user_id, membership.role, None)
    revoke_user_sessions(db, user_id)


def _membership(db: Session, project: Project, user_id: int) -> Membership | None:
    return db.scalar(
        select(Membership).where(Membership.project_id == project.id, Membership.user_id == user_id)
    )


def _existing(db: Session, project: Project, user_id: int) -> tuple[User, Membership]:
    membership = _membership(db, project, user_id)
    user = db.get(User, user_id) if membership is not None else None
    if membership is None or user is None:
        raise NotFound("no such member")
    return user, membership


def _lock_owners(db: Session, project: Project) -> None:
    """Lock the owner rows (PostgreSQL) so concurrent demotions re-read them one at a time."""
    owners = select(Membership.id).where(
        Membership.project_id == project.id, Membership.role == Role.OWNER.value
    )
    list(db.scalars(owners.with_for_update()))


def _keeps_an_owner(project: Project, new_role: Role | None) -> ColumnElement[bool]:
    """The row may change unless it is an owner leaving the owners while being the only one.

    Part of the UPDATE or DELETE itself, so the check and the write are one statement (SQLite
    runs the earlier SELECTs outside any transaction).
    """
    if new_role is Role.OWNER:
        return true()
    owners = (
        select(func.count(Membership.id))
        .where(Membership.project_id == project.id, Membership.role == Role.OWNER.value)
        .scalar_subquery()
    )
    return or_(Membership.role != Role.OWNER.value, owners > 1)


def _ensure_one_row(result: Result[Any]) -> None:
    if cast(CursorResult[Any], result).rowcount != 1:
        raise Conflict("a project keeps at least one owner; make someone else owner first")
