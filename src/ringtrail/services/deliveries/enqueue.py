"""Queues deliveries when something happens to a call or lead: one row per destination and
event, inserted idempotently (the unique key ignores a repeat), in the caller's transaction.

Which events a destination gets depends on the families it wants (`events` on its module):
- "conversion": `conversion` (sequence 0) when a call ends or a form/callback lead arrives;
  whether it counts is decided at send time by the rule, so a call marked target later is
  sent then. When the call changes afterwards: a skipped conversion whose reason may change
  (not target yet, a missing tag, no value) is opened again; an accepted one gets
  `conversion.update.N` or `conversion.restatement.N` (sequence N) when the rule resends
  changes and the destination can take them.
- "call": `call.started` (0), `call.ended` (1), `call.updated.N` (1+N) for CRMs, in order.
- "lead": `lead.created` (0).
A change while an update of the same subject is still pending adds nothing: the pending one
reads the newest facts when it is sent.

Queueing must never lose the caller's own write: it runs in a savepoint, and a failure is
logged and swallowed (the caller's data is kept; that event is not delivered).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringtrail.domain.conversion_rules import (
    CONVERSION_EVENT,
    REOPENABLE,
    ConversionRule,
    may_resend,
    parse_rule,
)
from ringtrail.integrations.base import OnChange
from ringtrail.integrations.registry import destination
from ringtrail.services.deliveries.destinations import destination_events
from ringtrail.storage.models import Call, IntegrationDestination, Lead, OutboundDelivery

log = logging.getLogger(__name__)

CallEventName = Literal["started", "ended", "updated"]
table = cast(Table, OutboundDelivery.__table__)
destinations_table = cast(Table, IntegrationDestination.__table__)
_KEY = ["destination", "subject_kind", "subject_id", "event_name"]
_INSERT = {
    name: dialect.insert(table).on_conflict_do_nothing(index_elements=_KEY)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


@dataclass(frozen=True)
class _Target:
    id: int
    project_id: int
    events: frozenset[str]
    rule: ConversionRule
    on_change: OnChange


@dataclass(frozen=True)
class CallNote:
    """Something that happened to a call: it started, ended or changed."""

    call_id: int
    project_id: int
    event: CallEventName


@dataclass(frozen=True)
class LeadNote:
    """A lead that was created (`kind`: call, form, callback)."""

    lead_id: int
    project_id: int
    kind: str


def _targets(connection: Connection, project_ids: Iterable[int]) -> dict[int, list[_Target]]:
    ids = sorted(set(project_ids))
    out: dict[int, list[_Target]] = {}
    if not ids:
        return out
    rows = connection.execute(
        select(
            destinations_table.c.id,
            destinations_table.c.project_id,
            destinations_table.c.kind,
            destinations_table.c.rules,
        )
        .where(destinations_table.c.project_id.in_(ids), destinations_table.c.enabled.is_(True))
        .order_by(destinations_table.c.id)
    )
    for row in rows:
        try:
            found = destination(row.kind)
            rule = parse_rule(row.rules)
        except Exception as exc:  # one broken destination must not stop the others
            log.warning("destination %s (%s) cannot be used: %s", row.id, row.kind, exc)
            continue
        out.setdefault(row.project_id, []).append(
            _Target(row.id, row.project_id, destination_events(found), rule, found.on_change)
        )
    return out


def _row(
    target: _Target, kind: str, subject_id: int, event: str, seq: int, now: datetime
) -> dict[str, Any]:
    return {
        "project_id": target.project_id,
        "destination": str(target.id),
        "destination_id": target.id,
        "subject_kind": kind,
        "subject_id": subject_id,
        "event_name": event,
        "sequence": seq,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "payload": {},
        "response": {},
        "created_at": now,
    }


def _existing(
    connection: Connection, kind: str, subject_ids: Sequence[int], destination_ids: Sequence[int]
) -> dict[tuple[int, int], list[Any]]:
    out: dict[tuple[int, int], list[Any]] = {}
    if not subject_ids or not destination_ids:
        return out
    rows = connection.execute(
        select(
            table.c.id,
            table.c.destination_id,
            table.c.subject_id,
            table.c.event_name,
            table.c.status,
            table.c.reason_code,
        ).where(
            # The unique key's columns, in its order: its index finds them.
            table.c.destination.in_(sorted({str(i) for i in destination_ids})),
            table.c.subject_kind == kind,
            table.c.subject_id.in_(sorted(set(subject_ids))),
        )
    )
    for row in rows:
        out.setdefault((row.destination_id, row.subject_id), []).append(row)
    return out


def _next_change(rows: Sequence[Any], prefix: str) -> int | None:
    """N for the next `prefix`N event, or None while one is still pending."""
    taken = [row for row in rows if row.event_name.startswith(prefix)]
    if any(row.status == "pending" for row in taken):
        return None
    numbers = [int(row.event_name[len(prefix) :]) for row in taken]
    return max(numbers, default=0) + 1


def _queue_calls(connection: Connection, notes: Sequence[CallNote], now: datetime) -> int:
    targets = _targets(connection, (note.project_id for note in notes))
    if not targets:
        return 0
    call_ids = [note.call_id for note in notes]
    destination_ids = [t.id for group in targets.values() for t in group]
    existing = _existing(connection, "call", call_ids, destination_ids)
    rows: list[dict[str, Any]] = []
    reopen: list[int] = []
    for note in notes:
        for target in targets.get(note.project_id, []):
            earlier = existing.get((target.id, note.call_id), [])
            names = {row.event_name for row in earlier}
            if "call" in target.events:
                if note.event in ("started", "ended") and "call.started" not in names:
                    rows.append(_row(target, "call", note.call_id, "call.started", 0, now))
                if note.event == "ended":
                    rows.append(_row(target, "call", note.call_id, "call.ended", 1, now))
                elif note.event == "updated" and "call.ended" in names:
                    number = _next_change(earlier, "call.updated.")
                    if number is not None:
                        event = f"call.updated.{number}"
                        rows.append(_row(target, "call", note.call_id, event, 1 + number, now))
            if "conversion" not in target.events or not target.rule.count_calls:
                continue
            if note.event == "ended":
                rows.append(_row(target, "call", note.call_id, CONVERSION_EVENT, 0, now))
                continue
            if note.event != "updated":
                continue
            first = next((row for row in earlier if row.event_name == CONVERSION_EVENT), None)
            if first is None:
                continue
            if first.status == "skipped" and first.reason_code in REOPENABLE:
                reopen.append(first.id)
            elif first.status in ("accepted", "sending") and may_resend(
                target.rule, target.on_change
            ):
                prefix = f"conversion.{target.on_change}."
                number = _next_change(earlier, prefix)
                if number is not None:
                    rows.append(
                        _row(target, "call", note.call_id, f"{prefix}{number}", number, now)
                    )
    return _write(connection, rows, reopen, now)


def _queue_leads(connection: Connection, notes: Sequence[LeadNote], now: datetime) -> int:
    targets = _targets(connection, (note.project_id for note in notes))
    rows: list[dict[str, Any]] = []
    for note in notes:
        for target in targets.get(note.project_id, []):
            if "lead" in target.events:
                rows.append(_row(target, "lead", note.lead_id, "lead.created", 0, now))
            if (
                "conversion" in target.events
                and target.rule.count_leads
                and note.kind in target.rule.lead_kinds
            ):
                rows.append(_row(target, "lead", note.lead_id, CONVERSION_EVENT, 0, now))
    return _write(connection, rows, [], now)


def _write(
    connection: Connection, rows: list[dict[str, Any]], reopen: list[int], now: datetime
) -> int:
    if rows:
        connection.execute(_INSERT[connection.dialect.name], rows)
    if reopen:
        connection.execute(
            update(table)
            .where(table.c.id.in_(reopen), table.c.status == "skipped")
            .values(status="pending", next_attempt_at=now, reason_code=None, reason=None)
        )
    return len(rows) + len(reopen)


def note_calls(connection: Connection, notes: Sequence[CallNote], now: datetime) -> int:
    """Queue what `notes` call for, in a savepoint of the caller's transaction; the number of
    rows inserted or reopened (0, logged, when queueing failed)."""
    if not notes:
        return 0
    try:
        with connection.begin_nested():
            return _queue_calls(connection, notes, now)
    except Exception:
        log.exception("deliveries for %d call event(s) could not be queued", len(notes))
        return 0


def note_leads(connection: Connection, notes: Sequence[LeadNote], now: datetime) -> int:
    """Queue `lead.created` and lead conversions for new leads (see `note_calls`)."""
    if not notes:
        return 0
    try:
        with connection.begin_nested():
            return _queue_leads(connection, notes, now)
    except Exception:
        log.exception("deliveries for %d lead(s) could not be queued", len(notes))
        return 0


def note_call_event(db: Session, call: Call, event: CallEventName, now: datetime) -> int:
    """Queue the deliveries one call's `event` calls for (a hook for services)."""
    if call.project_id is None or call.id is None:
        return 0
    db.flush()
    return note_calls(db.connection(), [CallNote(call.id, call.project_id, event)], now)


def note_call_changed(db: Session, call: Call, now: datetime) -> int:
    """The call changed after it ended (a target mark, tags, a deal value, a recording)."""
    return note_call_event(db, call, "updated", now)


def note_lead_created(db: Session, lead: Lead, now: datetime) -> int:
    """Queue the deliveries a new lead calls for (a hook for services.leads)."""
    db.flush()
    return note_leads(db.connection(), [LeadNote(lead.id, lead.project_id, lead.kind)], now)
