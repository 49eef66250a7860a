"""Dashboard pages of the callback widget: its settings, and the worklist of callbacks.

- `/p/{id}/settings/callback-widget` (the right to manage tracking): switch the widget on,
  its texts in English, Russian and Ukrainian, colours, position, working hours and days,
  when it offers itself, the numbers, and the anti-abuse limits and block list.
- `/p/{id}/callbacks` (members who see calls): requests still waiting, scheduled for the
  next opening, being called or not reached, and the last ones settled; sales may have one
  rung at once or mark it done (the right to mark calls). Below, the requests the
  anti-abuse checks refused, by reason (the refusal log, services.lead_guard).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.callback_widget import DEFAULT_TEXTS, LANGUAGES, TEXT_KEYS, WidgetSettings
from ringtrail.domain.lead_guard import OPERATOR_REASONS, Refusal
from ringtrail.domain.privacy import mask_phone
from ringtrail.domain.roles import Permission
from ringtrail.services.callback_requests import (
    OPEN_STATUSES,
    call_now,
    list_requests,
    mark_done,
    set_widget_settings,
)
from ringtrail.services.lead_guard import REFUSAL_PREFIX
from ringtrail.services.refusals import list_refusals
from ringtrail.storage.models import CallbackRequest, Lead, User
from ringtrail.web.api.fields import MAX_ID
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import (
    N_,
    NOTICES,
    FormProblem,
    attempt,
    done,
    local_time,
    render_settings,
)
from ringtrail.web.dashboard.settings_common import (
    Refusal as PageRefusal,
)
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

router = dashboard_router()
SECTION = "callback-widget"
CallbackId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOTICES.update({"widget_saved": N_("The callback widget settings were saved.")})
DAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "uk": "Українська"}
"""Each language in itself, as the dashboard's language picker names them."""
TEXT_LEGENDS = {
    "en": N_("Texts in English"),
    "ru": N_("Texts in Russian"),
    "uk": N_("Texts in Ukrainian"),
}
TEXT_LABELS = {
    "button": N_("Button"),
    "title": N_("Title"),
    "prompt": N_("Prompt"),
    "submit": N_("Send button"),
    "countdown": N_("Countdown ({seconds} is replaced)"),
    "scheduled": N_("Outside working hours ({time} is replaced)"),
    "invalid_phone": N_("Invalid number"),
    "refused": N_("Request refused"),
    "announcement": N_("What the business hears ({phone} is replaced)"),
}
STATUS_LABELS = {
    "waiting": N_("Waiting"),
    "calling": N_("Calling"),
    "connected": N_("Connected"),
    "unreached": N_("Not reached"),
    "done": N_("Done"),
}
OUTCOME_LABELS = {
    "connected": N_("Connected"),
    "business_no_answer": N_("The business did not answer"),
    "customer_no_answer": N_("The customer did not answer"),
    "failed": N_("The call failed"),
}
REFUSAL_LABELS = {
    Refusal.HONEYPOT: N_("Hidden field filled in (a bot)"),
    Refusal.INVALID_PHONE: N_("Invalid phone number"),
    Refusal.UNCALLABLE_PHONE: N_("Premium-rate or shared-cost number"),
    Refusal.BLOCKED_NUMBER: N_("Number on the block list"),
    Refusal.ADDRESS_LIMIT: N_("Too many requests from one IP address"),
    Refusal.VISITOR_LIMIT: N_("Too many requests from one visitor"),
    Refusal.PHONE_LIMIT: N_("Too many requests for one number"),
    Refusal.DAILY_CALLS: N_("Daily calls to this number reached"),
}
NUMBER_FIELDS = (
    "countdown_seconds",
    "max_attempts",
    "retry_minutes",
    "delay_seconds",
    "scroll_percent",
    "per_address_per_hour",
    "per_visitor_per_day",
    "per_phone_per_day",
    "calls_per_number_per_day",
)


