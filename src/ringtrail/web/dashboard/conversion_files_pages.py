"""The import-file page of a Google Ads or Yandex Metrica destination: pick the days, see how
many conversions the file holds and why other calls are left out, and download it.

For accounts without API access: the same calls the API path would send, as Google's
click-conversion template or Metrica's calls CSV. The page only reads; marketers and up may
open it, like the destination's own page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query, Request, Response

from ringtrail.domain.roles import Permission
from ringtrail.services.conversion_files import (
    CSV_MEDIA_TYPE,
    FILE_KINDS,
    ConversionFile,
    build_conversion_file,
    default_days,
    parse_day,
)
from ringtrail.services.deliveries.destinations import get_destination
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import IntegrationDestination
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import MAX_ID, ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import N_, Refusal, render_settings
from ringtrail.web.deps import DbSession

router = dashboard_router()
DestinationId = Annotated[int, Path(ge=1, le=MAX_ID)]
FromText = Annotated[str, Query(alias="from", max_length=40)]
ToText = Annotated[str, Query(alias="to", max_length=40)]
BAD_RANGE = N_("These days cannot make a file.")
NO_FILE = N_("Only Google Ads and Yandex Metrica destinations have an import file.")
FILE_LABELS = {
    "google_ads": N_("Google Ads click conversions (import template)"),
    "yandex_metrica": N_("Yandex Metrica offline calls"),
}


def _destination(db: DbSession, opened: OpenProject, destination_id: int) -> IntegrationDestination:
    try:
        return get_destination(db, opened.project, destination_id)
    except NotFound as exc:
        raise PageNotFound() from exc


def _days(opened: OpenProject, start: str, end: str) -> tuple[str, str]:
    """The days asked for; a missing one is the default range's."""
    first, last = default_days(opened.project, datetime.now(UTC))
    return start or first.isoformat(), end or last.isoformat()


def _build(
    db: DbSession, opened: OpenProject, destination_id: int, start: str, end: str
) -> ConversionFile:
    try:
        return build_conversion_file(
            db,
            opened.project,
            destination_id,
            parse_day(start, "from"),
            parse_day(end, "to"),
            datetime.now(UTC),
        )
    except NotFound as exc:
        raise PageNotFound() from exc


def _path(project_id: int, destination_id: int) -> str:
    return f"/p/{project_id}/settings/integrations/{destination_id}/conversions"


def _render(
    request: Request,
    opened: OpenProject,
    row: IntegrationDestination,
    start: str,
    end: str,
    made: ConversionFile | None,
    refusal: Refusal | None,
) -> Response:
    return render_settings(
        request,
        opened,
        "conversion_files.html",
        {
            "settings_active": "integrations",
            "destination": row,
            "file_label": FILE_LABELS.get(row.kind, ""),
            "start": start,
            "end": end,
            "made": made,
            "page_path": _path(opened.project.id, row.id),
        },
        refusal,
    )


@router.get("/p/{project_id}/settings/integrations/{destination_id}/conversions")
def conversion_file_page(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
    start: FromText = "",
    end: ToText = "",
) -> Response:
    """The day range form; with days chosen, what the file holds and the download link."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    row = _destination(db, opened, destination_id)
    chosen = bool(start or end)
    start, end = _days(opened, start, end)
    if row.kind not in FILE_KINDS:
        return _render(request, opened, row, start, end, None, Refusal(NO_FILE, status_code=200))
    if not chosen:
        return _render(request, opened, row, start, end, None, None)
    try:
        made = _build(db, opened, destination_id, start, end)
    except InvalidInput as exc:
        return _render(request, opened, row, start, end, None, Refusal(BAD_RANGE, str(exc)))
    return _render(request, opened, row, start, end, made, None)


@router.get("/p/{project_id}/settings/integrations/{destination_id}/conversions.csv")
def download_conversion_file(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    destination_id: DestinationId,
    start: FromText = "",
    end: ToText = "",
) -> Response:
    """The import file of these days (the last week when none are given)."""
    opened = open_project(db, user, project_id, Permission.MANAGE_TRACKING)
    row = _destination(db, opened, destination_id)
    start, end = _days(opened, start, end)
    if row.kind not in FILE_KINDS:
        return _render(request, opened, row, start, end, None, Refusal(NO_FILE))
    try:
        made = _build(db, opened, destination_id, start, end)
    except InvalidInput as exc:
        return _render(request, opened, row, start, end, None, Refusal(BAD_RANGE, str(exc)))
    return Response(
        content=made.content.encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )
