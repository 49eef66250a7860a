"""The telephony settings page: webhook URLs, the provider accounts, the webhook secret.

Marketers and up see the page (like the numbers it serves); only admins and owners
(MANAGE_PROJECT, as in the API) may reveal or rotate the generic webhook's signing secret,
and each reveal and rotation is written to the audit log.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.recordings.hosts import CONFIG_KEY as RECORDING_HOSTS
from ringtrail.services.telephony_accounts import (
    PROVIDERS,
    list_accounts,
    remove_account,
    set_account,
    webhook_paths,
)
from ringtrail.services.webhook_secrets import (
    DEFAULT_GRACE_HOURS,
    MAX_GRACE_HOURS,
    rotate_webhook_secret,
    show_webhook_secret,
    webhook_path,
    webhook_secret_state,
)
from ringtrail.storage.models import User
from ringtrail.telephony.signed import MAX_SKEW_SECONDS
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId, public_base_url
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    FormProblem,
    Refusal,
    attempt,
    done,
    local_time,
    render_settings,
)
from ringtrail.web.deps import DbSession

router = dashboard_router()
SECTION = "telephony"
GRACE_CHOICES = {
    0: N_("No time: refuse it at once"),
    1: N_("1 hour"),
    DEFAULT_GRACE_HOURS: N_("24 hours"),
    72: N_("3 days"),
    MAX_GRACE_HOURS: N_("7 days"),
}
BAD_GRACE = N_("Choose from the list how long the old secret keeps working.")
NOTICES.update(
    {
        "webhook_secret_rotated": N_("A new webhook secret was made. Reveal it to copy it."),
        "account_saved": N_("The provider account was saved."),
        "account_removed": N_("The provider account was removed."),
    }
)
UNKNOWN_PROVIDER = N_("Choose a provider from the list.")
ACCOUNT_REFUSED = N_("The provider account could not be saved.")
PROVIDER_NAMES = {
    "twilio": "Twilio",
    "zadarma": "Zadarma",
    "binotel": "Binotel",
    "sip": N_("SIP (Kamailio) and the generic webhook"),
}


def _page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    *,
    reveal: bool = False,
    refusal: Refusal | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    now = datetime.now(UTC)
    admin = opened.may(Permission.MANAGE_PROJECT)
    state = webhook_secret_state(project, now)
    secret = show_webhook_secret(db, project, now).secret if admin and reveal else None
    base = public_base_url(request)
    urls = {provider: base + path for provider, path in webhook_paths(project).items()}
    accounts = [
        {
            "provider": account.provider,
            "name": PROVIDER_NAMES.get(account.provider, account.provider),
            "account_ref": account.account_ref or "",
            "has_secret": bool(account.secret),
            "is_active": account.is_active,
            "recording_hosts": ", ".join((account.config or {}).get("recording_hosts") or []),
            "webhook_url": urls.get(account.provider, ""),
        }
        for account in list_accounts(db, project)
    ]
    return render_settings(
        request,
        opened,
        "settings_telephony.html",
        {
            "settings_active": SECTION,
            "webhook_url": base + webhook_path(project),
            "secret": secret,
            "previous_until": local_time(state.previous_valid_until, project.timezone),
            "grace_choices": GRACE_CHOICES,
            "default_grace": DEFAULT_GRACE_HOURS,
            "max_skew": MAX_SKEW_SECONDS,
            "accounts": accounts,
            "providers": [(p, PROVIDER_NAMES.get(p, p)) for p in PROVIDERS],
            "provider_urls": [
                (PROVIDER_NAMES.get(provider, provider), url) for provider, url in urls.items()
            ],
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/telephony")
def telephony_settings(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Webhook URLs, the provider accounts and (for admins) the webhook secret's controls."""
    return _page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/telephony/webhook-secret/reveal")
def reveal_webhook_secret(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The page again with the secret shown (admins and owners); the reveal is logged."""
    open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    return _page(request, db, user, project_id, reveal=True)


@router.post("/p/{project_id}/settings/telephony/webhook-secret/rotate")
def rotate_secret(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    grace_hours: Annotated[str, Form(max_length=5)] = str(DEFAULT_GRACE_HOURS),
) -> Response:
    """A new secret; the old one stays accepted for the chosen number of hours."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)

    def run() -> None:
        try:
            hours = int(grace_hours)
        except ValueError as exc:
            raise FormProblem(BAD_GRACE) from exc
        if hours not in GRACE_CHOICES:
            raise FormProblem(BAD_GRACE)
        rotate_webhook_secret(db, opened.project, datetime.now(UTC), hours)

    refusal = attempt(db, run, BAD_GRACE)
    if refusal is not None:
        return _page(request, db, user, project_id, refusal=refusal)
    return done(project_id, SECTION, "webhook_secret_rotated")


def account_values(form: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    """What the account form changes. An empty field keeps what is stored (the id, the
    secret, the recording hosts); listed recording hosts (one per line or comma-separated)
    replace the ones before, and the account's other options stay."""
    values: dict[str, Any] = {"is_active": bool(form["is_active"])}
    for field in ("account_ref", "secret"):
        if form[field].strip():
            values[field] = form[field].strip()
    hosts = [host for host in re.split(r"[\s,]+", form["recording_hosts"]) if host]
    if hosts:
        values["config"] = {**config, RECORDING_HOSTS: hosts}
    return values


@router.post("/p/{project_id}/settings/telephony/accounts")
def save_account(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    provider: Annotated[str, Form(max_length=40)] = "",
    account_ref: Annotated[str, Form(max_length=1000)] = "",
    secret: Annotated[str, Form(max_length=1000)] = "",
    recording_hosts: Annotated[str, Form(max_length=6000)] = "",
    is_active: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Connect a provider, or change the project's account with it (admins and owners)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = {
        "account_ref": account_ref,
        "secret": secret,
        "recording_hosts": recording_hosts,
        "is_active": is_active,
    }

    def run() -> None:
        if provider not in PROVIDERS:
            raise FormProblem(UNKNOWN_PROVIDER)
        current = next(
            (a for a in list_accounts(db, opened.project) if a.provider == provider), None
        )
        config = dict(current.config or {}) if current is not None else {}
        set_account(db, opened.project, provider, account_values(form, config))

    refusal = attempt(db, run, ACCOUNT_REFUSED)
    if refusal is not None:
        return _page(request, db, user, project_id, refusal=refusal)
    return done(project_id, SECTION, "account_saved")


@router.post("/p/{project_id}/settings/telephony/accounts/{provider}/remove")
def delete_account(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, provider: str
) -> Response:
    """Remove the project's account with `provider` (calls already received stay)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    refusal = attempt(db, lambda: remove_account(db, opened.project, provider), ACCOUNT_REFUSED)
    if refusal is not None:
        return _page(request, db, user, project_id, refusal=refusal)
    return done(project_id, SECTION, "account_removed")
