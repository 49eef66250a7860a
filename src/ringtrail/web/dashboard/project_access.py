"""Opening a project for a dashboard page: membership, role and permission in one check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission, Role, can
from ringtrail.services.accounts import role_in_project
from ringtrail.storage.models import Project, User
from ringtrail.web.dashboard.errors import PageForbidden, PageNotFound


@dataclass(frozen=True)
class OpenProject:
    """A project the signed-in user may open, with their role in it."""

    project: Project
    role: Role

    def may(self, permission: Permission) -> bool:
        """Whether the user's role allows `permission` here."""
        return can(self.role, permission)

    def page_context(self) -> dict[str, object]:
        """What `project_base.html` needs: the project, the role and which tabs to show."""
        return {
            "project": self.project,
            "role": self.role,
            "can_manage_money": self.may(Permission.MANAGE_MONEY),
            "can_mark_calls": self.may(Permission.MARK_CALLS),
            "can_see_settings": self.may(Permission.MANAGE_TRACKING)
            or self.may(Permission.MANAGE_MEMBERS),
        }


def open_project(
    db: Session, user: User, project_id: int, permission: Permission = Permission.VIEW_REPORTS
) -> OpenProject:
    """The project and the user's role, if they are a member and the role allows `permission`.

    A project the user is not a member of raises PageNotFound (it looks like one that does not
    exist); a member whose role lacks `permission` gets PageForbidden.
    """
    role = role_in_project(db, user, project_id)
    project = db.get(Project, project_id) if role is not None else None
    if role is None or project is None:
        raise PageNotFound()
    if not can(role, permission):
        raise PageForbidden()
    return OpenProject(project, role)
