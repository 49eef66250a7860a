"""The "Bots" settings page: the project's allow-list, deny-list and bot signals.

Every member may see it (it explains why a visit got the default number); admins and owners
change it (MANAGE_PROJECT), as with the API's PATCH /projects/{id}/bots. Each list is a text
area, one entry a line; a change is audited by services.bot_settings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.bot_policy import MAX_ENTRIES, MAX_ENTRY_LENGTH, BotPolicy
from ringtrail.domain.roles import Permission
from ringtrail.services.bot_settings import change_bot_settings, read_bot_settings
from ringtrail.services.bot_signals import (
    BUSY_ADDRESS_VISITORS,
    NO_HEARTBEAT_VIEWS,
    NO_STORAGE_VIEWS,
)
from ringtrail.storage.models import User
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    Refusal,
    attempt,
    done,
    render_settings,
)
from ringtrail.web.deps import DbSession

router = dashboard_router()
SECTION = "bots"
MAX_LIST_LENGTH = MAX_ENTRIES * (MAX_ENTRY_LENGTH + 2)
NOTICES.update({"bots_saved": N_("The bot settings were saved.")})


def _lines(policy: BotPolicy) -> dict[str, str]:
    return {
        "allow": "\n".join(entry.text for entry in policy.allow),
        "deny": "\n".join(entry.text for entry in policy.deny),
        "behaviour": "1" if policy.behaviour else "",
        "data_centres": "1" if policy.data_centres else "",
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id)
    values = form or _lines(read_bot_settings(opened.project))
    return render_settings(
        request,
        opened,
        "settings_bots.html",
        {
            "settings_active": SECTION,
            "form": values,
            "max_entries": MAX_ENTRIES,
            "no_storage_views": NO_STORAGE_VIEWS,
            "no_heartbeat_views": NO_HEARTBEAT_VIEWS,
            "busy_address_visitors": BUSY_ADDRESS_VISITORS,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/bots")
def bots_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The project's bot lists and signals."""
    return _page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/bots")
def save_bots(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    allow: Annotated[str, Form(max_length=MAX_LIST_LENGTH)] = "",
    deny: Annotated[str, Form(max_length=MAX_LIST_LENGTH)] = "",
    behaviour: Annotated[str, Form(max_length=10)] = "",
    data_centres: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Replace both lists and set both switches (admins and owners)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = {"allow": allow, "deny": deny, "behaviour": behaviour, "data_centres": data_centres}
    refusal = attempt(
        db,
        lambda: change_bot_settings(
            db,
            opened.project,
            allow=allow.splitlines(),
            deny=deny.splitlines(),
            behaviour=bool(behaviour),
            data_centres=bool(data_centres),
        ),
        N_("The bot settings could not be saved."),
    )
    if refusal is not None:
        return _page(request, db, user, project_id, refusal, form)
    return done(project_id, SECTION, "bots_saved")
