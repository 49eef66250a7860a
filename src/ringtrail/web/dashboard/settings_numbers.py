"""Settings: static and offline tracking numbers, and number pools with their health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.errors import InvalidInput
from ringtrail.services.pool_health import pool_health
from ringtrail.services.pool_plan import stored_plan
from ringtrail.services.pools import create_pool, list_pools, remove_pool, summarize_pools
from ringtrail.services.setup_checklist import add_catch_all_rule, pools_without_rule
from ringtrail.services.source_rules import list_rules
from ringtrail.services.tracking import (
    add_number,
    change_number,
    get_number,
    get_pool,
    list_numbers,
    remove_number,
)
from ringtrail.storage.models import User
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import MAX_ID, ProjectId
from ringtrail.web.dashboard.project_access import open_project
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
from ringtrail.web.deps import DbSession
from ringtrail.web.tracking.api import lease_backend

router = dashboard_router()
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
Back = Literal["numbers", "pools"]
PageRenderer = Callable[
    [Request, Session, User, int, Refusal | None, dict[str, str] | None], Response
]
MAX_NUMBERS_AT_ONCE = 1000


def number_lines(text: str) -> list[str]:
    """The phone numbers typed one a line (blank lines left out)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_NUMBERS_AT_ONCE:
        raise FormProblem(N_("Add at most 1000 numbers at once."))
    return lines


