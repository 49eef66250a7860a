"""Costs and deals pages: ad cost CSV upload, deals CSV import, attribution model.

`/p/{id}/money` shows the last 30 days of costs by source and campaign, the latest deals and
three forms. A successful upload or change is answered 303 back to the page with what it did
in the query (`?done=costs&rows=12&replaced=3`); a refused one renders the page again with
the reason (status 400) and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import File, Form, Request, Response, UploadFile
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.money import AttributionModel
from ringtrail.domain.reports.periods import Period
from ringtrail.domain.roles import Permission
from ringtrail.services.errors import ServiceError
from ringtrail.services.money.costs import import_costs, parse_costs_csv
from ringtrail.services.money.deals import list_deals, parse_deals_csv, upsert_deals
from ringtrail.services.money.tables import MAX_UPLOAD_BYTES, decode_upload
from ringtrail.services.projects import update_project
from ringtrail.services.reports.model import N_
from ringtrail.storage.models import AdCost, Deal, Project, User
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

router = dashboard_router()
RECENT_DAYS = 30
RECENT_DEALS = 20
MODEL_LABELS: dict[str, str] = {
    AttributionModel.LAST_NON_DIRECT: N_("Last non-direct touch (default)"),
    AttributionModel.FIRST: N_("First touch"),
    AttributionModel.LAST: N_("Last touch"),
    AttributionModel.LINEAR: N_("Linear: equal shares to every touch"),
}
NOTICES: dict[str, str] = {
    "costs": N_("The costs were imported: %(rows)s rows; %(replaced)s earlier days replaced."),
    "deals": N_(
        "The deals were imported: %(created)s new, %(updated)s updated, %(unlinked)s unlinked."
    ),
    "model": N_("The attribution model was changed; every report now uses it."),
}
NO_FILE = N_("Choose a CSV file to upload.")
TOO_LARGE = N_("The file is too large.")
NOT_IMPORTED = N_("The file was not imported and nothing was changed:")
BAD_MODEL = N_("Choose one of the attribution models.")


def _today(project: Project) -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo(project.timezone))


def _costs_summary(db: Session, project: Project) -> tuple[Period, list[dict[str, Any]]]:
    today = _today(project).date()
    period = Period(today - timedelta(days=RECENT_DAYS - 1), today)
    query = (
        select(
            AdCost.source,
            AdCost.campaign,
            func.sum(AdCost.cost).label("cost"),
            func.sum(AdCost.clicks).label("clicks"),
            func.count(func.distinct(AdCost.day)).label("days"),
        )
        .where(
            AdCost.project_id == project.id,
            AdCost.day >= period.start,
            AdCost.day <= period.end,
        )
        .group_by(AdCost.source, AdCost.campaign)
        .order_by(func.sum(AdCost.cost).desc(), AdCost.source, AdCost.campaign)
    )
    rows = [
        {
            "source": row.source,
            "campaign": row.campaign,
            "cost": Decimal(row.cost or 0),
            "clicks": row.clicks,
            "days": row.days,
        }
        for row in db.execute(query)
    ]
    return period, rows


def _deal_counts(db: Session, project: Project) -> dict[str, int]:
    counts: Counter[str] = Counter()
    query = (
        select(Deal.status, func.count()).where(Deal.project_id == project.id).group_by(Deal.status)
    )
    for status, count in db.execute(query):
        counts[status] = count
    return dict(counts)


def _notice(request: Request) -> tuple[str, dict[str, str]] | None:
    params = request.query_params
    message = NOTICES.get(params.get("done", ""))
    if message is None:
        return None
    values = {
        name: params.get(name, "0")
        for name in ("rows", "replaced", "created", "updated", "unlinked")
    }
    return message, {name: value if value.isdigit() else "0" for name, value in values.items()}


def _render(
    request: Request,
    db: Session,
    opened: OpenProject,
    refusal: tuple[str, str] | None = None,
) -> Response:
    project = opened.project
    period, costs = _costs_summary(db, project)
    return dashboard_of(request).templates.render(
        request,
        "money.html",
        {
            **opened.page_context(),
            "period": period,
            "costs": costs,
            "costs_total": sum((row["cost"] for row in costs), Decimal(0)),
            "deal_counts": _deal_counts(db, project),
            "deals": list_deals(db, project, limit=RECENT_DEALS),
            "models": MODEL_LABELS,
            "current_model": project.attribution_model,
            "notice": _notice(request) if refusal is None else None,
            "refusal": refusal,
            "max_upload_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
        },
        status_code=400 if refusal else 200,
    )


def _back(project_id: int, done: str, **counts: int) -> Response:
    query = urlencode({"done": done, **{name: str(value) for name, value in counts.items()}})
    return see_other(f"/p/{project_id}/money?{query}")


@router.get("/p/{project_id}/money")
def money_page(
    project_id: ProjectId, request: Request, db: DbSession, user: RequiredUser
) -> Response:
    """Costs of the last 30 days, the latest deals, the upload forms and the model."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MONEY)
    return _render(request, db, opened)


def _read_upload(upload: UploadFile | None) -> str | None:
    """The uploaded file's text; None when no file was chosen."""
    if upload is None or not upload.filename:
        return None
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        return None
    return decode_upload(data)


def _upload(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    upload: UploadFile | None,
    apply: Callable[[Project, str], Response],
) -> Response:
    opened = open_project(db, user, project_id, Permission.MANAGE_MONEY)
    if upload is not None and upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        return _render(request, db, opened, (TOO_LARGE, ""))
    try:
        text = _read_upload(upload)
        if text is None:
            return _render(request, db, opened, (NO_FILE, ""))
        return apply(opened.project, text)
    except ServiceError as exc:
        db.rollback()
        return _render(request, db, opened, (NOT_IMPORTED, str(exc)))


Upload = Annotated[UploadFile | None, File()]


@router.post("/p/{project_id}/money/costs")
def upload_costs(
    project_id: ProjectId,
    request: Request,
    db: DbSession,
    user: RequiredUser,
    file: Upload = None,
) -> Response:
    """Import a costs CSV; each (day, source) in it replaces that day's earlier rows."""

    def apply(project: Project, text: str) -> Response:
        result = import_costs(db, project, parse_costs_csv(text))
        return _back(project.id, "costs", rows=result.rows, replaced=result.days_replaced)

    return _upload(request, db, user, project_id, file, apply)


@router.post("/p/{project_id}/money/deals")
def upload_deals(
    project_id: ProjectId,
    request: Request,
    db: DbSession,
    user: RequiredUser,
    file: Upload = None,
) -> Response:
    """Import a deals CSV: deals are created or updated by deal id and linked."""

    def apply(project: Project, text: str) -> Response:
        result = upsert_deals(db, project, parse_deals_csv(text))
        return _back(
            project.id,
            "deals",
            created=result.created,
            updated=result.updated,
            unlinked=len(result.unlinked),
        )

    return _upload(request, db, user, project_id, file, apply)


@router.post("/p/{project_id}/money/model")
def change_model(
    project_id: ProjectId,
    request: Request,
    db: DbSession,
    user: RequiredUser,
    attribution_model: Annotated[str, Form()] = "",
) -> Response:
    """Switch the project's attribution model; reports compute with it from now on."""
    opened = open_project(db, user, project_id, Permission.MANAGE_MONEY)
    if attribution_model not in MODEL_LABELS:
        return _render(request, db, opened, (BAD_MODEL, ""))
    update_project(db, opened.project, {"attribution_model": attribution_model})
    return _back(project_id, "model")
