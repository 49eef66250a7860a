"""The settings landing page: the tracking-script tag to copy and the project's own settings.

The other sections live beside it: numbers and pools (`settings_numbers.py`), source rules
(`settings_rules.py`), members and API keys (`settings_people.py`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.projects import tracking_tag, update_project
from ringtrail.storage.models import User
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId, public_base_url
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    FormProblem,
    Refusal,
    attempt,
    done,
    render_settings,
)
from ringtrail.web.deps import DbSession

router = dashboard_router()
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
# Field, lowest, highest, message: the same bounds as the API's project settings.
_WHOLE_NUMBERS = (
    ("unique_call_window_days", 1, 3650, N_("The unique-call window is 1 to 3650 days.")),
    ("grace_minutes", 0, 24 * 60, N_("The grace period is 0 to 1440 minutes.")),
    ("cooldown_minutes", 0, 24 * 60, N_("The cool-down is 0 to 1440 minutes.")),
    ("target_call_goal_percent", 0, 100, N_("The target-call goal is a share from 0 to 100.")),
)


def whole_number(raw: str, low: int, high: int, message: str) -> int:
    """`raw` as a whole number from `low` to `high`, else FormProblem(`message`)."""
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise FormProblem(message) from exc
    if not low <= value <= high:
        raise FormProblem(message)
    return value


def project_changes(form: dict[str, str]) -> dict[str, Any]:
    """The project fields the form sets, checked as the API checks them."""
    name = form["name"].strip()
    if not 1 <= len(name) <= 200:
        raise FormProblem(N_("The project needs a name (at most 200 characters)."))
    if not _CURRENCY.match(form["currency"].strip()):
        raise FormProblem(N_("The currency is a three-letter code such as USD or UAH."))
    changes: dict[str, Any] = {
        "name": name,
        "timezone": form["timezone"].strip(),
        "currency": form["currency"].strip(),
    }
    for field, low, high, message in _WHOLE_NUMBERS:
        changes[field] = whole_number(form[field], low, high, message)
    return changes


def _settings_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    values = form or {
        "name": project.name,
        "timezone": project.timezone,
        "currency": project.currency,
        **{field: str(getattr(project, field)) for field, *_ in _WHOLE_NUMBERS},
    }
    return render_settings(
        request,
        opened,
        "settings.html",
        {
            "settings_active": "project",
            "snippet": tracking_tag(public_base_url(request), project.public_key),
            "form": values,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings")
def project_settings(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The tracking tag and the project's settings."""
    return _settings_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings")
def save_project_settings(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    name: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    unique_call_window_days: Annotated[str, Form()] = "",
    grace_minutes: Annotated[str, Form()] = "",
    cooldown_minutes: Annotated[str, Form()] = "",
    target_call_goal_percent: Annotated[str, Form()] = "",
) -> Response:
    """Change the project's settings (the API's rule: it needs MANAGE_PROJECT)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = {
        "name": name,
        "timezone": timezone,
        "currency": currency,
        "unique_call_window_days": unique_call_window_days,
        "grace_minutes": grace_minutes,
        "cooldown_minutes": cooldown_minutes,
        "target_call_goal_percent": target_call_goal_percent,
    }
    refusal = attempt(
        db,
        lambda: update_project(db, opened.project, project_changes(form)),
        N_("The project settings could not be saved."),
    )
    if refusal is not None:
        return _settings_page(request, db, user, project_id, refusal, form)
    return done(project_id, "", "project_saved")
