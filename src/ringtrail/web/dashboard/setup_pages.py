"""The set-up page of a project: the checklist that ticks itself, and the installation check.

The checklist is judged in `domain/setup_checklist.py` from what `services/setup_checklist.py`
reads; the check fetches a page of the site (`services/install_check.py`) when the button is
pressed and shows its findings in words. The overview links here until every step is done.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.domain.setup_checklist import Checklist, Step, checklist
from ringtrail.services.install_check import check_installation, findings
from ringtrail.services.projects import tracking_tag
from ringtrail.services.setup_checklist import setup_facts
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId, public_base_url
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import N_, local_time
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.dashboard.transcript_pages import speech_context
from ringtrail.web.deps import DbSession

router = dashboard_router()

STEP_TEXT: dict[Step, tuple[str, str, str]] = {
    Step.NUMBERS: (
        N_("Add tracking numbers"),
        N_("The numbers visitors will be shown instead of the site's own."),
        "settings/numbers",
    ),
    Step.POOL_AND_RULE: (
        N_("Create a pool and a rule that shows it"),
        N_("A pool swaps nothing until a source rule points at it."),
        "settings/pools",
    ),
    Step.TAG_INSTALLED: (
        N_("Install the tracking tag"),
        N_("Paste the tag into every page of the site; the first visit ticks this step."),
        "settings",
    ),
    Step.NUMBER_SHOWN: (
        N_("See a tracking number on the site"),
        N_("Open the site in a real browser: a visit that gets a number ticks this step."),
        "settings/rules",
    ),
    Step.FIRST_CALL: (
        N_("Receive the first call"),
        N_("Call the number the site shows you; the call appears in the calls log."),
        "calls",
    ),
}
"""Each step's title, what it takes, and the page (under /p/{id}/) that does it."""


def project_checklist(db: Session, opened: OpenProject) -> Checklist:
    """The checklist of the opened project, from its data."""
    return checklist(setup_facts(db, opened.project))


def _page(
    request: Request, db: Session, opened: OpenProject, extra: dict[str, Any] | None = None
) -> Response:
    project = opened.project
    current = project_checklist(db, opened)
    steps = [
        {
            "state": state,
            "title": STEP_TEXT[state.step][0],
            "hint": STEP_TEXT[state.step][1],
            "href": f"/p/{project.id}/{STEP_TEXT[state.step][2]}",
            "when": local_time(state.when, project.timezone),
            "is_next": state.step == current.next_step,
        }
        for state in current.steps
    ]
    context = {
        **opened.page_context(),
        "checklist": current,
        "steps": steps,
        "snippet": tracking_tag(public_base_url(request), project.public_key),
        "check_url": "",
        "findings": None,
        **speech_context(db, dashboard_of(request).settings, project.id),
        **(extra or {}),
    }
    return dashboard_of(request).templates.render(request, "setup.html", context)


@router.get("/p/{project_id}/setup")
def setup(request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId) -> Response:
    """The set-up checklist, ticked from real data, with the tag and the installation check."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    return _page(request, db, opened)


@router.post("/p/{project_id}/setup/check")
def run_check(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Fetch a page of the site (the first allowed domain's home page by default) and say what
    is right and what is wrong with the installation."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    report = check_installation(opened.project, public_base_url(request), url.strip() or None)
    return _page(
        request,
        db,
        opened,
        {"findings": findings(report), "checked_url": report.url, "check_url": url.strip()},
    )
