"""A project's bot settings: reading and changing its allow-list, deny-list and signals.

The settings live in `Project.extra["bots"]` (domain.bot_policy), so they need no column.
Every change is audited (`project.bots`). The dashboard's Bots page, the CLI's
`ringtrail project bots` and the API's /projects/{id}/bots call these; the tracking API reads
them through its config cache, so a change counts within a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.orm import Session

from ringtrail.domain.bot_policy import (
    EXTRA_KEY,
    BadEntry,
    BotPolicy,
    ListEntry,
    check_entries,
    parse_policy,
    policy_to_json,
)
from ringtrail.services.audit import changed, record
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import Project


def read_bot_settings(project: Project) -> BotPolicy:
    """The project's bot settings (the defaults where none were saved)."""
    return parse_policy(project.extra)


def change_bot_settings(
    db: Session,
    project: Project,
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] | None = None,
    behaviour: bool | None = None,
    data_centres: bool | None = None,
) -> BotPolicy:
    """Replace the lists given and set the switches given; None leaves a setting as it is.
    Raises InvalidInput (field `allow` or `deny`) for an unusable entry."""
    before = read_bot_settings(project)
    policy = before
    if allow is not None:
        policy = replace(policy, allow=_entries("allow", allow))
    if deny is not None:
        policy = replace(policy, deny=_entries("deny", deny))
    if behaviour is not None:
        policy = replace(policy, behaviour=behaviour)
    if data_centres is not None:
        policy = replace(policy, data_centres=data_centres)
    old, new = policy_to_json(before), policy_to_json(policy)
    if old == new:
        return policy
    project.extra = {**(project.extra or {}), EXTRA_KEY: new}
    db.flush()
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="project.bots",
        object_type="project",
        object_id=project.id,
        changes=changed(old, new),
    )
    return policy


def _entries(field: str, lines: Iterable[str]) -> tuple[ListEntry, ...]:
    try:
        return check_entries(lines)
    except BadEntry as exc:
        raise InvalidInput(field, str(exc)) from exc
