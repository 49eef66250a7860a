"""Test helper: a project's calls for the conversion files, one of each case a file meets,
and its Google Ads and Yandex Metrica destinations set up for upload by file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.storage.models import Call, IntegrationDestination, Project
from tests.call_rows import add_call, add_visit

GCLID = "Cj0KCQiA-gclid-file"
YM_UID = "1628529640459314054"


@dataclass
class FileWorld:
    """The calls and destinations the file tests read, and the day they happened."""

    day: date
    google: IntegrationDestination
    yandex: IntegrationDestination
    webhook_like: IntegrationDestination | None
    calls: dict[str, Call]


def _call(db: Session, project: Project, at: datetime, visit_age: timedelta | None,
          **visit_ids: Any) -> Call:  # fmt: skip
    visit_id = None
    if visit_age is not None:
        visit = add_visit(db, project, **visit_ids)
        visit.started_at = at - visit_age
        visit.last_seen_at = at
        visit_id = visit.id
    return add_call(db, project, started_at=at, visit_id=visit_id)


def arrange(db: Session, project: Project, now: datetime | None = None) -> FileWorld:
    """Calls two days ago (noon, Kyiv): a gclid click, an iOS gbraid click, an organic visit,
    a missed gclid call, a 95-day-old click, a Metrica visitor, a yclid-only visitor; and one
    call a month earlier, outside the file's days."""
    now = now or datetime.now(UTC)
    at = (now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    minutes = timedelta(minutes=15)
    calls = {
        "gclid": _call(db, project, at, minutes, gclid=GCLID, source="google", medium="cpc"),
        "gbraid": _call(db, project, at + timedelta(minutes=1), minutes, gbraid="GB-ios-1"),
        "organic": _call(
            db,
            project,
            at + timedelta(minutes=2),
            minutes,
            source="google",
            medium="organic",
            ym_uid=YM_UID,
        ),
        "missed": _call(db, project, at + timedelta(minutes=3), minutes, gclid="Cj0-missed"),
        "old_click": _call(
            db, project, at + timedelta(minutes=4), timedelta(days=95), gclid="Cj0-old"
        ),
        "metrica": _call(db, project, at + timedelta(minutes=5), minutes, ym_uid=YM_UID),
        "yclid": _call(db, project, at + timedelta(minutes=6), minutes, yclid="5739201"),
        "earlier": _call(db, project, at - timedelta(days=30), minutes, gclid="Cj0-earlier"),
    }
    missed = calls["missed"]
    missed.status, missed.answered_at, missed.talk_seconds = "no_answer", None, 0
    google = create_destination(
        db,
        project,
        kind="google_ads",
        name="Google Ads by file",
        config={"upload": "file"},
        rules={"conversion_name": "Phone call", "value_mode": "fixed", "fixed_value": "150"},
    )
    yandex = create_destination(
        db, project, kind="yandex_metrica", name="Metrica by file", config={"upload": "file"}
    )
    db.commit()
    return FileWorld(at.date(), google, yandex, None, calls)
