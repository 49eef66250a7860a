"""Settings: the project's members and API keys, guarded by the role ladder.

Nobody grants a role above their own, or touches a member or key above it (services.members);
the page shows that refusal instead of hiding it. A new key's secret is shown once, on the page
that answers the form, and never again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission, Role, outranks_or_equals
from ringtrail.services.accounts import IssuedApiKey
from ringtrail.services.api_keys import issue_project_key, list_project_keys, revoke_project_key
from ringtrail.services.errors import InvalidInput, QuotaExceeded
from ringtrail.services.members import (
    add_member,
    change_member_role,
    list_members,
    remove_member,
)
from ringtrail.storage.models import User
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import MAX_ID, ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    FormProblem,
    Refusal,
    attempt,
    done,
    local_time,
    render_settings,
)
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

router = dashboard_router()
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
NO_SUCH_USER = N_(
    "Nobody in this organisation has this e-mail address. People new to it are added by the "
    "administrator of this Ringtrail."
)
KEY_QUOTA_REACHED = N_(
    "Your organisation has reached its limit of API keys. Revoke a key it no longer uses, "
    "or ask the administrator of this Ringtrail to raise the limit."
)


def chosen_role(raw: str) -> Role:
    """The role picked in a form, or FormProblem."""
    try:
        return Role(raw)
    except ValueError as exc:
        raise FormProblem(N_("Choose a role from the list.")) from exc


def grantable_roles(opened: OpenProject) -> list[Role]:
    """The roles this user may give (their own and below), strongest first."""
    return [role for role in Role if outranks_or_equals(opened.role, role)]


def _users_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    members = list_members(db, opened.project)
    return render_settings(
        request,
        opened,
        "settings_users.html",
        {
            "settings_active": "users",
            "members": members,
            "grantable": grantable_roles(opened),
            "may_change": {m.user_id: outranks_or_equals(opened.role, m.role) for m in members},
            "form": form or {"role": Role.VIEWER.value},
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/users")
def users(request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId) -> Response:
    """Who may open the project, and with which role."""
    return _users_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/users")
def add_user(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Give someone of the organisation a role in the project (no role above one's own).

    Another organisation's user gets the same answer as an e-mail nobody has; a superuser
    (the installation's administrator) may add any account.
    """
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    form = {"email": email, "role": role}

    def add() -> None:
        if not email.strip():
            raise FormProblem(N_("Enter the person's e-mail address."))
        granted = chosen_role(role)
        try:
            add_member(
                db,
                opened.project,
                opened.role,
                email=email.strip(),
                role=granted,
                anywhere=user.is_superuser,
            )
        except InvalidInput as exc:
            if exc.field == "email":
                raise FormProblem(NO_SUCH_USER) from None
            raise

    refusal = attempt(db, add, N_("The member could not be added."))
    if refusal is not None:
        return _users_page(request, db, user, project_id, refusal, form)
    return done(project_id, "users", "member_added")


@router.post("/p/{project_id}/settings/users/{user_id}/role")
def change_role(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    user_id: ItemId,
    role: Annotated[str, Form()] = "",
) -> Response:
    """Change a member's role (the last owner stays an owner)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    refusal = attempt(
        db,
        lambda: change_member_role(db, opened.project, opened.role, user_id, chosen_role(role)),
        N_("The role could not be changed."),
    )
    if refusal is not None:
        return _users_page(request, db, user, project_id, refusal)
    return done(project_id, "users", "member_saved")


@router.post("/p/{project_id}/settings/users/{user_id}/remove")
def remove_user(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, user_id: ItemId
) -> Response:
    """Take a member out of the project (their account stays; the last owner cannot go)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    refusal = attempt(
        db,
        lambda: remove_member(db, opened.project, opened.role, user_id),
        N_("The member could not be removed."),
    )
    if refusal is not None:
        return _users_page(request, db, user, project_id, refusal)
    return done(project_id, "users", "member_removed")


def _keys_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
    issued: IssuedApiKey | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    timezone = opened.project.timezone
    keys = list_project_keys(db, opened.project)
    return render_settings(
        request,
        opened,
        "settings_api_keys.html",
        {
            "settings_active": "api-keys",
            "keys": keys,
            "times": {
                key.id: {
                    "created": local_time(key.created_at, timezone),
                    "last_used": local_time(key.last_used_at, timezone),
                    "revoked": local_time(key.revoked_at, timezone),
                }
                for key in keys
            },
            "grantable": grantable_roles(opened),
            "may_revoke": {k.id: outranks_or_equals(opened.role, Role(k.role)) for k in keys},
            "issued": issued,
            "form": form or {"role": Role.VIEWER.value},
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/api-keys")
def api_keys(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The project's API keys (prefix, role, last use, revocation); never their secrets."""
    return _keys_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/api-keys")
def issue_key(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Issue a key for this project alone and show its secret, this once."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    issued: list[IssuedApiKey] = []

    def issue() -> None:
        if not name.strip():
            raise FormProblem(N_("Give the key a name, such as the system that will use it."))
        limit = dashboard_of(request).settings.max_api_keys_per_organization
        try:
            key = issue_project_key(
                db, opened.project, opened.role, name, chosen_role(role), max_keys=limit
            )
        except QuotaExceeded as exc:
            raise FormProblem(KEY_QUOTA_REACHED) from exc
        issued.append(key)

    refusal = attempt(db, issue, N_("The API key could not be created."))
    if refusal is not None:
        return _keys_page(request, db, user, project_id, refusal, {"name": name, "role": role})
    return _keys_page(request, db, user, project_id, issued=issued[0])


@router.post("/p/{project_id}/settings/api-keys/{key_id}/revoke")
def revoke_key(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, key_id: ItemId
) -> Response:
    """Revoke a key: it is refused from now on and stays listed."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MEMBERS)
    refusal = attempt(
        db,
        lambda: revoke_project_key(db, opened.project, opened.role, key_id, datetime.now(UTC)),
        N_("The API key could not be revoked."),
    )
    if refusal is not None:
        return _keys_page(request, db, user, project_id, refusal)
    return done(project_id, "api-keys", "key_revoked")
