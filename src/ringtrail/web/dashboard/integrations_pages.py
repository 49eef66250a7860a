"""Settings → Integrations (where conversions go, and each destination's rule) and the delivery
log (what was sent, the answer, and why not, with totals per destination and day).

Marketers and up see the integrations; only admins and owners (MANAGE_PROJECT, as in the API)
add, change, test, validate or remove a destination, set its rule, or replay a delivery: the
settings hold the ad accounts' secrets, which are never shown again (a blank secret on an
edit keeps the stored one). Every member may read the delivery log (payloads are masked).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain import conversion_rules as rules
from ringtrail.domain.roles import Permission
from ringtrail.integrations.registry import UnknownDestination, destination
from ringtrail.services.deliveries.destinations import (
    available_kinds,
    consent_mode,
    create_destination,
    delete_destination,
    get_destination,
    kind_info,
    list_destinations,
    rule_of,
    set_consent_mode,
    shown_config,
    update_destination,
)
from ringtrail.services.deliveries.log import (
    STATUSES,
    DeliveryEntry,
    daily_totals,
    deliveries_of,
    list_deliveries,
)
from ringtrail.services.deliveries.replay import replay_delivery
from ringtrail.services.delivery_views import day_start, recent_counts, zone_of
from ringtrail.services.errors import NotFound
from ringtrail.services.integration_checks import CheckOutcome, can_validate, check_destination
from ringtrail.services.integration_fields import KindField, kind_fields, parse_form_value
from ringtrail.storage.models import IntegrationDestination, Project, User
from ringtrail.web.api.fields import MAX_ID
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.redirects import see_other
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
SECTION = "integrations"
LOG_SECTION = "deliveries"
DestinationId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50
TOTAL_DAYS = 14
MAX_FORM_VALUE = 5000
NOTICES.update(
    {
        "destination_added": N_("The destination was added."),
        "destination_saved": N_("The destination was saved."),
        "destination_removed": N_("The destination and its delivery log were removed."),
        "rule_saved_conversions": N_("The conversion rule was saved."),
        "consent_saved": N_("The consent setting was saved."),
        "delivery_replayed": N_("The delivery was queued again; the log shows its new answer."),
    }
)
REFUSED = N_("The destination could not be saved.")
RULE_REFUSED = N_("The conversion rule could not be saved.")
CHECK_REFUSED = N_("The check could not be run.")
STATUS_LABELS = {
    "pending": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "skipped": N_("not sent"),
    "dead": N_("failed: gave up retrying"),
    "retry": N_("could not be reached: would be retried"),
}
# Reasons the conversion rules give, in words a marketer reads; a destination's own reasons
# (a click too old, no click id...) are shown as the destination wrote them.
REASON_LABELS = {
    rules.CALLS_NOT_COUNTED: N_("The rule does not count calls"),
    rules.LEADS_NOT_COUNTED: N_("The rule does not count form leads"),
    rules.LEAD_KIND_NOT_COUNTED: N_("The rule does not count this kind of lead"),
    rules.NOT_ANSWERED: N_("The call was not answered"),
    rules.TALK_TOO_SHORT: N_("The talk was shorter than the rule asks"),
    rules.NOT_FIRST_TIME: N_("A repeat caller: the rule counts first-time callers only"),
    rules.NOT_TARGET_YET: N_("Not marked target yet: sent when it is"),
    rules.MARKED_NOT_TARGET: N_("Marked not target"),
    rules.MISSING_TAG: N_("The call lacks the tag the rule asks for"),
    rules.NO_VALUE: N_("No value yet: sent when the call gets one"),
    rules.CONSENT_NOT_GIVEN: N_("Consent not given: the visitor did not allow ad storage"),
    rules.UNCHANGED: N_("Nothing changed that this destination takes: already sent"),
    rules.CHANGES_NOT_SENT: N_("The rule does not send changes after the first send"),
}
VALUE_MODES = {
    "none": N_("No value"),
    "fixed": N_("A fixed value"),
    "deal": N_("The call's deal value"),
    "tags": N_("A value per tag"),
}
CONSENT_MODES = {
    "ignore": N_("Send every counted call"),
    "require": N_("Send only calls whose visitor allowed ad storage"),
}
ON_CHANGE = {
    "update": N_("sends an update"),
    "restatement": N_("sends a restatement"),
    "nothing": N_("takes no changes"),
}


def _kind_label(kind: str) -> str:
    try:
        return destination(kind).label
    except (UnknownDestination, ImportError):
        return kind


def _validates(kind: str) -> bool:
    try:
        return can_validate(destination(kind))
    except (UnknownDestination, ImportError):
        return False


def _fields(kind: str) -> list[KindField]:
    info = kind_info(kind)
    return kind_fields(info.config_model, info.secret_fields)


def _destination_view(row: IntegrationDestination, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "label": _kind_label(row.kind),
        "enabled": row.enabled,
        "counts": counts,
        "total": sum(counts.values()),
        "can_validate": _validates(row.kind),
    }


def _page(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    *,
    kind: str = "",
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    project = opened.project
    since = datetime.now(UTC) - timedelta(hours=24)
    counts = recent_counts(db, project.id, since)
    destinations = [
        _destination_view(row, counts.get(row.id, {})) for row in list_destinations(db, project)
    ]
    kinds = [(info.kind, info.label) for info in available_kinds()]
    chosen = kind if kind in dict(kinds) else ""
    return render_settings(
        request,
        opened,
        "integrations.html",
        {
            "settings_active": SECTION,
            "destinations": destinations,
            "kinds": kinds,
            "kind": chosen,
            "kind_label": dict(kinds).get(chosen, ""),
            "fields": _fields(chosen) if chosen else [],
            "values": form or {},
            "consent_mode": consent_mode(project),
            "consent_modes": CONSENT_MODES,
            "status_labels": STATUS_LABELS,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/integrations")
def integrations_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    kind: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The project's destinations with the last day's deliveries, and the form to add one."""
    return _page(request, db, user, project_id, kind=kind)


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields, each cut to a sane length."""
    posted = await request.form()
    return {key: value[:MAX_FORM_VALUE] for key, value in posted.items() if isinstance(value, str)}


def _config_from(form: dict[str, str], fields: list[KindField]) -> dict[str, Any]:
    """The settings the form gives: `cfg_<name>` per field; empty optional ones left out."""
    config: dict[str, Any] = {}
    for field in fields:
        value = parse_form_value(field, form.get(f"cfg_{field.name}", ""))
        if value is not None:
            config[field.name] = value
    return config


@router.post("/p/{project_id}/settings/integrations")
async def add_destination(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Add a destination of the chosen kind with the settings given."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = await _form(request)
    kind = form.get("kind", "")

    def run() -> None:
        if kind not in {info.kind for info in available_kinds()}:
            raise FormProblem(N_("Choose a kind of destination from the list."))
        create_destination(
            db,
            opened.project,
            kind=kind,
            name=form.get("name", ""),
            config=_config_from(form, _fields(kind)),
            enabled=bool(form.get("enabled")),
        )

    refusal = attempt(db, run, REFUSED)
    if refusal is not None:
        secret = _secrets(kind)
        shown = {
            key.removeprefix("cfg_"): value
            for key, value in form.items()
            if key.startswith("cfg_") and key.removeprefix("cfg_") not in secret
        }
        shown["name"] = form.get("name", "")
        return _page(request, db, user, project_id, kind=kind, refusal=refusal, form=shown)
    return done(project_id, SECTION, "destination_added")


@router.post("/p/{project_id}/settings/integrations/consent")
async def save_consent(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Whether ad platforms get every counted call, or only those with consent."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = await _form(request)

    def run() -> None:
        mode = form.get("consent_mode", "")
        if mode not in CONSENT_MODES:
            raise FormProblem(N_("Choose how consent is handled from the list."))
        set_consent_mode(db, opened.project, mode)

    refusal = attempt(db, run, N_("The consent setting could not be saved."))
    if refusal is not None:
        return _page(request, db, user, project_id, refusal=refusal)
    return done(project_id, SECTION, "consent_saved")


def _secrets(kind: str) -> frozenset[str]:
    try:
        return kind_info(kind).secret_fields
    except NotFound:
        return frozenset()


def _rule_form(row: IntegrationDestination) -> dict[str, Any]:
    rule = rule_of(row)
    return {
        "count_calls": rule.count_calls,
        "answered_only": rule.answered_only,
        "min_talk_seconds": rule.min_talk_seconds,
        "target_only": rule.target_only,
        "first_time_only": rule.first_time_only,
        "required_tags": ", ".join(rule.required_tags),
        "count_leads": rule.count_leads,
        "lead_kinds": list(rule.lead_kinds),
        "leads_target_only": rule.leads_target_only,
        "conversion_name": rule.conversion_name,
        "lead_conversion_name": rule.lead_conversion_name,
        "value_mode": rule.value_mode,
        "fixed_value": "" if rule.fixed_value is None else str(rule.fixed_value),
        "tag_values": "\n".join(f"{tag}={value}" for tag, value in rule.tag_values.items()),
        "fallback_value": "" if rule.fallback_value is None else str(rule.fallback_value),
        "resend_on_change": rule.resend_on_change,
    }


def _destination_page(
    request: Request,
    db: Session,
    opened: OpenProject,
    destination_id: int,
    *,
    refusal: Refusal | None = None,
    check: CheckOutcome | None = None,
    check_kind: str = "",
) -> Response:
    try:
        row = get_destination(db, opened.project, destination_id)
    except NotFound as exc:
        raise PageNotFound() from exc
    try:
        fields = _fields(row.kind)
        missing = False
    except NotFound:
        fields, missing = [], True
    shown = shown_config(row)
    since = datetime.now(UTC) - timedelta(hours=24)
    on_change = "nothing"
    if not missing:
        on_change = kind_info(row.kind).on_change
    return render_settings(
        request,
        opened,
        "integrations_destination.html",
        {
            "settings_active": SECTION,
            "destination": _destination_view(
                row, recent_counts(db, opened.project.id, since).get(row.id, {})
            ),
            "kind_missing": missing,
            "fields": fields,
            "values": {name: "" if value is None else value for name, value in shown.items()},
            "secrets_set": {
                name for name, value in shown.items() if name in _secrets(row.kind) and value
            },
            "rule": _rule_form(row),
            "value_modes": VALUE_MODES,
            "on_change": ON_CHANGE.get(on_change, on_change),
            "check": check,
            "check_kind": check_kind,
            "status_labels": STATUS_LABELS,
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/integrations/{destination_id}")
def destination_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """One destination: its settings, its conversion rule, and the test and validate buttons."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    return _destination_page(request, db, opened, destination_id)


