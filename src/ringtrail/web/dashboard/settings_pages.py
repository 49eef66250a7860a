"""The settings landing page: the tracking-script tag to copy and the project's own settings.

The other sections live beside it: numbers and pools (`settings_numbers.py`), source rules
(`settings_rules.py`), members and API keys (`settings_people.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.errors import InvalidInput
from ringtrail.services.projects import tracking_tag, update_project, validate_project_fields
from ringtrail.storage.models import Project, User
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


# Tracking settings, written one per line; each field's own message when it is refused.
_TRACKING_LISTS = ("allowed_domains", "replace_numbers", "swap_selectors")
_TRACKING_PROBLEMS = {
    "allowed_domains": N_(
        "Each line is a host name such as example.com, without https://, a port or a path."
    ),
    "main_number": N_("The main number is not a phone number."),
    "replace_numbers": N_("Each line is a phone number the site shows (at most 20)."),
    "swap_selectors": N_("Each line is a CSS selector such as .phone (at most 20)."),
    "number_allocation": N_("Choose when a visitor takes a pool number."),
}
_TRACKING_REFUSED = N_("Some tracking settings need correcting: see the notes beside them.")


@dataclass(frozen=True)
class FieldProblem:
    """Why one field was refused: a message to translate and the service's reason."""

    message: str
    detail: str


def tracking_changes(
    form: dict[str, str], country: str
) -> tuple[dict[str, Any], dict[str, FieldProblem]]:
    """The tracking settings the form sends, and a problem for each field that is refused."""
    raw: dict[str, Any] = {}
    if "main_number" in form:
        raw["main_number"] = form["main_number"].strip() or None
    for field in _TRACKING_LISTS:
        if field in form:
            raw[field] = [line.strip() for line in form[field].splitlines() if line.strip()]
    if form.get("number_allocation"):
        raw["number_allocation"] = form["number_allocation"]
    changes: dict[str, Any] = {}
    problems: dict[str, FieldProblem] = {}
    for field, value in raw.items():
        try:
            checked = validate_project_fields({"default_country": country, field: value})
        except InvalidInput as exc:
            problems[field] = FieldProblem(_TRACKING_PROBLEMS[field], exc.message)
        else:
            changes[field] = checked[field]
    return changes, problems


def _tracking_form(project: Project) -> dict[str, str]:
    return {
        "main_number": project.main_number or "",
        "number_allocation": project.number_allocation,
        **{field: "\n".join(getattr(project, field) or []) for field in _TRACKING_LISTS},
    }


def _settings_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
    problems: dict[str, FieldProblem] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    values = (
        {**_tracking_form(project), **form}
        if form
        else {
            "name": project.name,
            "timezone": project.timezone,
            "currency": project.currency,
            **{field: str(getattr(project, field)) for field, *_ in _WHOLE_NUMBERS},
            **_tracking_form(project),
        }
    )
    return render_settings(
        request,
        opened,
        "settings.html",
        {
            "settings_active": "project",
            "snippet": tracking_tag(public_base_url(request), project.public_key),
            "form": values,
            "problems": problems or {},
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
    allowed_domains: Annotated[str | None, Form()] = None,
    main_number: Annotated[str | None, Form()] = None,
    replace_numbers: Annotated[str | None, Form()] = None,
    swap_selectors: Annotated[str | None, Form()] = None,
    number_allocation: Annotated[str | None, Form()] = None,
    tracking_fields: Annotated[str, Form()] = "",
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
    given = {
        "allowed_domains": allowed_domains,
        "main_number": main_number,
        "replace_numbers": replace_numbers,
        "swap_selectors": swap_selectors,
        "number_allocation": number_allocation,
    }
    # The page's form says it carries the tracking fields (an emptied one arrives as None);
    # a post without them leaves them as they are.
    if tracking_fields:
        form.update({key: value or "" for key, value in given.items()})
    tracking, problems = tracking_changes(form, opened.project.default_country)
    if problems:
        refused = Refusal(_TRACKING_REFUSED)
        return _settings_page(request, db, user, project_id, refused, form, problems)
    refusal = attempt(
        db,
        lambda: update_project(db, opened.project, {**project_changes(form), **tracking}),
        N_("The project settings could not be saved."),
    )
    if refusal is not None:
        return _settings_page(request, db, user, project_id, refusal, form)
    return done(project_id, "", "project_saved")
