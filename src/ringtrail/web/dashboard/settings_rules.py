"""Settings: source rules in the order they are tried; add, switch, move and delete them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.domain.rule_patterns import PatternProblem
from ringtrail.services.pools import list_pools
from ringtrail.services.source_rules import (
    CONDITION_FIELDS,
    PatternRefused,
    TooManyRules,
    add_rule,
    change_rule,
    get_rule,
    list_rules,
    remove_rule,
)
from ringtrail.services.tracking import get_number, get_pool, list_numbers
from ringtrail.storage.models import Project, SourceRule, User
from ringtrail.web.dashboard.call_labels import RULE_FIELD_LABELS
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
    render_settings,
)
from ringtrail.web.deps import DbSession

router = dashboard_router()
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
CONDITION_ROWS = 3
PRIORITY_STEP = 10
FIRST_PRIORITY = 100
MAX_PRIORITY = 1_000_000
TOO_MANY_RULES = N_(
    "This project already has 100 source rules, the most it may have. Delete one before adding "
    "another."
)
PATTERN_REFUSED = {
    PatternProblem.TOO_LONG: N_("A regular expression may be at most 200 characters long."),
    PatternProblem.NESTED_REPEAT: N_(
        "A regular expression repeats a group that holds one repeated item, as in (a+)+: this "
        "can take exponential time. Write a+ instead."
    ),
    PatternProblem.TOO_LARGE: N_(
        "A regular expression repeats too much, with counts such as {100}: it would be too "
        "large once expanded."
    ),
}


def next_priority(rules: list[SourceRule]) -> int:
    """A priority that puts a new rule after every existing one."""
    if not rules:
        return FIRST_PRIORITY
    return min(max(rule.priority for rule in rules) + PRIORITY_STEP, MAX_PRIORITY)


def move_rule(
    db: Session, project: Project, rule_id: int, direction: Literal["up", "down"]
) -> None:
    """Swap the rule with its neighbour; the list is renumbered so equal priorities cannot tie."""
    rules = list_rules(db, project)
    index = next((i for i, rule in enumerate(rules) if rule.id == rule_id), None)
    if index is None:
        get_rule(db, project, rule_id)  # raises NotFound
        return
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, rule in enumerate(rules):
        priority = (position + 1) * PRIORITY_STEP
        if rule.priority != priority:
            change_rule(db, project, rule, {"priority": priority})


def rule_target(db: Session, project: Project, target: str) -> dict[str, int | None]:
    """The pool or static number a rule shows, from the form's `pool:ID` / `number:ID` choice.

    An id of another project's pool or number is a NotFound (the page's 404).
    """
    kind, _, raw_id = target.partition(":")
    if not target:
        return {"pool_id": None, "static_number_id": None}
    if kind not in ("pool", "number") or not raw_id.isdigit() or not 1 <= int(raw_id) <= MAX_ID:
        raise FormProblem(N_("Choose what the rule shows from the list."))
    if kind == "pool":
        return {"pool_id": get_pool(db, project, int(raw_id)).id, "static_number_id": None}
    return {"pool_id": None, "static_number_id": get_number(db, project, int(raw_id)).id}


def rule_conditions(fields: list[str], ops: list[str], values: list[str]) -> list[dict[str, Any]]:
    """The filled-in condition rows (a row without a field is left out)."""
    conditions: list[dict[str, Any]] = []
    for field, op, value in zip(fields, ops, values, strict=False):
        if not field:
            continue
        conditions.append({"field": field, "op": op, "value": value.strip() or None})
    return conditions


def _rules_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    pools = list_pools(db, project)
    numbers = list_numbers(db, project, kind="static")
    return render_settings(
        request,
        opened,
        "settings_rules.html",
        {
            "settings_active": "rules",
            "rules": list_rules(db, project),
            "pools": pools,
            "pool_names": {pool.id: pool.name for pool in pools},
            "static_numbers": numbers,
            "number_names": {n.id: n.e164 for n in numbers},
            "condition_fields": sorted(CONDITION_FIELDS),
            "rule_field_labels": RULE_FIELD_LABELS,
            "condition_ops": ["equals", "contains", "starts_with", "regex", "exists"],
            "condition_rows": range(CONDITION_ROWS),
            "form": form or {},
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/rules")
def rules(request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId) -> Response:
    """The project's source rules in the order they are tried: the first that matches wins."""
    return _rules_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/rules")
def add_source_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    name: Annotated[str, Form(max_length=200)] = "",
    field: Annotated[list[str] | None, Form()] = None,
    op: Annotated[list[str] | None, Form()] = None,
    value: Annotated[list[str] | None, Form()] = None,
    source: Annotated[str, Form(max_length=100)] = "",
    medium: Annotated[str, Form(max_length=100)] = "",
    campaign: Annotated[str, Form(max_length=200)] = "",
    target: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Add a rule after the existing ones."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    fields, ops, values = field or [], op or [], value or []
    form: dict[str, Any] = {
        "name": name,
        "fields": fields,
        "ops": ops,
        "values": values,
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "target": target,
    }

    def add() -> None:
        if not name.strip():
            raise FormProblem(N_("Give the rule a name."))
        try:
            add_rule(
                db,
                project,
                {
                    "name": name.strip(),
                    "priority": next_priority(list_rules(db, project)),
                    "conditions": rule_conditions(fields, ops, values),
                    "source": source.strip() or None,
                    "medium": medium.strip() or None,
                    "campaign": campaign.strip() or None,
                    **rule_target(db, project, target),
                },
            )
        except TooManyRules as exc:
            raise FormProblem(TOO_MANY_RULES) from exc
        except PatternRefused as exc:
            raise FormProblem(PATTERN_REFUSED[exc.problem]) from exc

    refusal = attempt(db, add, N_("The rule could not be added."))
    if refusal is not None:
        return _rules_page(request, db, user, project_id, refusal, form)
    return done(project_id, "rules", "rule_added")


@router.post("/p/{project_id}/settings/rules/{rule_id}/move")
def move_source_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    rule_id: ItemId,
    direction: Annotated[Literal["up", "down"], Form()],
) -> Response:
    """Try the rule one place earlier or later."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: move_rule(db, opened.project, rule_id, direction),
        N_("The rule could not be moved."),
    )
    if refusal is not None:
        return _rules_page(request, db, user, project_id, refusal)
    return done(project_id, "rules", "rule_moved")


@router.post("/p/{project_id}/settings/rules/{rule_id}/active")
def switch_source_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    rule_id: ItemId,
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Switch a rule off (it is skipped) or on again."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    refusal = attempt(
        db,
        lambda: change_rule(db, project, get_rule(db, project, rule_id), {"is_active": active}),
        N_("The rule could not be saved."),
    )
    if refusal is not None:
        return _rules_page(request, db, user, project_id, refusal)
    return done(project_id, "rules", "rule_saved")


@router.post("/p/{project_id}/settings/rules/{rule_id}/remove")
def delete_source_rule(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, rule_id: ItemId
) -> Response:
    """Delete a rule; visits it labelled keep their labels."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: remove_rule(db, opened.project, rule_id),
        N_("The rule could not be deleted."),
    )
    if refusal is not None:
        return _rules_page(request, db, user, project_id, refusal)
    return done(project_id, "rules", "rule_removed")
