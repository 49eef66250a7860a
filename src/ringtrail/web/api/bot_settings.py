"""/api/v1/projects/{id}/bots: the project's bot allow-list, deny-list and signals.

Reading needs VIEW_REPORTS; changing needs MANAGE_PROJECT (admins and owners) and is audited.
A list sent replaces the stored one; a field left out is left as it is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from ringtrail.domain.bot_policy import MAX_ENTRIES, MAX_ENTRY_LENGTH, BotPolicy
from ringtrail.domain.roles import Permission
from ringtrail.services.bot_settings import change_bot_settings, read_bot_settings
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/bots", tags=["bots"])

Entry = Annotated[str, Field(min_length=1, max_length=MAX_ENTRY_LENGTH)]
Entries = Annotated[list[Entry], Field(max_length=MAX_ENTRIES)]
ENTRY_HELP = (
    "One entry each: an address or network (203.0.113.7, 198.51.100.0/24, 2001:db8::/32) "
    "matched against the visitor's address, or text found in the User-Agent ignoring case"
)


class BotSettingsIn(StrictInput):
    allow: Entries | None = Field(
        default=None, description=f"Clients never taken for bots. {ENTRY_HELP}"
    )
    deny: Entries | None = Field(
        default=None, description=f"Clients always taken for bots (wins). {ENTRY_HELP}"
    )
    behaviour: bool | None = Field(
        default=None,
        description="Behaviour signals: no storage across page views, no heartbeat, "
        "many new visitors from one address",
    )
    data_centres: bool | None = Field(
        default=None, description="Visits from major cloud providers' ranges are bots"
    )


class BotSettingsOut(Output):
    allow: list[str]
    deny: list[str]
    behaviour: bool
    data_centres: bool


def _out(policy: BotPolicy) -> BotSettingsOut:
    return BotSettingsOut(
        allow=[entry.text for entry in policy.allow],
        deny=[entry.text for entry in policy.deny],
        behaviour=policy.behaviour,
        data_centres=policy.data_centres,
    )


@router.get("", response_model=BotSettingsOut)
def show(project_id: ProjectId, db: DbSession, principal: Principal) -> BotSettingsOut:
    """The project's bot settings."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    return _out(read_bot_settings(project))


@router.patch("", response_model=BotSettingsOut)
def change(
    project_id: ProjectId, body: BotSettingsIn, db: DbSession, principal: Principal
) -> BotSettingsOut:
    """Change the bot settings: lists sent replace the stored ones (admin or owner)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _out(
        change_bot_settings(
            db,
            project,
            allow=body.allow,
            deny=body.deny,
            behaviour=body.behaviour,
            data_centres=body.data_centres,
        )
    )