def _numbers_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    numbers = list_numbers(db, opened.project, kind="static")
    return render_settings(
        request,
        opened,
        "settings_numbers.html",
        {
            "settings_active": "numbers",
            "numbers": numbers,
            "added_at": {n.id: local_time(n.created_at, opened.project.timezone) for n in numbers},
            "form": form or {"placement": "site"},
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/numbers")
def numbers(request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId) -> Response:
    """The project's static numbers: shown on the site for one source, or offline only."""
    return _numbers_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/numbers")
def add_static_number(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    number: Annotated[str, Form(max_length=40)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
    source: Annotated[str, Form(max_length=100)] = "",
    medium: Annotated[str, Form(max_length=100)] = "",
    campaign: Annotated[str, Form(max_length=200)] = "",
    placement: Annotated[str, Form()] = "site",
) -> Response:
    """Start tracking a static number (E.164 or national, read with the project's country)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    form = {
        "number": number,
        "label": label,
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "placement": placement,
    }

    def add() -> None:
        if not number.strip():
            raise FormProblem(N_("Enter the phone number."))
        values = {
            "number": number.strip(),
            "kind": "static",
            "label": label.strip(),
            "source": source.strip() or None,
            "medium": medium.strip() or None,
            "campaign": campaign.strip() or None,
            "offline_only": placement == "offline",
        }
        add_number(db, opened.project, values)

    refusal = attempt(db, add, N_("The number could not be added."))
    if refusal is not None:
        return _numbers_page(request, db, user, project_id, refusal, form)
    return done(project_id, "numbers", "number_added")


def _back_page(back: Back) -> PageRenderer:
    return _pools_page if back == "pools" else _numbers_page


@router.post("/p/{project_id}/settings/numbers/{number_id}/label")
def save_number_label(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    number_id: ItemId,
    label: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[Back, Form()] = "numbers",
) -> Response:
    """Rename a number (the label people see in reports and the calls log)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    refusal = attempt(
        db,
        lambda: change_number(
            db, project, get_number(db, project, number_id), {"label": label.strip()}
        ),
        N_("The number could not be saved."),
    )
    if refusal is not None:
        return _back_page(back)(request, db, user, project_id, refusal, None)
    return done(project_id, back, "number_saved")


@router.post("/p/{project_id}/settings/numbers/{number_id}/active")
def switch_number(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    number_id: ItemId,
    active: Annotated[bool, Form()] = False,
    back: Annotated[Back, Form()] = "numbers",
) -> Response:
    """Switch a number off (it is no longer shown; its calls stay) or on again."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    refusal = attempt(
        db,
        lambda: change_number(
            db, project, get_number(db, project, number_id), {"is_active": active}
        ),
        N_("The number could not be saved."),
    )
    if refusal is not None:
        return _back_page(back)(request, db, user, project_id, refusal, None)
    return done(project_id, back, "number_saved")


@router.post("/p/{project_id}/settings/numbers/{number_id}/remove")
def delete_number(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    number_id: ItemId,
    back: Annotated[Back, Form()] = "numbers",
) -> Response:
    """Stop tracking a number; its calls keep the dialled number."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: remove_number(db, opened.project, number_id),
        N_("The number could not be removed."),
    )
    if refusal is not None:
        return _back_page(back)(request, db, user, project_id, refusal, None)
    return done(project_id, back, "number_removed")


def _pools_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    now = datetime.now(UTC)
    backend = lease_backend(request)
    summaries = summarize_pools(db, list_pools(db, project))
    rules = list_rules(db, project)
    pool_numbers = list_numbers(db, project, kind="pool")
    unpointed = pools_without_rule(db, project)
    return render_settings(
        request,
        opened,
        "settings_pools.html",
        {
            "settings_active": "pools",
            "pools": [
                {
                    "summary": summary,
                    "health": pool_health(db, backend, project, summary.pool, now),
                    "plan": stored_plan(project, summary.pool.id),
                    "rules": [rule for rule in rules if rule.pool_id == summary.pool.id],
                    "without_rule": summary.pool.id in unpointed,
                    "numbers": [n for n in pool_numbers if n.pool_id == summary.pool.id],
                }
                for summary in summaries
            ],
            "form": form or {},
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/pools")
def pools(request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId) -> Response:
    """The project's pools: size, default number, rules that show them, and their health."""
    return _pools_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/pools")
def add_pool(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    name: Annotated[str, Form(max_length=200)] = "",
    numbers: Annotated[str, Form(max_length=50_000)] = "",
    default_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Create a pool with its numbers (one a line) and, optionally, its default number."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    form = {"name": name, "numbers": numbers, "default_number": default_number}

    def create() -> None:
        if not name.strip():
            raise FormProblem(N_("Give the pool a name."))
        create_pool(
            db,
            opened.project,
            {"name": name.strip()},
            numbers=number_lines(numbers),
            default_number=default_number.strip() or None,
        )

    refusal = attempt(db, create, N_("The pool could not be created."))
    if refusal is not None:
        return _pools_page(request, db, user, project_id, refusal, form)
    return done(project_id, "pools", "pool_created")


@router.post("/p/{project_id}/settings/pools/{pool_id}/numbers")
def add_pool_numbers(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    pool_id: ItemId,
    numbers: Annotated[str, Form(max_length=50_000)] = "",
) -> Response:
    """Add numbers (one a line) to one of the project's pools: all of them, or none."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project

    def add() -> None:
        pool = get_pool(db, project, pool_id)
        lines = number_lines(numbers)
        if not lines:
            raise FormProblem(N_("Enter at least one phone number."))
        for index, line in enumerate(lines):
            try:
                add_number(db, project, {"number": line, "kind": "pool", "pool_id": pool.id})
            except InvalidInput as exc:
                raise InvalidInput(f"numbers.{index}", exc.message) from exc

    refusal = attempt(db, add, N_("The numbers could not be added to the pool."))
    if refusal is not None:
        return _pools_page(request, db, user, project_id, refusal, None)
    return done(project_id, "pools", "pool_numbers_added")


@router.post("/p/{project_id}/settings/pools/{pool_id}/catch-all")
def add_pool_catch_all(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, pool_id: ItemId
) -> Response:
    """Show the pool to every visit: a source rule with no conditions, tried after the others."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: add_catch_all_rule(db, opened.project, pool_id),
        N_("The rule could not be added."),
    )
    if refusal is not None:
        return _pools_page(request, db, user, project_id, refusal, None)
    return done(project_id, "pools", "rule_added")


@router.post("/p/{project_id}/settings/pools/{pool_id}/remove")
def delete_pool(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, pool_id: ItemId
) -> Response:
    """Delete an empty pool (one that still has numbers is refused)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: remove_pool(db, opened.project, pool_id),
        N_("The pool could not be deleted."),
    )
    if refusal is not None:
        return _pools_page(request, db, user, project_id, refusal, None)
    return done(project_id, "pools", "pool_removed")
