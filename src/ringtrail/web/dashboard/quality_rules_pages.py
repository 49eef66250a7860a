"""Settings → Call quality rules: the rules in the order they run, a form to add or change one
(conditions and actions), applying them to past calls with a count, and why a rule did nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Form, Path, Query, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.quality_rules import TEXT_FIELDS, TEXT_OPS
from ringtrail.domain.reports.periods import local_day
from ringtrail.domain.roles import Permission
from ringtrail.domain.word_forms import LANGUAGES
from ringtrail.services.errors import InvalidInput
from ringtrail.services.pools import list_pools
from ringtrail.services.quality_rules import (
    MAX_BACKFILL_DAYS,
    BackfillResult,
    RuleInput,
    RuleReport,
    backfill,
    delete_rule,
    explain_rule,
    get_rule,
    list_rules,
    move_rule,
    save_rule,
)
from ringtrail.storage.models import QualityRule, User
from ringtrail.storage.models.base import utcnow
from ringtrail.web.dashboard.i18n import LANGUAGE_NAMES
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import MAX_ID, ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    FormProblem,
    Refusal,
    attempt,
    done,
    render_settings,
)
from ringtrail.web.deps import DbSession

router = dashboard_router()
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
SECTION = "quality-rules"
TEXT_ROWS = 3
EXPLAIN_DAYS = 30
Choice = Literal["", "yes", "no"]
NOTICES.update(
    {
        "quality_rule_added": N_("The quality rule was added."),
        "quality_rule_saved": N_("The quality rule was saved."),
        "quality_rule_moved": N_("The quality rule was moved."),
        "quality_rule_removed": N_("The quality rule was deleted."),
    }
)
FIELD_LABELS = {
    "source": N_("Source"),
    "medium": N_("Medium"),
    "campaign": N_("Campaign"),
    "channel": N_("Channel"),
}
OP_LABELS = {"equals": N_("equals"), "contains": N_("contains")}
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
REASON_LABELS = {
    "talk time": N_("talk time"),
    "the call was answered or missed": N_("answered or missed"),
    "first-time caller": N_("first-time caller"),
    "working hours": N_("working hours"),
    "dialled number": N_("dialled number"),
    "pool": N_("pool"),
    "no transcript yet": N_("no transcript yet"),
    "phrases not found": N_("none of the phrases was said"),
    "an excluded phrase was said": N_("an excluded phrase was said"),
    **FIELD_LABELS,
}
"""The reasons `explain_rule` counts, as the page shows them."""
MARK_LABELS = {"target": N_("Mark target"), "non_target": N_("Mark not target")}


def _flag(choice: str) -> bool | None:
    return {"yes": True, "no": False}.get(choice)


def _choice(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _list(text: str) -> list[str]:
    """Items typed one a line or separated by commas."""
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]


def form_of(row: QualityRule) -> dict[str, Any]:
    """A stored rule as the form shows it."""
    conditions = row.conditions or {}
    hours = row.working_hours or {}
    text = conditions.get("text") or []
    return {
        "rule_id": row.id,
        "name": row.name,
        "enabled": row.enabled,
        "talk_at_least": conditions.get("talk_at_least", ""),
        "talk_under": conditions.get("talk_under", ""),
        "answered": _choice(conditions.get("answered")),
        "first_time": _choice(conditions.get("first_time")),
        "out_of_hours": _choice(conditions.get("out_of_hours")),
        "text_fields": [item["field"] for item in text],
        "text_ops": [item["op"] for item in text],
        "text_values": [item["value"] for item in text],
        "dialled": ", ".join(conditions.get("dialled") or []),
        "pool_ids": [str(pool) for pool in conditions.get("pool_ids") or []],
        "phrases_any": "\n".join(conditions.get("phrases_any") or []),
        "phrases_none": "\n".join(conditions.get("phrases_none") or []),
        "working_days": [str(day) for day in hours.get("days", range(5))],
        "working_start": hours.get("start", "09:00"),
        "working_end": hours.get("end", "18:00"),
        "languages": list(row.languages or []),
        "add_tags": ", ".join(row.add_tags or []),
        "mark": row.mark or "",
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: Refusal | None = None,
    form: dict[str, Any] | None = None,
    applied: BackfillResult | None = None,
    edit: int | None = None,
    why: int | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    today = local_day(utcnow(), ZoneInfo(project.timezone or "UTC"))
    if form is None and edit is not None:
        form = form_of(get_rule(db, project.id, edit))
    report: RuleReport | None = None
    if why is not None:
        report = explain_rule(db, project.id, why, today - timedelta(days=EXPLAIN_DAYS - 1), today)
    return render_settings(
        request,
        opened,
        "settings_quality_rules.html",
        {
            "settings_active": SECTION,
            "rules": list_rules(db, project.id),
            "pools": list_pools(db, project),
            "text_fields": TEXT_FIELDS,
            "text_ops": TEXT_OPS,
            "field_labels": FIELD_LABELS,
            "op_labels": OP_LABELS,
            "phrase_languages": LANGUAGES,
            "language_labels": LANGUAGE_NAMES,
            "weekdays": WEEKDAYS,
            "mark_labels": MARK_LABELS,
            "reason_labels": REASON_LABELS,
            "text_rows": range(TEXT_ROWS),
            "form": form or {"enabled": True, "working_days": ["0", "1", "2", "3", "4"]},
            "applied": applied,
            "report": report,
            "why": why,
            "explain_days": EXPLAIN_DAYS,
            "apply_from": (today - timedelta(days=29)).isoformat(),
            "apply_to": today.isoformat(),
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/quality-rules")
def quality_rules(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    edit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    why: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The project's call quality rules; `edit` fills the form with a rule, `why` says how a
    rule fared on the last 30 days' calls."""
    return _page(request, db, user, project_id, edit=edit, why=why)


