"""Erasing one caller's data on request, and deleting calls with everything that hangs off them.

Given a phone number, `erase_caller` removes it from a project: the caller's calls with their
provider events, recordings (files and rows, transcripts with them), tags, scores and
comments; the leads and deals with that phone or from those calls; outbound deliveries about
them or whose payload holds the number; provider events and comments that mention it; and the
visitor (with every visit) that those calls and leads were attributed to, since a visit
linked to a phone number identifies the person. Report rollups stay: they are counts by day,
source and campaign and hold no number. There is no export queue (exports are built on
request and not stored), so nothing waits there.

Each request is logged in the audit log with who asked and what was removed, as counts, and
a salted hash of the number (never the number), so repeated requests can be matched.
Erasing again finds nothing and says so.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, String, Table, and_, delete, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164
from ringtrail.domain.privacy import phone_digest
from ringtrail.recordings.storage import RecordingStore
from ringtrail.services.audit import record
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import (
    Call,
    CallbackRequest,
    CallComment,
    CallEvent,
    Deal,
    Lead,
    OutboundDelivery,
    Project,
    Recording,
    Visit,
    Visitor,
)

log = logging.getLogger(__name__)

calls = cast(Table, Call.__table__)
callback_requests = cast(Table, CallbackRequest.__table__)
events = cast(Table, CallEvent.__table__)
comments = cast(Table, CallComment.__table__)
recordings = cast(Table, Recording.__table__)
leads = cast(Table, Lead.__table__)
deals = cast(Table, Deal.__table__)
deliveries = cast(Table, OutboundDelivery.__table__)
visits = cast(Table, Visit.__table__)
visitors = cast(Table, Visitor.__table__)


class StoreRefused(Exception):
    """Some recording files could not be deleted (the store is down); nothing was erased."""


def digest_salt(secret_key: str) -> bytes:
    """The salt of erasure digests, derived from the installation's secret key."""
    return hashlib.sha256(b"ringtrail caller erasure\0" + secret_key.encode()).digest()


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure removed from one project, per table (zero counts left out)."""

    project_id: int
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def nothing_left(self) -> bool:
        """True when there was nothing of the caller's to remove."""
        return not any(self.removed.values())


