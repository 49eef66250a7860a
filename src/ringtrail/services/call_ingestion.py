"""Call ingestion: normalised call events in, one attributed call per provider call out.

A batch of events passes named steps in one transaction:
1. `lock_calls`: find or create the call row of every provider call in the batch (unique per
   provider and provider call id) and lock it, so two batches touching one call apply one
   after the other; rows are taken in key order, which keeps two batches from deadlocking;
2. `store_events`: insert into `call_events` the events whose `dedupe_key` is new (a
   redelivery ends here, changing nothing);
3. `rebuild_timelines`: fold every event of each call, in any order, into times, durations
   and status (`domain.calls`);
4. `attribute`: on a call's first events (and again if its start moves), find the project
   and tracking number, rank the holds of that number (`domain.attribution`), classify the
   caller (first-time, unique, repeat), link or open the lead, copy the attribution snapshot;
5. `schedule_recordings`: a recording-ready event queues the audio for the fetch job;
   then `settle_callbacks` (services/callbacks.py) settles the callbacks an answered call
   makes unnecessary, or that a later answered call already made unnecessary;
6. `mark_report_days`: the local days of the changed calls (and of leads opened) are marked
   stale for the report rollups, in one statement (services/reports/rollups.py).
Each step reads and writes the whole batch with a few statements, not a few per call. An
event for a number nobody tracks is stored on an unattributed call, never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.attribution import (
    Attribution,
    AttributionKind,
    AttributionPolicy,
    CallerStanding,
    DialledNumber,
    EarlierCall,
    HoldRecord,
    NumberKind,
    SourceLabel,
    attribute_call,
    caller_standing,
)
from ringtrail.domain.callbacks import CallFacts
from ringtrail.domain.calls import (
    CallEvent,
    CallEventKind,
    CallOutcome,
    CallTimeline,
    fold_events,
)
from ringtrail.domain.phones import caller_geography, dialled_to_e164
from ringtrail.domain.pools import resolve_timings
from ringtrail.domain.reports.periods import local_day
from ringtrail.leases.history import write_transaction
from ringtrail.services.callbacks import WrittenCall, settle_callbacks
from ringtrail.services.deliveries.enqueue import (
    CallEventName,
    CallNote,
    LeadNote,
    note_calls,
    note_leads,
)
from ringtrail.services.leads import link_call_leads
from ringtrail.services.quality_rules import apply_to_ended_calls
from ringtrail.services.reports.rollups import mark_days
from ringtrail.services.sip_trunks import source_of, trunk_projects
from ringtrail.storage.models import (
    Call,
    Lead,
    NumberLease,
    Pool,
    Project,
    Recording,
    SourceRule,
    TrackingNumber,
    Visit,
)
from ringtrail.storage.models import (
    CallEvent as CallEventRow,
)
from ringtrail.storage.models.base import utcnow

calls = cast(Table, Call.__table__)
events_table = cast(Table, CallEventRow.__table__)
leases = cast(Table, NumberLease.__table__)
recordings = cast(Table, Recording.__table__)
leads = cast(Table, Lead.__table__)
HOLD_LIMIT = 20
HISTORY_LIMIT = 50

# Built once with bind parameters: building and cache-keying a statement per call costs more
# than running it. No bind parameter is named like a column.
_INSERT_CALLS = {
    name: dialect.insert(calls)
    .on_conflict_do_nothing(index_elements=["provider", "provider_call_id"])
    .returning(calls.c.provider, calls.c.provider_call_id, calls.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CALLS_BY_KEY = (
    select(calls)
    .where(
        tuple_(calls.c.provider, calls.c.provider_call_id).in_(bindparam("p_keys", expanding=True))
    )
    .order_by(calls.c.id)
    .with_for_update()
)
_INSERT_EVENTS = {
    name: dialect.insert(events_table)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(events_table.c.dedupe_key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_EVENTS_OF_CALLS = select(
    events_table.c.call_id, events_table.c.dedupe_key, events_table.c.payload
).where(events_table.c.call_id.in_(bindparam("p_calls", expanding=True)))
_UPDATE_CALL = update(calls).where(calls.c.id == bindparam("p_call"))
_EVENTS_TO_PROJECT = (
    update(events_table)
    .where(events_table.c.call_id == bindparam("p_call"))
    .values(project_id=bindparam("p_project"))
)
_NUMBERS = select(
    TrackingNumber.id,
    TrackingNumber.e164,
    TrackingNumber.project_id,
    TrackingNumber.kind,
    TrackingNumber.pool_id,
    TrackingNumber.is_pool_default,
    TrackingNumber.source,
    TrackingNumber.medium,
    TrackingNumber.campaign,
).where(TrackingNumber.e164.in_(bindparam("p_numbers", expanding=True)))
_recent_holds = (
    select(
        leases,
        Visit.geo_country,
        Visit.geo_region,
        Visit.geo_city,
        func.row_number()
        .over(partition_by=leases.c.number_id, order_by=leases.c.leased_at.desc())
        .label("rank"),
    )
    .outerjoin(Visit, Visit.id == leases.c.visit_id)
    .where(
        leases.c.number_id.in_(bindparam("p_numbers", expanding=True)),
        leases.c.leased_at <= bindparam("p_latest_start"),
        leases.c.hold_until >= bindparam("p_earliest_end"),
    )
    .subquery()
)
_HOLDS = select(_recent_holds).where(_recent_holds.c.rank <= bindparam("p_per_number"))
_KNOWN_HOLDS = (
    select(leases, Visit.geo_country, Visit.geo_region, Visit.geo_city)
    .outerjoin(Visit, Visit.id == leases.c.visit_id)
    .where(
        leases.c.number_id == bindparam("p_number"),
        leases.c.visitor_id.in_(bindparam("p_visitors", expanding=True)),
        leases.c.leased_at <= bindparam("p_latest_start"),
        leases.c.hold_until >= bindparam("p_earliest_end"),
    )
)
"""The holds of one number by the caller's known visitors (from their earlier calls): on a
busy number they may be older than the HOLD_LIMIT most recent holds read for every call."""
_caller_calls = (
    select(
        calls.c.id,
        calls.c.caller_e164,
        calls.c.started_at,
        calls.c.visitor_id,
        calls.c.lead_id,
        func.min(calls.c.id).over(partition_by=calls.c.caller_e164).label("first_id"),
        func.row_number()
        .over(
            partition_by=calls.c.caller_e164,
            order_by=(calls.c.started_at.desc(), calls.c.id.desc()),
        )
        .label("rank"),
    )
    .where(
        calls.c.project_id == bindparam("p_project"),
        calls.c.caller_e164.in_(bindparam("p_callers", expanding=True)),
    )
    .subquery()
)
_CALLER_HISTORY = select(_caller_calls).where(_caller_calls.c.rank <= HISTORY_LIMIT)
_INSERT_LEADS = insert(leads).returning(leads.c.id, sort_by_parameter_order=True)
_INSERT_RECORDING = insert(recordings)
_RECORDINGS_OF_CALLS = select(recordings.c.call_id, recordings.c.provider_url).where(
    recordings.c.call_id.in_(bindparam("p_calls", expanding=True))
)


@dataclass(frozen=True)
class IngestResult:
    """What became of one event: the call it belongs to, and whether it was a redelivery."""

    call_id: int | None
    project_id: int | None
    duplicate: bool


@dataclass
class _ProjectInfo:
    id: int
    default_country: str
    unique_window: timedelta
    retention_days: int | None
    grace_minutes: int
    cooldown_minutes: int
    zone: ZoneInfo


@dataclass
class _CallWork:
    """One provider call of the batch while it passes the steps."""

    key: tuple[str, str]
    group: list[CallEvent]
    row: dict[str, Any]
    created: bool
    stored: list[CallEvent] = field(default_factory=list)
    timeline: CallTimeline | None = None
    values: dict[str, Any] = field(default_factory=dict)
    project: _ProjectInfo | None = None
    dialled: str = ""
    caller: str | None = None
    number_row: Any = None
    new_lead: dict[str, Any] | None = None
    lead_from: _CallWork | None = None


@dataclass
class _Batch:
    """Lookups shared by the calls of one batch."""

    projects: dict[int, _ProjectInfo | None] = field(default_factory=dict)
    policies: dict[int | None, AttributionPolicy] = field(default_factory=dict)


def event_to_json(event: CallEvent) -> dict[str, Any]:
    """The normalised event as stored in `call_events.payload["event"]`."""
    return {
        "kind": event.kind.value,
        "occurred_at": event.occurred_at.isoformat(),
        "dialled": event.dialled,
        "caller": event.caller,
        "forwarded_to": event.forwarded_to,
        "outcome": event.outcome.value if event.outcome else None,
        "total_seconds": event.total_seconds,
        "talk_seconds": event.talk_seconds,
        "recording_url": event.recording_url,
        "recording_duration": event.recording_duration,
        "leg": event.leg,
    }


def event_from_row(provider: str, call_id: str, key: str, payload: Mapping[str, Any]) -> CallEvent:
    """The CallEvent a stored row holds."""
    data = payload["event"]
    return CallEvent(
        provider=provider,
        provider_call_id=call_id,
        kind=CallEventKind(data["kind"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        dedupe_key=key,
        dialled=data.get("dialled"),
        caller=data.get("caller"),
        forwarded_to=data.get("forwarded_to"),
        outcome=CallOutcome(data["outcome"]) if data.get("outcome") else None,
        total_seconds=data.get("total_seconds"),
        talk_seconds=data.get("talk_seconds"),
        recording_url=data.get("recording_url"),
        recording_duration=data.get("recording_duration"),
        leg=data.get("leg"),
    )


def _trunk_source(item: _CallWork) -> str | None:
    """The SIP trunk address any event of this call carries (services.sip_trunks)."""
    return next(filter(None, (source_of(event.payload) for event in item.group)), None)


def _ended_call_ids(work: Sequence[_CallWork]) -> list[int]:
    """The calls this batch ended: the quality rules run on them (services/quality_rules.py)."""
    return [
        item.row["id"]
        for item in work
        if item.values.get("ended_at") is not None and item.row.get("ended_at") is None
    ]


def _written_calls(work: Sequence[_CallWork]) -> list[WrittenCall]:
    """The changed calls of a project, as the callback rule sees them once written."""
    written = []
    for item in work:
        project_id = item.values.get("project_id", item.row["project_id"])
        if project_id is None:
            continue
        facts = CallFacts(
            call_id=item.row["id"],
            started_at=item.values["started_at"],
            direction=item.row["direction"],
            status=item.values["status"],
            caller=item.values.get("caller_e164", item.row.get("caller_e164")),
            dialled=item.values.get("dialled_e164", item.row["dialled_e164"]),
        )
        written.append(WrittenCall(project_id, facts, item.values["needs_callback"]))
    return written


def _call_key(event: CallEvent) -> tuple[str, str]:
    return event.provider, event.provider_call_id[:200]


class CallIngestion:
    """Stores events, rebuilds their calls, attributes them. One transaction per batch.

    `project_id` is given when the webhook already proves the project (a signed webhook
    URL); then only that project's numbers are matched. Otherwise the project is the one
    owning the dialled number. Database errors propagate (the web layer answers 503 so the
    provider retries); nothing is half-written because the whole batch is one transaction.
    """

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.engine = cast(Engine, sessions.kw["bind"])
        self.clock = clock

    def ingest(self, event: CallEvent, *, project_id: int | None = None) -> IngestResult:
        """Ingest one event."""
        return self.ingest_many([event], project_id=project_id)[0]

    def ingest_many(
        self, events: Sequence[CallEvent], *, project_id: int | None = None
    ) -> list[IngestResult]:
        """Ingest events in one transaction; results match `events` one for one.

        Events of one call are applied together (the call is rebuilt once per batch); calls
        are attributed in the order their first event appears.
        """
        if not events:
            return []
        groups: dict[tuple[str, str], list[CallEvent]] = {}
        for event in events:
            groups.setdefault(_call_key(event), []).append(event)
        now = self.clock()
        batch = _Batch()
        with write_transaction(self.engine) as connection:
            work = self.lock_calls(connection, groups, project_id, now)
            self.store_events(connection, work, now)
            changed = [w for w in work if w.stored]
            self.rebuild_timelines(connection, changed)
            self.attribute(connection, batch, changed, project_id)
            self.write_calls(connection, changed, project_id, now)
            settle_callbacks(connection, _written_calls(changed))
            self.schedule_recordings(connection, batch, changed, now)
            self.mark_report_days(connection, batch, changed, now)
            self.queue_deliveries(connection, changed, now)
            apply_to_ended_calls(connection, _ended_call_ids(changed), now)
        by_key = {w.key: w for w in work}
        results = []
        for event in events:
            item = by_key[_call_key(event)]
            fresh = any(event is stored for stored in item.stored)
            project = item.values.get("project_id", item.row["project_id"])
            results.append(IngestResult(item.row["id"], project, not fresh))
        return results

    # -- steps -------------------------------------------------------------------------------

    def lock_calls(
        self,
        connection: Connection,
        groups: Mapping[tuple[str, str], list[CallEvent]],
        project_id: int | None,
        now: datetime,
    ) -> list[_CallWork]:
        """Every call of the batch, created or locked, in the order of its first event.

        New calls are inserted first (most batches start calls); a key another transaction
        holds makes the insert wait, and the row is then read and locked with the others.
        """
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for key in sorted(groups):
            first = groups[key][0]
            rows[key] = {
                "project_id": project_id,
                "provider": key[0],
                "provider_call_id": key[1],
                "direction": "inbound",
                "dialled_e164": (first.dialled or "")[:20],
                "started_at": first.occurred_at,
                "status": "in_progress",
                "needs_callback": False,
                "attribution_kind": AttributionKind.PENDING.value,
                "attribution_reason": "",
                "confidence": 0.0,
                "candidates": [],
                "snapshot": {},
                "created_at": now,
                "lead_id": None,
            }
        inserted = connection.execute(
            _INSERT_CALLS[connection.dialect.name], list(rows.values())
        ).all()
        created = {(r.provider, r.provider_call_id): r.id for r in inserted}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        others = [key for key in rows if key not in created]
        if others:
            for row in connection.execute(_CALLS_BY_KEY, {"p_keys": others}).mappings():
                found[(row["provider"], row["provider_call_id"])] = dict(row)
        work = []
        for key, group in groups.items():
            if key in created:
                work.append(_CallWork(key, group, {**rows[key], "id": created[key]}, True))
            else:
                work.append(_CallWork(key, group, found[key], False))
        return work

    def store_events(
        self, connection: Connection, work: Sequence[_CallWork], now: datetime
    ) -> None:
        """Insert the events not stored yet; each call keeps its new ones in `stored`."""
        unique: dict[str, tuple[_CallWork, CallEvent]] = {}
        for item in work:
            for event in item.group:
                unique.setdefault(event.dedupe_key[:255], (item, event))
        rows = [
            {
                "project_id": item.row["project_id"],
                "call_id": item.row["id"],
                "provider": event.provider,
                "dedupe_key": key,
                "event_type": event.kind.value,
                "occurred_at": event.occurred_at,
                "received_at": now,
                "payload": {
                    "call_id": event.provider_call_id,
                    "event": event_to_json(event),
                    "raw": dict(event.payload),
                },
            }
            for key, (item, event) in unique.items()
        ]
        statement = _INSERT_EVENTS[connection.dialect.name]
        inserted = set(connection.execute(statement, rows).scalars())
        for key, (item, event) in unique.items():
            if key in inserted:
                item.stored.append(event)

    def rebuild_timelines(self, connection: Connection, work: Sequence[_CallWork]) -> None:
        """Fold every stored event of each call (a new call has only this batch's)."""
        older = [item for item in work if not item.created]
        stored: dict[int, list[CallEvent]] = defaultdict(list)
        if older:
            by_id = {item.row["id"]: item for item in older}
            rows = connection.execute(_EVENTS_OF_CALLS, {"p_calls": list(by_id)})
            for call_id, key, payload in rows:
                row = by_id[call_id].row
                stored[call_id].append(
                    event_from_row(row["provider"], row["provider_call_id"], key, payload)
                )
        for item in work:
            item.timeline = fold_events(stored.get(item.row["id"]) or item.group)
            timeline = item.timeline
            item.values = {
                "started_at": timeline.started_at,
                "answered_at": timeline.answered_at,
                "ended_at": timeline.ended_at,
                "duration_seconds": timeline.total_seconds,
                "talk_seconds": timeline.talk_seconds,
                "status": timeline.status.value,
                # A callback once settled stays settled, whatever events come later.
                "needs_callback": timeline.needs_callback and item.row.get("callback_at") is None,
            }
            if timeline.forwarded_to:
                item.values["forwarded_to"] = timeline.forwarded_to[:20]

    def attribute(
        self,
        connection: Connection,
        batch: _Batch,
        work: Sequence[_CallWork],
        project_id: int | None,
    ) -> None:
        """Project, number, attribution, caller standing, lead and geography of new calls."""
        due = [
            item
            for item in work
            if item.created
            or item.row["attribution_kind"] == AttributionKind.PENDING
            or item.row["started_at"] != cast(CallTimeline, item.timeline).started_at
        ]
        if not due:
            return
        self._find_numbers(connection, batch, due, project_id)
        holds = self._find_holds(connection, batch, due)
        histories = self._find_histories(connection, due)
        for item in due:
            timeline = cast(CallTimeline, item.timeline)
            project = item.project
            number = self._dialled_number(connection, item.dialled, item.number_row)
            policy = batch.policies.get(number.pool_id, AttributionPolicy())
            standing = self._standing(item, histories)
            candidates = self._holds_of_call(holds.get(number.number_id or 0, []), timeline, policy)
            if number.kind is NumberKind.POOL and standing.known_visitors:
                candidates = self._with_known_holds(
                    connection, number, standing.known_visitors, candidates, timeline, policy
                )
            attribution = attribute_call(
                number,
                timeline.started_at,
                candidates,
                policy=policy,
                known_visitors=standing.known_visitors,
            )
            values = self._attribution_values(attribution)
            caller = item.caller
            caller_country, caller_region = caller_geography(caller) if caller else (None, None)
            visitor_id = values.pop("visitor_id") or standing.previous_visitor_id
            values |= {
                "project_id": project.id if project else None,
                "tracking_number_id": number.number_id,
                "dialled_e164": item.dialled[:20],
                "caller_e164": caller,
                "caller_country": caller_country,
                "caller_region": caller_region,
                "is_first_time": standing.first_time if caller else None,
                "is_unique": standing.unique if caller else None,
                "first_call_id": standing.first_call_id,
                "visitor_id": visitor_id,
            }
            if project is not None and item.row["lead_id"] is None:
                earlier_in_batch = self._batch_lead(item, histories)
                if standing.previous_lead_id is not None:
                    values["lead_id"] = standing.previous_lead_id
                elif earlier_in_batch is not None:
                    item.lead_from = earlier_in_batch
                else:
                    item.new_lead = {
                        "project_id": project.id,
                        "kind": "call",
                        "call_id": item.row["id"],
                        "visitor_id": visitor_id,
                        "visit_id": values.get("visit_id"),
                        "phone_e164": caller,
                        "source": values.get("source"),
                        "medium": values.get("medium"),
                        "campaign": values.get("campaign"),
                        "status": "new",
                        "payload": {},
                    }
            item.values |= values
            if caller and project is not None:
                histories.setdefault((project.id, caller), []).append(
                    _HistoryEntry(item.row["id"], timeline.started_at, visitor_id, None, item, None)
                )

    def write_calls(
        self,
        connection: Connection,
        work: Sequence[_CallWork],
        project_id: int | None,
        now: datetime,
    ) -> None:
        """New leads, then every changed call, then the project of events that learnt it."""
        opening = [item for item in work if item.new_lead is not None]
        if opening:
            rows = [{**cast(dict[str, Any], item.new_lead), "created_at": now} for item in opening]
            ids = connection.execute(_INSERT_LEADS, rows).scalars().all()
            for item, lead_id in zip(opening, ids, strict=True):
                item.values["lead_id"] = lead_id
            link_call_leads(connection, [_opened_lead(item, now) for item in opening])
        for item in work:
            if item.lead_from is not None:
                item.values["lead_id"] = item.lead_from.values.get(
                    "lead_id", item.lead_from.row["lead_id"]
                )
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for item in work:
            shapes[tuple(sorted(item.values))].append({"p_call": item.row["id"], **item.values})
        for params in shapes.values():
            connection.execute(_UPDATE_CALL, params)
        moved = [
            {"p_call": item.row["id"], "p_project": item.values["project_id"]}
            for item in work
            if "project_id" in item.values and item.values["project_id"] != project_id
        ]
        if moved:
            connection.execute(_EVENTS_TO_PROJECT, moved)

    def queue_deliveries(
        self, connection: Connection, work: Sequence[_CallWork], now: datetime
    ) -> None:
        """Conversions and CRM events for calls that started, ended or changed, and for the
        leads they opened (services.deliveries.enqueue; a failure there loses no call)."""
        calls: list[CallNote] = []
        leads: list[LeadNote] = []
        for item in work:
            project_id = item.values.get("project_id", item.row["project_id"])
            if project_id is None:
                continue
            ended = item.values.get("ended_at") is not None and item.row.get("ended_at") is None
            event: CallEventName = "ended" if ended else "started" if item.created else "updated"
            calls.append(CallNote(item.row["id"], project_id, event))
            if item.new_lead is not None and item.values.get("lead_id") is not None:
                leads.append(LeadNote(item.values["lead_id"], project_id, "call"))
        note_leads(connection, leads, now)
        note_calls(connection, calls, now)

    def schedule_recordings(
        self,
        connection: Connection,
        batch: _Batch,
        work: Sequence[_CallWork],
        now: datetime,
    ) -> None:
        """Queue the audio of recording-ready events for the fetch job, once per URL; it is
        kept for the project's retention period from the call's start."""
        wanted = [
            (item, event)
            for item in work
            for event in item.stored
            if event.kind is CallEventKind.RECORDING_READY and event.recording_url
        ]
        if not wanted:
            return
        older = list({item.row["id"] for item, _ in wanted if not item.created})
        known: set[tuple[int, str]] = set()
        if older:
            known = {
                (row.call_id, row.provider_url)
                for row in connection.execute(_RECORDINGS_OF_CALLS, {"p_calls": older})
            }
        rows = []
        for item, event in wanted:
            url = cast(str, event.recording_url)
            if (item.row["id"], url) in known:
                continue
            known.add((item.row["id"], url))
            project_id = item.values.get("project_id", item.row["project_id"])
            project = self._project(connection, batch, project_id)
            days = project.retention_days if project else 365
            started_at = cast(CallTimeline, item.timeline).started_at
            rows.append(
                {
                    "call_id": item.row["id"],
                    "provider_url": url,
                    "status": "pending",
                    "duration_seconds": event.recording_duration,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "delete_after": None if days is None else started_at + timedelta(days=days),
                    "created_at": now,
                }
            )
        if rows:
            connection.execute(_INSERT_RECORDING, rows)

    def mark_report_days(
        self,
        connection: Connection,
        batch: _Batch,
        work: Sequence[_CallWork],
        now: datetime,
    ) -> None:
        """Mark stale the local days the batch changed: each call's day, its old day if its
        start or project moved, and today for the leads opened (they are dated `now`).

        Last step, so the marks' row locks are held only until the commit.
        """
        instants: set[tuple[int, datetime]] = set()
        for item in work:
            project_id = item.values.get("project_id", item.row["project_id"])
            if project_id is not None:
                instants.add((project_id, item.values["started_at"]))
                if item.new_lead is not None:
                    instants.add((project_id, now))
            old_project, old_start = item.row["project_id"], item.row["started_at"]
            if not item.created and old_project is not None:
                instants.add((old_project, old_start))
        days = set()
        for project_id, moment in instants:
            project = self._project(connection, batch, project_id)
            if project is not None:
                days.add((project_id, local_day(moment, project.zone)))
        mark_days(connection, days)

    # -- lookups -----------------------------------------------------------------------------

    def _project(
        self, connection: Connection, batch: _Batch, project_id: int | None
    ) -> _ProjectInfo | None:
        if project_id is None:
            return None
        if project_id not in batch.projects:
            row = connection.execute(
                select(
                    Project.id,
                    Project.default_country,
                    Project.unique_call_window_days,
                    Project.recording_retention_days,
                    Project.grace_minutes,
                    Project.cooldown_minutes,
                    Project.timezone,
                ).where(Project.id == project_id)
            ).first()
            batch.projects[project_id] = (
                _ProjectInfo(
                    row.id,
                    row.default_country,
                    timedelta(days=row.unique_call_window_days),
                    row.recording_retention_days,
                    row.grace_minutes,
                    row.cooldown_minutes,
                    ZoneInfo(row.timezone),
                )
                if row
                else None
            )
        return batch.projects[project_id]

    def _find_numbers(
        self,
        connection: Connection,
        batch: _Batch,
        due: Sequence[_CallWork],
        project_id: int | None,
    ) -> None:
        """The project, dialled number (E.164) and tracking number row of each call."""
        for item in due:
            item.project = self._project(connection, batch, project_id or item.row["project_id"])
            raw = cast(CallTimeline, item.timeline).dialled or item.row["dialled_e164"] or ""
            country = item.project.default_country if item.project else None
            item.dialled = dialled_to_e164(raw, country) or raw[:20]
        wanted = list({item.dialled for item in due if item.dialled})
        numbers: dict[str, Any] = {}
        if wanted:
            numbers = {row.e164: row for row in connection.execute(_NUMBERS, {"p_numbers": wanted})}
        sources = {item.key: _trunk_source(item) for item in due if item.project is None}
        trunks = trunk_projects(connection, [s for s in sources.values() if s])
        for item in due:
            row = numbers.get(item.dialled)
            if row is not None and item.project is not None and row.project_id != item.project.id:
                row = None
            item.number_row = row
            if item.project is None and row is not None:
                item.project = self._project(connection, batch, row.project_id)
            elif item.project is None and sources.get(item.key) in trunks:
                # A number nobody tracks, through a project's own SIP trunk: that project's.
                claimed = trunks[cast(str, sources[item.key])]
                item.project = self._project(connection, batch, claimed)
            country = item.project.default_country if item.project else None
            timeline = cast(CallTimeline, item.timeline)
            item.caller = dialled_to_e164(timeline.caller, country) if timeline.caller else None

    def _find_holds(
        self, connection: Connection, batch: _Batch, due: Sequence[_CallWork]
    ) -> dict[int, list[HoldRecord]]:
        """The recent holds of every pool number the batch's calls dialled."""
        pooled = [
            item
            for item in due
            if item.number_row is not None
            and item.project is not None
            and item.number_row.kind != "static"
            and not item.number_row.is_pool_default
        ]
        if not pooled:
            return {}
        for item in pooled:
            pool_id = item.number_row.pool_id
            if pool_id not in batch.policies:
                batch.policies[pool_id] = self._policy(
                    connection, cast(_ProjectInfo, item.project), pool_id
                )
        starts = [cast(CallTimeline, item.timeline).started_at for item in pooled]
        policies = [batch.policies[item.number_row.pool_id] for item in pooled]
        latest = max(starts) + max(p.clock_skew for p in policies)
        earliest = min(starts) - max(p.lookback + p.cooldown for p in policies)
        rows = connection.execute(
            _HOLDS,
            {
                "p_numbers": list({item.number_row.id for item in pooled}),
                "p_latest_start": latest,
                "p_earliest_end": earliest,
                "p_per_number": HOLD_LIMIT * 4,
            },
        ).mappings()
        holds: dict[int, list[HoldRecord]] = defaultdict(list)
        for row in rows:
            holds[row["number_id"]].append(_hold_record(row))
        return holds

    def _with_known_holds(
        self,
        connection: Connection,
        number: DialledNumber,
        known_visitors: Sequence[int],
        holds: list[HoldRecord],
        timeline: CallTimeline,
        policy: AttributionPolicy,
    ) -> list[HoldRecord]:
        """`holds` plus the number's holds by the caller's known visitors in the call's window,
        so a repeat caller's first session counts however many holds came after it."""
        rows = connection.execute(
            _KNOWN_HOLDS,
            {
                "p_number": number.number_id,
                "p_visitors": list(known_visitors),
                "p_latest_start": timeline.started_at + policy.clock_skew,
                "p_earliest_end": timeline.started_at - policy.lookback - policy.cooldown,
            },
        ).mappings()
        seen = {hold.lease_id for hold in holds}
        extra = [_hold_record(row) for row in rows if row["id"] not in seen]
        return holds + self._holds_of_call(extra, timeline, policy)

    def _holds_of_call(
        self, holds: Iterable[HoldRecord], timeline: CallTimeline, policy: AttributionPolicy
    ) -> list[HoldRecord]:
        """The holds that may have made this call: started by then, not ended too long ago."""
        latest = timeline.started_at + policy.clock_skew
        earliest = timeline.started_at - policy.lookback - policy.cooldown
        fitting = [h for h in holds if h.leased_at <= latest and h.ended_at >= earliest]
        fitting.sort(key=lambda h: h.leased_at, reverse=True)
        return fitting[:HOLD_LIMIT]

    def _find_histories(
        self, connection: Connection, due: Sequence[_CallWork]
    ) -> dict[tuple[int, str], list[_HistoryEntry]]:
        """The latest calls of every caller of the batch, per project and caller."""
        callers: dict[int, set[str]] = defaultdict(set)
        for item in due:
            if item.project is not None and item.caller:
                callers[item.project.id].add(item.caller)
        histories: dict[tuple[int, str], list[_HistoryEntry]] = {}
        ids = {item.row["id"] for item in due}
        for project, numbers in callers.items():
            rows = connection.execute(
                _CALLER_HISTORY, {"p_project": project, "p_callers": list(numbers)}
            )
            for row in rows:
                if row.id in ids:
                    continue  # its history is being rewritten in this batch
                histories.setdefault((project, row.caller_e164), []).append(
                    _HistoryEntry(
                        row.id, row.started_at, row.visitor_id, row.lead_id, None, row.first_id
                    )
                )
        return histories

    def _standing(
        self, item: _CallWork, histories: Mapping[tuple[int, str], list[_HistoryEntry]]
    ) -> CallerStanding:
        started_at = cast(CallTimeline, item.timeline).started_at
        if item.project is None or item.caller is None:
            return caller_standing([], started_at, timedelta(days=30))
        entries = [
            entry
            for entry in histories.get((item.project.id, item.caller), [])
            if (entry.started_at, entry.call_id) < (started_at, item.row["id"])
        ]
        earlier = [EarlierCall(e.call_id, e.started_at, e.visitor_id, e.lead_id) for e in entries]
        standing = caller_standing(earlier, started_at, item.project.unique_window)
        firsts = [e.first_id for e in entries if e.first_id is not None]
        if firsts and standing.first_call_id != min(firsts):
            # The caller has more calls than the history read; the first is older still.
            standing = replace(standing, first_call_id=min(firsts))
        return standing

    def _batch_lead(
        self, item: _CallWork, histories: Mapping[tuple[int, str], list[_HistoryEntry]]
    ) -> _CallWork | None:
        """An earlier call of this batch, by the same caller inside the unique window, whose
        lead this call joins (its lead is written with the batch)."""
        if item.project is None or item.caller is None:
            return None
        started_at = cast(CallTimeline, item.timeline).started_at
        entries = [
            e
            for e in histories.get((item.project.id, item.caller), [])
            if e.work is not None and (e.started_at, e.call_id) < (started_at, item.row["id"])
        ]
        if not entries:
            return None
        latest = max(entries, key=lambda e: (e.started_at, e.call_id))
        if started_at - latest.started_at > item.project.unique_window:
            return None
        return latest.work

    def _dialled_number(self, connection: Connection, e164: str, row: Any) -> DialledNumber:
        if row is None:
            return DialledNumber(NumberKind.UNKNOWN, e164)
        label = SourceLabel(row.source, row.medium, row.campaign) if row.source else None
        if row.kind == "static":
            return DialledNumber(NumberKind.STATIC, e164, row.id, None, label)
        if row.is_pool_default:
            label = label or self._pool_label(connection, row.pool_id)
            return DialledNumber(NumberKind.POOL_DEFAULT, e164, row.id, row.pool_id, label)
        return DialledNumber(NumberKind.POOL, e164, row.id, row.pool_id, label)

    def _pool_label(self, connection: Connection, pool_id: int | None) -> SourceLabel | None:
        """The one source the pool's active rules give, if they agree on one."""
        if pool_id is None:
            return None
        rows = connection.execute(
            select(SourceRule.source, SourceRule.medium, SourceRule.campaign)
            .where(SourceRule.pool_id == pool_id, SourceRule.is_active.is_(True))
            .distinct()
        ).all()
        sources = {row.source for row in rows}
        if len(sources) != 1 or None in sources:
            return None
        first = rows[0]
        if len(rows) == 1:
            return SourceLabel(first.source, first.medium, first.campaign)
        return SourceLabel(first.source)

    def _policy(
        self, connection: Connection, project: _ProjectInfo, pool_id: int | None
    ) -> AttributionPolicy:
        pool = connection.execute(
            select(Pool.grace_minutes, Pool.cooldown_minutes).where(Pool.id == pool_id)
        ).first()
        timings = resolve_timings(
            project.grace_minutes,
            project.cooldown_minutes,
            pool.grace_minutes if pool else None,
            pool.cooldown_minutes if pool else None,
        )
        return AttributionPolicy(cooldown=timings.cooldown)

    def _attribution_values(self, attribution: Attribution) -> dict[str, Any]:
        label = attribution.label
        snapshot = dict(attribution.snapshot)
        chosen = attribution.chosen
        return {
            "attribution_kind": attribution.kind.value,
            "attribution_reason": attribution.reason[:500],
            "confidence": attribution.confidence,
            "candidates": attribution.candidates_json(),
            "source": (label.source if label else None),
            "medium": (label.medium if label else None),
            "campaign": (label.campaign if label else None),
            "keyword": snapshot.get("keyword"),
            "landing_page": snapshot.get("landing_page"),
            "snapshot": snapshot,
            "visitor_id": chosen.hold.visitor_id if chosen else None,
            "visit_id": chosen.hold.visit_id if chosen else None,
        }


def _opened_lead(item: _CallWork, now: datetime) -> dict[str, Any]:
    """A call's new lead as services.leads.link_call_leads takes it (joined to an earlier
    form or callback of the same phone within the project's unique-call window)."""
    lead = cast(dict[str, Any], item.new_lead)
    return {
        "id": item.values["lead_id"],
        "project_id": lead["project_id"],
        "phone_e164": lead["phone_e164"],
        "created_at": now,
        "window": cast(_ProjectInfo, item.project).unique_window,
    }


@dataclass
class _HistoryEntry:
    """An earlier call of a caller: from the database, or made earlier in this batch."""

    call_id: int
    started_at: datetime
    visitor_id: int | None
    lead_id: int | None
    work: _CallWork | None
    first_id: int | None


def _hold_record(row: Any) -> HoldRecord:
    """A lease row (with its visit's geography) as attribution reads it."""
    return HoldRecord(
        lease_id=row["id"],
        visitor_id=row["visitor_id"],
        visit_id=row["visit_id"],
        leased_at=row["leased_at"],
        last_heartbeat_at=row["last_heartbeat_at"],
        hold_until=row["hold_until"],
        released_at=row["released_at"],
        cooldown_until=row["cooldown_until"],
        snapshot=_with_geo(row["snapshot"] or {}, row),
    )


def _with_geo(snapshot: Mapping[str, Any], row: Any) -> dict[str, Any]:
    """The hold's snapshot with the visit's geography, where the visit has one."""
    geo = {
        "country": row["geo_country"],
        "region": row["geo_region"],
        "city": row["geo_city"],
    }
    geo = {key: value for key, value in geo.items() if value}
    return {**snapshot, "visitor_geo": geo} if geo else dict(snapshot)