def _destination_path(project_id: int, destination_id: int) -> str:
    return f"/p/{project_id}/settings/integrations/{destination_id}"


@router.post("/p/{project_id}/settings/integrations/{destination_id}")
async def save_destination(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """Save the name, the on/off switch and the settings (blank secrets keep the stored)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = await _form(request)

    def run() -> None:
        row = get_destination(db, opened.project, destination_id)
        update_destination(
            db,
            opened.project,
            destination_id,
            name=form.get("name", ""),
            enabled=bool(form.get("enabled")),
            config=_config_from(form, _fields(row.kind)),
        )

    refusal = attempt(db, run, REFUSED)
    if refusal is not None:
        return _destination_page(request, db, opened, destination_id, refusal=refusal)
    return see_other(_destination_path(project_id, destination_id) + "?done=destination_saved")


def _tag_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.replace(",", "\n").splitlines():
        if not line.strip():
            continue
        tag, sep, value = line.partition("=")
        if not sep or not tag.strip():
            raise FormProblem(N_("Write each tag's value as tag=value, one per line."))
        values[tag.strip()] = value.strip()
    return values


def _rule_from(form: dict[str, str]) -> dict[str, Any]:
    talk = form.get("min_talk_seconds", "").strip() or "0"
    if not talk.isdigit():
        raise FormProblem(N_("The minimum talk time is a whole number of seconds."))
    return {
        "count_calls": bool(form.get("count_calls")),
        "answered_only": bool(form.get("answered_only")),
        "min_talk_seconds": int(talk),
        "target_only": bool(form.get("target_only")),
        "first_time_only": bool(form.get("first_time_only")),
        "required_tags": form.get("required_tags", ""),
        "count_leads": bool(form.get("count_leads")),
        "lead_kinds": [k for k in ("form", "callback") if form.get(f"lead_kind_{k}")],
        "leads_target_only": bool(form.get("leads_target_only")),
        "conversion_name": form.get("conversion_name", ""),
        "lead_conversion_name": form.get("lead_conversion_name", ""),
        "value_mode": form.get("value_mode", "none"),
        "fixed_value": form.get("fixed_value", "").strip() or None,
        "tag_values": _tag_values(form.get("tag_values", "")),
        "fallback_value": form.get("fallback_value", "").strip() or None,
        "resend_on_change": bool(form.get("resend_on_change")),
    }


@router.post("/p/{project_id}/settings/integrations/{destination_id}/rule")
async def save_rule(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """Replace the destination's conversion rule."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    form = await _form(request)
    refusal = attempt(
        db,
        lambda: update_destination(db, opened.project, destination_id, rules=_rule_from(form)),
        RULE_REFUSED,
    )
    if refusal is not None:
        return _destination_page(request, db, opened, destination_id, refusal=refusal)
    return see_other(
        _destination_path(project_id, destination_id) + "?done=rule_saved_conversions#rule"
    )


def _run_check(
    request: Request, db: Session, opened: OpenProject, destination_id: int, validate: bool
) -> Response:
    found: list[CheckOutcome] = []

    def run() -> None:
        row = get_destination(db, opened.project, destination_id)
        found.append(check_destination(opened.project, row, datetime.now(UTC), validate=validate))

    refusal = attempt(db, run, CHECK_REFUSED)
    return _destination_page(
        request,
        db,
        opened,
        destination_id,
        refusal=refusal,
        check=found[0] if found else None,
        check_kind="validate" if validate else "test",
    )


@router.post("/p/{project_id}/settings/integrations/{destination_id}/test")
def test_destination(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """Send a sample conversion of a fake call now and show what the destination answered."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    return _run_check(request, db, opened, destination_id, validate=False)


@router.post("/p/{project_id}/settings/integrations/{destination_id}/validate")
def validate_destination(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """Check the sample with the destination's validation service, where it has one."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    return _run_check(request, db, opened, destination_id, validate=True)


@router.post("/p/{project_id}/settings/integrations/{destination_id}/remove")
def remove_destination(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
) -> Response:
    """Remove the destination and its delivery log."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    refusal = attempt(db, lambda: delete_destination(db, opened.project, destination_id), REFUSED)
    if refusal is not None:
        return _destination_page(request, db, opened, destination_id, refusal=refusal)
    return done(project_id, SECTION, "destination_removed")


def delivery_rows(entries: list[DeliveryEntry], project: Project) -> list[dict[str, Any]]:
    """Deliveries as the log's rows show them (the call page's section too)."""
    rows = []
    for entry in entries:
        rows.append(
            {
                "id": entry.id,
                "at": local_time(entry.created_at, project.timezone),
                "last_attempt": local_time(entry.last_attempt_at, project.timezone),
                "next_attempt": local_time(entry.next_attempt_at, project.timezone),
                "destination": entry.destination_name,
                "destination_id": entry.destination_id,
                "subject_kind": entry.subject_kind,
                "subject_id": entry.subject_id,
                "event": entry.event_name,
                "status": entry.status,
                "status_label": STATUS_LABELS.get(entry.status, entry.status),
                "reason_label": REASON_LABELS.get(entry.reason_code or ""),
                "reason": entry.reason or entry.error or "",
                "attempts": entry.attempts,
                "status_code": entry.status_code,
                "payload": entry.payload,
                "response": entry.response,
                "replayable": entry.status in ("rejected", "dead", "skipped"),
            }
        )
    return rows


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/p/{project_id}/settings/deliveries")
def deliveries_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: Annotated[str, Query(max_length=10)] = "",
    call_id: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The delivery log: totals per destination and day, then each delivery, newest first."""
    opened = open_project(db, user, project_id)
    wanted = {"destination_id": destination_id, "status": status, "from": from_, "to": to}
    return _log_page(request, db, opened, {**wanted, "call_id": call_id}, before)


def _log_page(
    request: Request,
    db: Session,
    opened: OpenProject,
    wanted: dict[str, str],
    before: int | None = None,
    refusal: Refusal | None = None,
) -> Response:
    project = opened.project
    destination_id, status, call_id = wanted["destination_id"], wanted["status"], wanted["call_id"]
    from_, to = wanted["from"], wanted["to"]
    destinations = list_destinations(db, project)
    chosen = int(destination_id) if destination_id.isdigit() else None
    if chosen not in {row.id for row in destinations}:
        chosen = None
    first, last = _day(from_), _day(to)
    today = datetime.now(UTC).astimezone(zone_of(project.timezone)).date()
    total_last = last or today
    total_first = first or total_last - timedelta(days=TOTAL_DAYS - 1)
    if total_first > total_last or (total_last - total_first).days >= 366:
        total_first, total_last = today - timedelta(days=TOTAL_DAYS - 1), today
    call = int(call_id) if call_id.isdigit() and int(call_id) <= MAX_ID else None
    page = list_deliveries(
        db,
        project,
        status=status if status in STATUSES else None,
        destination_id=chosen,
        subject_kind="call" if call is not None else None,
        subject_id=call,
        since=day_start(first, project.timezone) if first else None,
        until=day_start(last + timedelta(days=1), project.timezone) if last else None,
        before=before,
        limit=PAGE,
    )
    totals = daily_totals(
        db, project, first_day=total_first, last_day=total_last, destination_id=chosen
    )
    query = {
        "destination_id": str(chosen or ""),
        "status": status if status in STATUSES else "",
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
        "call_id": str(call or ""),
    }
    return render_settings(
        request,
        opened,
        "integrations_deliveries.html",
        {
            "settings_active": LOG_SECTION,
            "destinations": [(row.id, row.name) for row in destinations],
            "rows": delivery_rows(page.items, project),
            "next_before": page.next_before,
            "totals": totals,
            "total_first": total_first.isoformat(),
            "total_last": total_last.isoformat(),
            "statuses": STATUSES,
            "status_labels": STATUS_LABELS,
            "query": query,
            "next_query": "&".join(f"{k}={v}" for k, v in query.items() if v),
            "can_replay": opened.may(Permission.MANAGE_PROJECT),
        },
        refusal,
    )


@router.post("/p/{project_id}/settings/deliveries/{delivery_id}/replay")
def replay(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    delivery_id: DeliveryId,
) -> Response:
    """Queue a rejected, dead or skipped delivery again (admins and owners)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_PROJECT)
    refusal = attempt(
        db,
        lambda: replay_delivery(db, opened.project, delivery_id, datetime.now(UTC)),
        N_("The delivery could not be queued again."),
    )
    if refusal is not None:
        empty = dict.fromkeys(("destination_id", "status", "from", "to", "call_id"), "")
        return _log_page(request, db, opened, empty, refusal=refusal)
    return done(project_id, LOG_SECTION, "delivery_replayed")


def call_delivery_rows(db: Session, project: Project, call_id: int) -> list[dict[str, Any]]:
    """One call's deliveries for the call page's "Deliveries" section."""
    return delivery_rows(deliveries_of(db, project, "call", call_id), project)
