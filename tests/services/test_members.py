"""Members as a use case: the last owner survives concurrent demotions."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.runtime import Runtime
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.errors import Conflict
from ringtrail.services.members import add_member, change_member_role, list_members
from ringtrail.services.projects import create_project
from ringtrail.storage.models import Membership, Organization, Project
from tests.conftest import make_tenant


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    runtime: Runtime, db: Session
) -> None:
    tenant = make_tenant(db, "Acme Realty")
    organization = db.get(Organization, tenant.organization_id)
    assert organization is not None
    other = create_project(db, organization, "Second site", default_country="UA")
    set_membership(db, create_user(db, "two@acme.example", "x" * 9), other, Role.VIEWER)
    second = add_member(db, tenant.project, Role.OWNER, email="two@acme.example", role=Role.OWNER)
    db.commit()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def demote(user_id: int) -> None:
        with runtime.sessions() as session:
            project = session.get(Project, tenant.project.id)
            assert project is not None
            start.wait()
            try:
                change_member_role(session, project, Role.OWNER, user_id, Role.ADMIN)
                session.commit()
                outcomes.append("demoted")
            except Conflict:
                outcomes.append("conflict")
            except OperationalError:  # SQLite's single writer refuses a stale snapshot
                assert runtime.engine.dialect.name == "sqlite"
                outcomes.append("busy")

    threads = [
        threading.Thread(target=demote, args=(uid,)) for uid in (tenant.owner.id, second.user_id)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("demoted") == 1
    with runtime.sessions() as session:
        owners = session.scalars(
            select(Membership).where(
                Membership.project_id == tenant.project.id, Membership.role == Role.OWNER.value
            )
        )
        assert len(list(owners)) == 1


def test_members_are_listed_by_email(db: Session) -> None:
    tenant = make_tenant(db, "Acme Realty")
    for email in ("zed@acme.example", "amy@acme.example"):
        set_membership(db, create_user(db, email, "x" * 9), tenant.project, Role.SALES)
    emails = [m.email for m in list_members(db, tenant.project)]
    assert emails == sorted(emails) and len(emails) == 3
