"""The page a signed-in user lands on (their projects), and what project pages share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from ringtrail.services.accounts import projects_of_user
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

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
