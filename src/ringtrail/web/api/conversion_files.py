"""/api/v1/projects/{id}/integrations/{destination_id}/conversions: the import files.

`conversions.csv?from=&to=` is Google Ads' click-conversion import file or Yandex Metrica's
calls file for the calls of those days (the project's days, both included; the last week
when left out), for accounts
that upload by hand; `X-Ringtrail-Conversions` and `X-Ringtrail-Left-Out` count its rows and
the calls left out. `conversions/summary` says the same in JSON, with why each call was left
out, so an empty file is never a mystery.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from ringtrail.domain.roles import Permission
from ringtrail.services.conversion_files import (
    CSV_MEDIA_TYPE,
    ConversionFile,
    build_conversion_file,
    day_range,
)
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, ProjectId
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/integrations", tags=["integrations"])

FromDay = Query(
    None,
    alias="from",
    max_length=40,
    description="First day, YYYY-MM-DD, in the project's time zone (default: a week ago)",
)
ToDay = Query(None, alias="to", max_length=40, description="Last day, included (default: today)")


class LeftOutReason(BaseModel):
    reason: str
    calls: int


class ConversionFileSummary(BaseModel):
    """What the file of these days holds and why the other calls are not in it."""

    kind: str
    filename: str
    conversions: int
    calls_seen: int
    left_out: list[LeftOutReason]


def _file(
    db: DbSession,
    principal: Principal,
    project_id: int,
    destination_id: int,
    start: str | None,
    end: str | None,
) -> ConversionFile:
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    now = datetime.now(UTC)
    first, last = day_range(project, start, end, now)
    return build_conversion_file(db, project, destination_id, first, last, now)


@router.get("/{destination_id}/conversions.csv", response_class=Response)
def download_conversion_file(
    project_id: ProjectId,
    destination_id: ItemId,
    db: DbSession,
    principal: Principal,
    start: str | None = FromDay,
    end: str | None = ToDay,
) -> Response:
    """The import file (Google Ads click conversions or Yandex Metrica calls) of these days."""
    made = _file(db, principal, project_id, destination_id, start, end)
    return Response(
        content=made.content.encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Ringtrail-Conversions": str(made.rows),
            "X-Ringtrail-Left-Out": str(len(made.left_out)),
        },
    )


@router.get("/{destination_id}/conversions/summary", response_model=ConversionFileSummary)
def conversion_file_summary(
    project_id: ProjectId,
    destination_id: ItemId,
    db: DbSession,
    principal: Principal,
    start: str | None = FromDay,
    end: str | None = ToDay,
) -> ConversionFileSummary:
    """How many conversions the file of these days holds, and why other calls are left out."""
    made = _file(db, principal, project_id, destination_id, start, end)
    return ConversionFileSummary(
        kind=made.kind,
        filename=made.filename,
        conversions=made.rows,
        calls_seen=made.calls_seen,
        left_out=[LeftOutReason(reason=words, calls=count) for words, count in made.reasons()],
    )
