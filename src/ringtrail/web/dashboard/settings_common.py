"""What every settings page shares: the notice after a redirect, refusals, and rendering.

A change is a plain form POST. When it succeeds the browser is sent back (303) with `?done=`
naming a notice from `NOTICES`; when it is refused the same page is rendered again with a
`Refusal` (status 400, or 403 when the role ladder forbids it) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.errors import NotFound, PermissionDenied, ServiceError
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.project_access import OpenProject
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.state import dashboard_of


def N_(message: str) -> str:
    """Mark an English message for extraction; templates translate it with `_()`."""
    return message


NOTICES: dict[str, str] = {
    "project_saved": N_("The project settings were saved."),
    "number_added": N_("The number was added."),
    "number_saved": N_("The number was saved."),
    "number_removed": N_("The number was removed."),
    "pool_created": N_("The pool was created."),
    "pool_numbers_added": N_("The numbers were added to the pool."),
    "pool_removed": N_("The pool was deleted."),
    "rule_added": N_("The rule was added."),
    "rule_saved": N_("The rule was saved."),
    "rule_moved": N_("The rule was moved."),
    "rule_removed": N_("The rule was deleted."),
    "member_added": N_("The member was added."),
    "member_saved": N_("The member's role was changed."),
    "member_removed": N_("The member was removed from the project."),
    "key_revoked": N_("The API key was revoked."),
}
ROLE_LADDER = N_(
    "Nobody can grant a role above their own, or change someone whose role is above theirs."
)


class FormProblem(Exception):
    """A form value the page cannot use; `message` is an English msgid the page translates."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Refusal:
    """Why a change was not made: a message to translate, the service's reason, the status."""

    message: str
    detail: str = ""
    status_code: int = 400


def attempt(db: Session, change: Callable[[], object], message: str) -> Refusal | None:
    """Run `change`; when it is refused, roll it back and say why (None when it went through).

    A NotFound (an id of another project, or of nothing) is the 404 page, as for a GET.
    """
    try:
        change()
    except NotFound as exc:
        raise PageNotFound() from exc
    except FormProblem as exc:
        db.rollback()
        return Refusal(exc.message)
    except PermissionDenied as exc:
        db.rollback()
        return Refusal(ROLE_LADDER, str(exc), 403)
    except ServiceError as exc:
        db.rollback()
        return Refusal(message, str(exc))
    return None


def settings_path(project_id: int, section: str = "") -> str:
    """The path of a settings section (`""` is the tracking tag and project settings)."""
    return f"/p/{project_id}/settings" + (f"/{section}" if section else "")


def done(project_id: int, section: str, notice: str) -> RedirectResponse:
    """Back to the section (303) with the notice `notice` (a key of NOTICES)."""
    return see_other(f"{settings_path(project_id, section)}?done={notice}")


def local_time(moment: datetime | None, timezone: str) -> str:
    """`moment` in the project's time zone as `YYYY-MM-DD HH:MM` ("" for none)."""
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def render_settings(
    request: Request,
    opened: OpenProject,
    template: str,
    context: Mapping[str, object],
    refusal: Refusal | None = None,
) -> Response:
    """A settings page: the project layout, the section links, and a notice or a refusal."""
    notice = NOTICES.get(request.query_params.get("done", "")) if refusal is None else None
    return dashboard_of(request).templates.render(
        request,
        template,
        {
            **opened.page_context(),
            "can_manage_tracking": opened.may(Permission.MANAGE_TRACKING),
            "can_manage_members": opened.may(Permission.MANAGE_MEMBERS),
            "can_manage_project": opened.may(Permission.MANAGE_PROJECT),
            "notice": notice,
            "refusal": refusal,
            "form": {},
            **context,
        },
        status_code=refusal.status_code if refusal else 200,
    )