@router.post("/p/{project_id}/settings/quality-rules")
def save_quality_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    name: Annotated[str, Form(max_length=100)] = "",
    rule_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    enabled: Annotated[bool, Form()] = False,
    talk_at_least: Annotated[str, Form(max_length=10)] = "",
    talk_under: Annotated[str, Form(max_length=10)] = "",
    answered: Annotated[Choice, Form()] = "",
    first_time: Annotated[Choice, Form()] = "",
    out_of_hours: Annotated[Choice, Form()] = "",
    text_field: Annotated[list[str] | None, Form()] = None,
    text_op: Annotated[list[str] | None, Form()] = None,
    text_value: Annotated[list[str] | None, Form()] = None,
    dialled: Annotated[str, Form(max_length=2000)] = "",
    pool_ids: Annotated[list[str] | None, Form()] = None,
    phrases_any: Annotated[str, Form(max_length=40_000)] = "",
    phrases_none: Annotated[str, Form(max_length=40_000)] = "",
    working_days: Annotated[list[str] | None, Form()] = None,
    working_start: Annotated[str, Form(max_length=5)] = "09:00",
    working_end: Annotated[str, Form(max_length=5)] = "18:00",
    languages: Annotated[list[str] | None, Form()] = None,
    add_tags: Annotated[str, Form(max_length=2100)] = "",
    mark: Annotated[Literal["", "target", "non_target"], Form()] = "",
) -> Response:
    """Add a rule (it runs last) or, with `rule_id`, change one."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    fields, ops, values = text_field or [], text_op or [], text_value or []
    form: dict[str, Any] = {
        "rule_id": rule_id,
        "name": name,
        "enabled": enabled,
        "talk_at_least": talk_at_least,
        "talk_under": talk_under,
        "answered": answered,
        "first_time": first_time,
        "out_of_hours": out_of_hours,
        "text_fields": fields,
        "text_ops": ops,
        "text_values": values,
        "dialled": dialled,
        "pool_ids": pool_ids or [],
        "phrases_any": phrases_any,
        "phrases_none": phrases_none,
        "working_days": working_days or [],
        "working_start": working_start,
        "working_end": working_end,
        "languages": languages or [],
        "add_tags": add_tags,
        "mark": mark,
    }

    def save() -> None:
        if not name.strip():
            raise FormProblem(N_("Give the rule a name."))
        if not working_days and out_of_hours:
            raise FormProblem(N_("Pick the working days for the out-of-hours condition."))
        text = [
            {"field": field, "op": op, "value": value}
            for field, op, value in zip(fields, ops, values, strict=False)
            if field and value.strip()
        ]
        data = RuleInput(
            name=name,
            enabled=enabled,
            conditions={
                "talk_at_least": talk_at_least.strip() or None,
                "talk_under": talk_under.strip() or None,
                "answered": _flag(answered),
                "first_time": _flag(first_time),
                "out_of_hours": _flag(out_of_hours),
                "text": text,
                "dialled": _list(dialled),
                "pool_ids": [pool for pool in pool_ids or [] if pool.isdigit()],
                "phrases_any": _list(phrases_any),
                "phrases_none": _list(phrases_none),
            },
            add_tags=_list(add_tags),
            mark=mark or None,
            working_hours={
                "days": working_days or list(range(5)),
                "start": working_start,
                "end": working_end,
            },
            languages=languages or [],
        )
        save_rule(db, opened.project.id, data, utcnow(), rule_id)

    refusal = attempt(db, save, N_("The quality rule could not be saved."))
    if refusal is not None:
        return _page(request, db, user, project_id, refusal, form)
    return done(project_id, SECTION, "quality_rule_saved" if rule_id else "quality_rule_added")


@router.post("/p/{project_id}/settings/quality-rules/{quality_rule_id}/move")
def move_quality_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    quality_rule_id: ItemId,
    direction: Annotated[Literal["up", "down"], Form()],
) -> Response:
    """Run the rule one place earlier or later."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project_id_ = opened.project.id

    def move() -> None:
        ids = [row.id for row in list_rules(db, project_id_)]
        if quality_rule_id not in ids:
            get_rule(db, project_id_, quality_rule_id)  # NotFound: the 404 page
        place = ids.index(quality_rule_id) + 1
        move_rule(db, project_id_, quality_rule_id, place - 1 if direction == "up" else place + 1)

    refusal = attempt(db, move, N_("The quality rule could not be moved."))
    if refusal is not None:
        return _page(request, db, user, project_id, refusal)
    return done(project_id, SECTION, "quality_rule_moved")


