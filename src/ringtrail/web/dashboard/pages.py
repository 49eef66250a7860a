"""The pages a signed-in user lands on: their projects, and one project's overview."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from ringtrail.services.accounts import projects_of_user, role_in_project
from ringtrail.services.errors import NotFound
from ringtrail.services.projects import get_project, tracking_tag
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import DbSession, RequiredUser
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.state import dashboard_of

router = dashboard_router()
MAX_ID = 2**63 - 1
ProjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


def public_base_url(request: Request) -> str:
    """Where visitors reach this instance: the configured public URL, else this request's."""
    configured = dashboard_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/")
def home(request: Request, db: DbSession, user: RequiredUser) -> Response:
    """The projects this user may open, with their role in each."""
    projects = projects_of_user(db, user)
    return dashboard_of(request).templates.render(request, "home.html", {"projects": projects})


@router.get("/p/{project_id}")
def project_overview(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """One project's overview; a project the user is not a member of does not exist for them."""
    role = role_in_project(db, user, project_id)
    if role is None:
        raise PageNotFound()
    try:
        project = get_project(db, project_id)
    except NotFound as exc:
        raise PageNotFound() from exc
    return dashboard_of(request).templates.render(
        request,
        "project.html",
        {
            "project": project,
            "role": role,
            "snippet": tracking_tag(public_base_url(request), project.public_key),
        },
    )