def _form_values(settings: WidgetSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enabled": settings.enabled,
        "language": settings.language,
        "position": settings.position,
        "colour": settings.colour,
        "text_colour": settings.text_colour,
        "business_number": settings.business_number or "",
        "caller_id": settings.caller_id or "",
        "days": list(settings.hours.days),
        "opens": settings.hours.opens.strftime("%H:%M"),
        "closes": settings.hours.closes.strftime("%H:%M"),
        "delay_seconds": settings.delay.seconds,
        "scroll_percent": settings.delay.scroll_percent,
        "exit_intent": settings.delay.exit_intent,
        "countdown_seconds": settings.countdown_seconds,
        "max_attempts": settings.max_attempts,
        "retry_minutes": settings.retry_minutes,
        "per_address_per_hour": settings.limits.per_address_per_hour,
        "per_visitor_per_day": settings.limits.per_visitor_per_day,
        "per_phone_per_day": settings.limits.per_phone_per_day,
        "calls_per_number_per_day": settings.limits.calls_per_number_per_day,
        "blocked_numbers": "\n".join(settings.limits.blocked_numbers),
    }
    for language in LANGUAGES:
        for key in TEXT_KEYS:
            values[f"text_{language}_{key}"] = settings.texts.get(language, {}).get(key, "")
    return values


def _raw_settings(form: dict[str, Any]) -> dict[str, Any]:
    """The settings dict `checked_settings` takes, from the page's form fields."""
    numbers: dict[str, int] = {}
    for name in NUMBER_FIELDS:
        text = str(form.get(name, "")).strip()
        if not text.isdigit():
            raise FormProblem(N_("Limits, delays and attempts must be whole numbers."))
        numbers[name] = int(text)
    texts = {
        language: {
            key: str(form.get(f"text_{language}_{key}", ""))
            for key in TEXT_KEYS
            if str(form.get(f"text_{language}_{key}", "")).strip()
        }
        for language in LANGUAGES
    }
    return {
        "enabled": bool(form.get("enabled")),
        "language": str(form.get("language", "auto")),
        "position": str(form.get("position", "bottom-right")),
        "colour": str(form.get("colour", "")),
        "text_colour": str(form.get("text_colour", "")),
        "texts": {language: own for language, own in texts.items() if own},
        "business_number": str(form.get("business_number", "")),
        "caller_id": str(form.get("caller_id", "")),
        "hours": {
            "days": [int(day) for day in form.get("days", []) if str(day).isdigit()],
            "opens": str(form.get("opens", "")),
            "closes": str(form.get("closes", "")),
        },
        "delay": {
            "seconds": numbers["delay_seconds"],
            "scroll_percent": numbers["scroll_percent"],
            "exit_intent": bool(form.get("exit_intent")),
        },
        "limits": {
            "per_address_per_hour": numbers["per_address_per_hour"],
            "per_visitor_per_day": numbers["per_visitor_per_day"],
            "per_phone_per_day": numbers["per_phone_per_day"],
            "calls_per_number_per_day": numbers["calls_per_number_per_day"],
            "blocked_numbers": str(form.get("blocked_numbers", "")),
        },
        "countdown_seconds": numbers["countdown_seconds"],
        "max_attempts": numbers["max_attempts"],
        "retry_minutes": numbers["retry_minutes"],
    }