@router.post("/p/{project_id}/settings/quality-rules/{quality_rule_id}/active")
def switch_quality_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    quality_rule_id: ItemId,
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Switch a rule off (it runs on no call) or on again."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)

    def switch() -> None:
        get_rule(db, opened.project.id, quality_rule_id).enabled = active

    refusal = attempt(db, switch, N_("The quality rule could not be saved."))
    if refusal is not None:
        return _page(request, db, user, project_id, refusal)
    return done(project_id, SECTION, "quality_rule_saved")


@router.post("/p/{project_id}/settings/quality-rules/{quality_rule_id}/remove")
def delete_quality_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    quality_rule_id: ItemId,
) -> Response:
    """Delete a rule; the tags and marks it set stay, named in each call's history."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    refusal = attempt(
        db,
        lambda: delete_rule(db, opened.project.id, quality_rule_id),
        N_("The quality rule could not be deleted."),
    )
    if refusal is not None:
        return _page(request, db, user, project_id, refusal)
    return done(project_id, SECTION, "quality_rule_removed")


@router.post("/p/{project_id}/settings/quality-rules/apply")
def apply_quality_rules_to_past_calls(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    start: Annotated[date, Form(alias="from")],
    end: Annotated[date, Form(alias="to")],
) -> Response:
    """Apply the switched-on rules to the ended calls of a period; the page says how many
    calls were looked at and changed."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    result: list[BackfillResult] = []

    def apply() -> None:
        if (end - start).days >= MAX_BACKFILL_DAYS:
            raise InvalidInput("to", f"at most {MAX_BACKFILL_DAYS} days at a time")
        result.append(backfill(db, opened.project.id, start, end, utcnow()))

    refusal = attempt(db, apply, N_("The rules could not be applied to past calls."))
    if refusal is None:
        db.commit()
    return _page(request, db, user, project_id, refusal, applied=result[0] if result else None)