def normalise_caller(raw: str, project: Project) -> str:
    """The number in E.164, read in the project's default country; InvalidInput otherwise."""
    try:
        return to_e164(raw, project.default_country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput("phone", str(exc)) from None


def delete_recording_files(
    connection: Connection, store: RecordingStore, call_ids: Sequence[int]
) -> set[int]:
    """Delete the stored audio of the calls; returns the calls whose audio could not go."""
    kept: set[int] = set()
    rows = connection.execute(
        select(recordings.c.call_id, recordings.c.storage_key).where(
            recordings.c.call_id.in_(call_ids), recordings.c.storage_key.is_not(None)
        )
    ).all()
    for row in rows:
        try:
            store.delete(row.storage_key)
        except Exception:  # the store is down: keep the call, try again later
            log.exception("could not delete recording file %s", row.storage_key)
            kept.add(row.call_id)
    return kept


def delete_call_rows(connection: Connection, call_ids: Sequence[int]) -> dict[str, int]:
    """Delete calls and what hangs off them (their recordings' files must be gone already).

    Returns the number of rows deleted per table. Events, tags, scores and comments go by
    the foreign keys' cascade; leads the calls made and deliveries about them or those
    leads are deleted here (a lead made by a form keeps its row, unlinked).
    """
    if not call_ids:
        return {}
    lead_ids = (
        connection.execute(
            select(leads.c.id).where(leads.c.call_id.in_(call_ids), leads.c.kind == "call")
        )
        .scalars()
        .all()
    )
    counts: dict[str, int] = {}
    subjects = [and_(deliveries.c.subject_kind == "call", deliveries.c.subject_id.in_(call_ids))]
    if lead_ids:
        subjects.append(
            and_(deliveries.c.subject_kind == "lead", deliveries.c.subject_id.in_(lead_ids))
        )
    counts["outbound_deliveries"] = connection.execute(
        delete(deliveries).where(or_(*subjects))
    ).rowcount
    counts["recordings"] = connection.execute(
        delete(recordings).where(recordings.c.call_id.in_(call_ids))
    ).rowcount
    counts["calls"] = connection.execute(delete(calls).where(calls.c.id.in_(call_ids))).rowcount
    counts["leads"] = (
        connection.execute(delete(leads).where(leads.c.id.in_(lead_ids))).rowcount
        if lead_ids
        else 0
    )
    return counts


def _mentions(column: Any, digits: str) -> ColumnElement[bool]:
    """A text or JSON column holding the number's digits (in any of the forms it was sent)."""
    return sql_cast(column, String).contains(digits, autoescape=True)


def _count_rows(connection: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    """How many rows of `table` match: those the calls' and visitors' deletion cascades to."""
    query = select(func.count()).select_from(table).where(condition)
    return int(connection.execute(query).scalar_one())


def erase_caller(
    db: Session, store: RecordingStore, project: Project, phone: str, *, salt: bytes
) -> ErasureReport:
    """Remove `phone` from `project` everywhere, log the request, and say what went.

    StoreRefused (and nothing erased) when a recording file cannot be deleted: the request
    can be made again once the store answers.
    """
    number = normalise_caller(phone, project)
    digits = number.lstrip("+")
    connection = db.connection()
    call_ids = list(
        connection.execute(
            select(calls.c.id).where(
                calls.c.project_id == project.id,
                or_(
                    calls.c.caller_e164 == number,
                    # The callback widget's calls back to the caller (services.callback_calls).
                    and_(calls.c.direction == "outbound", calls.c.dialled_e164 == number),
                ),
            )
        ).scalars()
    )
    lead_rows = connection.execute(
        select(leads.c.id, leads.c.visitor_id).where(
            leads.c.project_id == project.id,
            or_(
                leads.c.phone_e164 == number,
                leads.c.call_id.in_(call_ids),
                _mentions(leads.c.payload, digits),
            ),
        )
    ).all()
    lead_ids = [row.id for row in lead_rows]
    visitor_ids = {row.visitor_id for row in lead_rows if row.visitor_id is not None}
    visitor_ids |= {
        visitor_id
        for visitor_id in connection.execute(
            select(calls.c.visitor_id).where(calls.c.id.in_(call_ids))
        ).scalars()
        if visitor_id is not None
    }
    if call_ids and delete_recording_files(connection, store, call_ids):
        raise StoreRefused("the recordings store did not delete every file; try again later")
    removed: dict[str, int] = {}

    def add(table: str, count: int | None) -> None:
        removed[table] = removed.get(table, 0) + max(count or 0, 0)

    subjects = [
        and_(deliveries.c.subject_kind == "call", deliveries.c.subject_id.in_(call_ids)),
        and_(deliveries.c.subject_kind == "lead", deliveries.c.subject_id.in_(lead_ids)),
        _mentions(deliveries.c.payload, digits),
    ]
    add(
        "outbound_deliveries",
        connection.execute(
            delete(deliveries).where(deliveries.c.project_id == project.id, or_(*subjects))
        ).rowcount,
    )
    add(
        "deals",
        connection.execute(
            delete(deals).where(
                deals.c.project_id == project.id,
                or_(
                    deals.c.phone_e164 == number,
                    deals.c.call_id.in_(call_ids),
                    deals.c.lead_id.in_(lead_ids),
                ),
            )
        ).rowcount,
    )
    if call_ids:
        add("call_events", _count_rows(connection, events, events.c.call_id.in_(call_ids)))
        add("recordings", _count_rows(connection, recordings, recordings.c.call_id.in_(call_ids)))
        add("call_comments", _count_rows(connection, comments, comments.c.call_id.in_(call_ids)))
    add(
        "call_events",
        connection.execute(
            delete(events).where(
                events.c.project_id == project.id,
                or_(events.c.call_id.is_(None), events.c.call_id.not_in(call_ids)),
                _mentions(events.c.payload, digits),
            )
        ).rowcount,
    )
    project_calls = select(calls.c.id).where(calls.c.project_id == project.id)
    add(
        "call_comments",
        connection.execute(
            delete(comments).where(
                comments.c.call_id.in_(project_calls),
                comments.c.call_id.not_in(call_ids),
                comments.c.body.contains(digits, autoescape=True),
            )
        ).rowcount,
    )
    add(
        "callback_requests",
        connection.execute(
            delete(callback_requests).where(
                callback_requests.c.project_id == project.id,
                or_(
                    callback_requests.c.phone_e164 == number,
                    callback_requests.c.lead_id.in_(lead_ids),
                ),
            )
        ).rowcount,
    )
    add("calls", connection.execute(delete(calls).where(calls.c.id.in_(call_ids))).rowcount)
    add("leads", connection.execute(delete(leads).where(leads.c.id.in_(lead_ids))).rowcount)
    if visitor_ids:
        add("visits", _count_rows(connection, visits, visits.c.visitor_id.in_(visitor_ids)))
        add(
            "visitors",
            connection.execute(delete(visitors).where(visitors.c.id.in_(visitor_ids))).rowcount,
        )
    add(
        "visits",
        connection.execute(
            delete(visits).where(
                visits.c.project_id == project.id,
                or_(
                    _mentions(visits.c.landing_url, digits),
                    _mentions(visits.c.referrer, digits),
                    _mentions(visits.c.extra, digits),
                ),
            )
        ).rowcount,
    )
    report = ErasureReport(project.id, {name: n for name, n in removed.items() if n})
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="privacy.erase",
        object_type="caller",
        changes={"removed": report.removed, "nothing_left": report.nothing_left},
        subject_digest=phone_digest(number, salt),
    )
    db.expire_all()  # rows deleted underneath the session must not be served from it
    return report


def erase_caller_in_organization(
    db: Session, store: RecordingStore, organization_id: int, phone: str, *, salt: bytes
) -> list[ErasureReport]:
    """`erase_caller` in every project of the organisation (each logged on its own)."""
    projects = db.scalars(
        select(Project).where(Project.organization_id == organization_id).order_by(Project.id)
    ).all()
    return [erase_caller(db, store, project, phone, salt=salt) for project in projects]
