"""/api/v1/projects/{id}/telephony: the project's provider accounts and its webhook URLs.

Secrets go in and never come out: responses say `has_secret` instead.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import AfterValidator, BaseModel, Field, field_validator

from ringtrail.domain.roles import Permission
from ringtrail.services.telephony_accounts import (
    list_accounts,
    remove_account,
    set_account,
    webhook_paths,
)
from ringtrail.storage.models import Project, TelephonyAccount
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ProjectId, reject_nulls
from ringtrail.web.api.schemas import StrictInput
from ringtrail.web.deps import DbSession, get_runtime

router = APIRouter(prefix="/projects/{project_id}/telephony", tags=["telephony accounts"])

Provider = Literal["twilio", "zadarma", "binotel", "sip"]
"""The same names as services.telephony_accounts.PROVIDERS (a test keeps them equal)."""
ProviderPath = Annotated[Provider, Path(description="The telephony provider")]
MAX_CONFIG_CHARS = 10_000


def _small_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError as exc:
        raise ValueError("must be plain JSON (no NaN or Infinity)") from exc
    if len(text) > MAX_CONFIG_CHARS:
        raise ValueError(f"must be at most {MAX_CONFIG_CHARS} characters as JSON")
    return value


Config = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=100)], Any], AfterValidator(_small_json)
]


class TelephonyAccountIn(StrictInput):
    """Only the fields sent change; `null` clears `account_ref` or `secret`."""

    account_ref: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, examples=["AC0123456789abcdef0123456789abcdef"]
    )
    secret: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    config: Config | None = None
    is_active: bool | None = None

    _not_null = field_validator("config", "is_active", mode="before")(reject_nulls)


class TelephonyAccountOut(BaseModel):
    provider: str
    account_ref: str | None
    has_secret: bool
    config: dict[str, Any]
    is_active: bool
    webhook_url: str | None
    created_at: datetime


class TelephonyOut(BaseModel):
    """The project's accounts, and where each provider should send call events."""

    accounts: list[TelephonyAccountOut]
    webhook_urls: dict[str, str]


def _webhook_urls(request: Request, project: Project) -> dict[str, str]:
    base = get_runtime(request).settings.public_url.rstrip("/")
    return {provider: base + path for provider, path in webhook_paths(project).items()}


def _out(account: TelephonyAccount, urls: dict[str, str]) -> TelephonyAccountOut:
    return TelephonyAccountOut(
        provider=account.provider,
        account_ref=account.account_ref,
        has_secret=bool(account.secret),
        config=account.config or {},
        is_active=account.is_active,
        webhook_url=urls.get(account.provider),
        created_at=account.created_at,
    )


@router.get("", response_model=TelephonyOut)
def list_(
    project_id: ProjectId, request: Request, db: DbSession, principal: Principal
) -> TelephonyOut:
    """The project's provider accounts (never their secrets) and its webhook URLs."""
    project = load_project(db, principal, project_id, Permission.VIEW_REPORTS)
    urls = _webhook_urls(request, project)
    return TelephonyOut(
        accounts=[_out(account, urls) for account in list_accounts(db, project)],
        webhook_urls=urls,
    )


@router.put(
    "/{provider}",
    response_model=TelephonyAccountOut,
    responses={201: {"model": TelephonyAccountOut, "description": "Created"}},
)
def put(
    project_id: ProjectId,
    provider: ProviderPath,
    body: TelephonyAccountIn,
    request: Request,
    response: Response,
    db: DbSession,
    principal: Principal,
) -> TelephonyAccountOut:
    """Connect a provider, or change its account; 201 when it was not connected before."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    account, created = set_account(db, project, provider, body.model_dump(exclude_unset=True))
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _out(account, _webhook_urls(request, project))


@router.delete("/{provider}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    project_id: ProjectId, provider: ProviderPath, db: DbSession, principal: Principal
) -> Response:
    """Remove the project's account with this provider."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    remove_account(db, project, provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