def _widget_page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    refusal: PageRefusal | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    values = {**_form_values(WidgetSettings.of(opened.project.extra)), **(form or {})}
    return render_settings(
        request,
        opened,
        "settings_callback_widget.html",
        {
            "settings_active": SECTION,
            "form": values,
            "day_names": list(enumerate(DAY_NAMES)),
            "widget_languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "text_legends": TEXT_LEGENDS,
            "text_keys": [(key, TEXT_LABELS[key]) for key in TEXT_KEYS],
            "default_texts": DEFAULT_TEXTS,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/callback-widget")
def widget_settings(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The callback widget's settings."""
    return _widget_page(request, db, user, project_id)


@router.post("/p/{project_id}/settings/callback-widget")
async def save_widget_settings(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Save the callback widget's settings (every field of the page's form)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    posted = await request.form()
    form: dict[str, Any] = {
        name: str(value) for name, value in posted.items() if isinstance(value, str)
    }
    form["days"] = [str(day) for day in posted.getlist("days") if isinstance(day, str)]
    for flag in ("enabled", "exit_intent"):
        form[flag] = bool(posted.get(flag))

    def change() -> None:
        set_widget_settings(db, opened.project, _raw_settings(form))
        db.commit()

    refusal = attempt(db, change, N_("The callback widget settings could not be saved."))
    if refusal is not None:
        return _widget_page(request, db, user, project_id, refusal, form)
    return done(project_id, SECTION, "widget_saved")


def _request_row(
    request: CallbackRequest, lead: Lead | None, timezone: str, masked: bool
) -> dict[str, Any]:
    return {
        "id": request.id,
        "requested": local_time(request.requested_at, timezone),
        "due": local_time(request.due_at, timezone),
        "scheduled": request.scheduled,
        "status": request.status,
        "status_label": STATUS_LABELS.get(request.status, request.status),
        "outcome_label": OUTCOME_LABELS.get(request.last_outcome or "", ""),
        "error": request.last_error or "",
        "attempts": request.attempts,
        "phone": mask_phone(request.phone_e164) if masked else request.phone_e164,
        "source": lead.source if lead else None,
        "campaign": lead.campaign if lead else None,
        "seconds_to_connect": request.seconds_to_connect,
        "call_id": request.call_id,
        "page": request.page_url or "",
    }


@router.get("/p/{project_id}/callbacks")
def callbacks_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The callbacks worklist: open requests first, then the last ones settled."""
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    project = opened.project
    masked = not opened.may(Permission.SEE_CALLER_NUMBERS)

    def rows(statuses: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
        found = list_requests(db, project, statuses=statuses, limit=limit)
        leads = {lead.id: lead for lead in _leads(db, [r.lead_id for r in found if r.lead_id])}
        return [_request_row(r, leads.get(r.lead_id or 0), project.timezone, masked) for r in found]

    tracking = getattr(request.app.state, "tracking_service", None)
    if tracking is not None:
        tracking.refusals.flush()
    refused = []
    for row in list_refusals(db, project.id):
        if not row.reason.startswith(REFUSAL_PREFIX):
            continue
        code = row.reason.removeprefix(REFUSAL_PREFIX)
        reason = Refusal(code) if code in Refusal._value2member_map_ else None
        refused.append(
            {
                "code": code,
                "label": REFUSAL_LABELS[reason] if reason else code,
                "explanation": OPERATOR_REASONS[reason] if reason else "",
                "count": row.count,
                "last_seen": local_time(row.last_seen_at, project.timezone),
                "page": row.sample_url,
            }
        )
    return dashboard_of(request).templates.render(
        request,
        "callbacks.html",
        {
            **opened.page_context(),
            "section_active": "leads",
            "open_rows": rows(OPEN_STATUSES, 200),
            "settled_rows": rows(("connected", "done"), 50),
            "refused": refused,
            "widget_on": WidgetSettings.of(project.extra).enabled,
        },
    )


def _leads(db: Session, ids: list[int]) -> list[Lead]:
    if not ids:
        return []
    return [lead for lead in (db.get(Lead, lead_id) for lead_id in ids) if lead is not None]


@router.post("/p/{project_id}/callbacks/{callback_id}/done")
def callback_done(
    db: DbSession, user: RequiredUser, project_id: ProjectId, callback_id: CallbackId
) -> Response:
    """Mark a request settled by a person."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    attempt(db, lambda: mark_done(db, opened.project, callback_id, user.id, datetime.now(UTC)), "")
    db.commit()
    return see_other(f"/p/{project_id}/callbacks#callback-{callback_id}")


@router.post("/p/{project_id}/callbacks/{callback_id}/call-now")
def callback_call_now(
    db: DbSession, user: RequiredUser, project_id: ProjectId, callback_id: CallbackId
) -> Response:
    """Have the request rung back at the worker's next pass, whatever the hours."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    attempt(db, lambda: call_now(db, opened.project, callback_id, user.id, datetime.now(UTC)), "")
    db.commit()
    return see_other(f"/p/{project_id}/callbacks#callback-{callback_id}")
