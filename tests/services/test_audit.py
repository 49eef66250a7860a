"""The audit log: role changes are written with old and new values, by the acting user."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user
from ringtrail.services.audit import Actor, act_as, list_entries
from ringtrail.services.members import add_member, change_member_role, remove_member
from ringtrail.services.projects import update_project
from ringtrail.storage.models import AuditEntry
from tests.conftest import World


def test_adding_promoting_and_removing_a_member_is_logged_by_the_actor(
    db: Session, world: World
) -> None:
    project = world.ours.project
    colleague = create_user(db, "colleague@acme-realty.example", "correct horse battery")
    db.commit()
    act_as(db, Actor("user", world.ours.owner.id))
    add_member(db, project, Role.OWNER, email=colleague.email, role=Role.VIEWER, anywhere=True)
    change_member_role(db, project, Role.OWNER, colleague.id, Role.SALES)
    remove_member(db, project, Role.OWNER, colleague.id)
    db.commit()
    entries = list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "member").order_by(AuditEntry.id)
        )
    )
    assert [(e.action, e.changes["role"]) for e in entries] == [
        ("member.add", {"old": None, "new": "viewer"}),
        ("member.role", {"old": "viewer", "new": "sales"}),
        ("member.remove", {"old": "sales", "new": None}),
    ]
    assert {(e.actor_kind, e.actor_id, e.object_id) for e in entries} == {
        ("user", world.ours.owner.id, str(colleague.id))
    }


def test_the_log_reads_newest_first_a_page_at_a_time(db: Session, world: World) -> None:
    project = world.ours.project
    for minutes in range(5):
        update_project(db, project, {"grace_minutes": minutes + 1})
    db.commit()
    first = list_entries(db, project_id=project.id, limit=3)
    rest = list_entries(db, project_id=project.id, limit=3, before=first.next_before)
    ids = [e.id for e in first.items + rest.items]
    everything = db.scalars(select(AuditEntry.id).where(AuditEntry.project_id == project.id))
    assert ids == sorted(everything, reverse=True) and rest.next_before is None
    theirs = list_entries(db, project_id=world.outsider.project.id).items
    assert not {entry.id for entry in theirs} & set(ids)
