"""Call ingestion: normalised call events in, one attributed call per provider call out.

Each event passes named steps in one transaction:
1. `store_event`: insert into `call_events` unless its `dedupe_key` is there (a redelivery
   ends here, changing nothing);
2. `lock_call`: find or create the call row (unique per provider and provider call id) and
   lock it, so two events of one call arriving at once are applied one after the other;
3. `rebuild_timeline`: fold every event of the call, in any order, into times, durations
   and status (`domain.calls`);
4. `attribute`: on the call's first event (and again if its start moves), find the project
   and tracking number, rank the holds of that number (`domain.attribution`), classify the
   caller (first-time, unique, repeat) and link the lead, and copy the attribution snapshot;
5. `schedule_recordings`: a recording-ready event queues the audio for the fetch job.
An event for a number nobody tracks is stored on an unattributed call, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.attribution import (
    Attribution,
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
from ringtrail.domain.calls import (
    CallEvent,
    CallEventKind,
    CallOutcome,
    CallTimeline,
    fold_events,
)
from ringtrail.domain.phones import caller_geography, dialled_to_e164
from ringtrail.domain.pools import resolve_timings
from ringtrail.leases.history import write_transaction
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
from ringtrail.storage.models.base import UTCDateTime, utcnow

calls = cast(Table, Call.__table__)
events_table = cast(Table, CallEventRow.__table__)
leases = cast(Table, NumberLease.__table__)
recordings = cast(Table, Recording.__table__)
leads = cast(Table, Lead.__table__)
HOLD_LIMIT = 20
HISTORY_LIMIT = 50

# Built once with bind parameters: building and cache-keying a statement per call costs more
# than running it. No bind parameter is named like a column.
_CALL_BY_KEY = (
    select(calls)
    .where(
        calls.c.provider == bindparam("p_provider"),
        calls.c.provider_call_id == bindparam("p_call_id"),
    )
    .with_for_update()
)
_INSERT_CALL = {
    name: dialect.insert(calls)
    .on_conflict_do_nothing(index_elements=["provider", "provider_call_id"])
    .returning(calls.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_INSERT_EVENTS = {
    name: dialect.insert(events_table)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(events_table.c.dedupe_key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_EVENTS_OF_CALL = select(events_table.c.dedupe_key, events_table.c.payload).where(
    events_table.c.call_id == bindparam("p_call")
)
_UPDATE_CALL = update(calls).where(calls.c.id == bindparam("p_call"))
_NUMBER_COLUMNS = (
    TrackingNumber.id,
    TrackingNumber.project_id,
    TrackingNumber.kind,
    TrackingNumber.pool_id,
    TrackingNumber.is_pool_default,
    TrackingNumber.source,
    TrackingNumber.medium,
    TrackingNumber.campaign,
)
_NUMBER = select(*_NUMBER_COLUMNS).where(TrackingNumber.e164 == bindparam("p_e164"))
_NUMBER_OF_PROJECT = _NUMBER.where(TrackingNumber.project_id == bindparam("p_project"))
_HOLDS = (
    select(leases, Visit.geo_country, Visit.geo_region, Visit.geo_city)
    .outerjoin(Visit, Visit.id == leases.c.visit_id)
    .where(
        leases.c.number_id == bindparam("p_number"),
        leases.c.leased_at <= bindparam("p_latest_start", type_=UTCDateTime()),
        or_(
            leases.c.released_at.is_(None),
            leases.c.released_at >= bindparam("p_earliest_end", type_=UTCDateTime()),
        ),
        leases.c.hold_until >= bindparam("p_earliest_end", type_=UTCDateTime()),
    )
    .order_by(leases.c.leased_at.desc())
    .limit(HOLD_LIMIT)
)
_CALLER_HISTORY = (
    select(
        calls.c.id,
        calls.c.started_at,
        calls.c.visitor_id,
        calls.c.lead_id,
        func.min(calls.c.id).over().label("first_id"),
    )
    .where(
        calls.c.project_id == bindparam("p_project"),
        calls.c.caller_e164 == bindparam("p_caller"),
        or_(
            calls.c.started_at < bindparam("p_started", type_=UTCDateTime()),
            and_(
                calls.c.started_at == bindparam("p_started", type_=UTCDateTime()),
                calls.c.id < bindparam("p_call"),
            ),
        ),
    )
    .order_by(calls.c.started_at.desc())
    .limit(HISTORY_LIMIT)
)
_INSERT_LEAD = insert(leads).returning(leads.c.id)
_INSERT_RECORDING = insert(recordings)
_RECORDING_OF_CALL = select(recordings.c.id).where(
    recordings.c.call_id == bindparam("p_call"), recordings.c.provider_url == bindparam("p_url")
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
    retention_days: int
    grace_minutes: int
    cooldown_minutes: int


@dataclass
class _Batch:
    """Lookups shared by the events of one batch."""

    projects: dict[int, _ProjectInfo | None] = field(default_factory=dict)
    numbers: dict[tuple[str, int | None], Any] = field(default_factory=dict)
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
    )


class CallIngestion:
    """Stores events, rebuilds their call, attributes it. One transaction per `ingest_many`.

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

        Events of one call are applied together (the call is rebuilt once per batch), calls
        in the order their first event appears.
        """
        batch = _Batch()
        groups: dict[tuple[str, str], list[int]] = {}
        for index, event in enumerate(events):
            groups.setdefault((event.provider, event.provider_call_id), []).append(index)
        results: list[IngestResult | None] = [None] * len(events)
        with write_transaction(self.engine) as connection:
            for indexes in groups.values():
                group = [events[i] for i in indexes]
                for index, result in zip(
                    indexes, self._ingest_call(connection, batch, group, project_id), strict=True
                ):
                    results[index] = result
        return [r for r in results if r is not None]

    # -- steps -------------------------------------------------------------------------------

    def _ingest_call(
        self,
        connection: Connection,
        batch: _Batch,
        group: Sequence[CallEvent],
        project_id: int | None,
    ) -> list[IngestResult]:
        """Apply the events of one call; one result per event, in order."""
        now = self.clock()
        call, created = self.lock_call(connection, group[0], project_id, now)
        stored = self.store_events(connection, call, group, now)
        if not stored:
            return [IngestResult(call["id"], call["project_id"], True) for _ in group]
        timeline = self.rebuild_timeline(connection, call, group, created)
        values: dict[str, Any] = {
            "started_at": timeline.started_at,
            "answered_at": timeline.answered_at,
            "ended_at": timeline.ended_at,
            "duration_seconds": timeline.total_seconds,
            "talk_seconds": timeline.talk_seconds,
            "status": timeline.status.value,
            "needs_callback": timeline.needs_callback,
        }
        if timeline.forwarded_to:
            values["forwarded_to"] = timeline.forwarded_to[:20]
        moved = call["started_at"] != timeline.started_at
        if created or moved or call["attribution_kind"] == "pending":
            values |= self.attribute(connection, batch, call, timeline, project_id, now)
        connection.execute(_UPDATE_CALL, {"p_call": call["id"], **values})
        project_of_call = values.get("project_id", call["project_id"])
        if project_of_call != project_id:
            connection.execute(
                update(events_table)
                .where(events_table.c.dedupe_key.in_([e.dedupe_key[:255] for e in stored]))
                .values(project_id=project_of_call)
            )
        for event in stored:
            if event.kind is CallEventKind.RECORDING_READY and event.recording_url:
                self.schedule_recording(
                    connection,
                    batch,
                    call["id"],
                    project_of_call,
                    event,
                    now,
                    created,
                    started_at=timeline.started_at,
                )
        fresh = {id(e) for e in stored}
        return [IngestResult(call["id"], project_of_call, id(e) not in fresh) for e in group]

    def store_events(
        self,
        connection: Connection,
        call: Mapping[str, Any],
        group: Sequence[CallEvent],
        now: datetime,
    ) -> list[CallEvent]:
        """Insert the events not stored yet; returns them (redeliveries are left out)."""
        unique: dict[str, CallEvent] = {}
        for event in group:
            unique.setdefault(event.dedupe_key[:255], event)
        rows = [
            {
                "project_id": call["project_id"],
                "call_id": call["id"],
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
            for key, event in unique.items()
        ]
        statement = _INSERT_EVENTS[connection.dialect.name]
        inserted = set(connection.execute(statement, rows).scalars())
        return [event for key, event in unique.items() if key in inserted]

    def lock_call(
        self, connection: Connection, event: CallEvent, project_id: int | None, now: datetime
    ) -> tuple[Mapping[str, Any], bool]:
        """The call row of the event, locked for this transaction, and whether it is new.

        The insert comes first: most batches start a call, and an insert that meets the
        unique key waits for the other transaction and then leaves the row to the SELECT.
        """
        key = {"p_provider": event.provider, "p_call_id": event.provider_call_id[:200]}
        values: dict[str, Any] = {
            "project_id": project_id,
            "provider": event.provider,
            "provider_call_id": event.provider_call_id[:200],
            "direction": "inbound",
            "dialled_e164": (event.dialled or "")[:20],
            "started_at": event.occurred_at,
            "status": "in_progress",
            "needs_callback": False,
            "attribution_kind": "pending",
            "attribution_reason": "",
            "confidence": 0.0,
            "candidates": [],
            "snapshot": {},
            "created_at": now,
            "lead_id": None,
        }
        new_id = connection.execute(_INSERT_CALL[connection.dialect.name], values).scalar()
        if new_id is not None:
            return {**values, "id": new_id}, True
        return dict(connection.execute(_CALL_BY_KEY, key).mappings().one()), False

    def rebuild_timeline(
        self,
        connection: Connection,
        call: Mapping[str, Any],
        group: Sequence[CallEvent],
        created: bool,
    ) -> CallTimeline:
        """Fold every stored event of the call (a new call has only this batch's)."""
        if created:
            return fold_events(group)
        rows = connection.execute(_EVENTS_OF_CALL, {"p_call": call["id"]})
        stored = [
            event_from_row(call["provider"], call["provider_call_id"], key, payload)
            for key, payload in rows
        ]
        return fold_events(stored or group)

    def attribute(
        self,
        connection: Connection,
        batch: _Batch,
        call: Mapping[str, Any],
        timeline: CallTimeline,
        project_id: int | None,
        now: datetime,
    ) -> dict[str, Any]:
        """Project, number, attribution, caller standing, lead and geography of the call."""
        project = self._project(connection, batch, project_id or call["project_id"])
        dialled_raw = timeline.dialled or call["dialled_e164"] or ""
        country = project.default_country if project else None
        dialled = dialled_to_e164(dialled_raw, country) or dialled_raw[:20]
        number_key = (dialled, project.id if project else None)
        if number_key not in batch.numbers:
            batch.numbers[number_key] = self._number(connection, *number_key)
        number_row = batch.numbers[number_key]
        if project is None and number_row is not None:
            project = self._project(connection, batch, number_row.project_id)
        country = project.default_country if project else None
        caller = dialled_to_e164(timeline.caller, country) if timeline.caller else None
        number = self._dialled_number(connection, dialled, number_row)
        standing = self._standing(connection, project, caller, call["id"], timeline.started_at)
        holds: list[HoldRecord] = []
        policy = AttributionPolicy()
        if number.kind is NumberKind.POOL and number.number_id is not None and project:
            if number.pool_id not in batch.policies:
                batch.policies[number.pool_id] = self._policy(connection, project, number.pool_id)
            policy = batch.policies[number.pool_id]
            holds = self._holds(connection, number.number_id, timeline.started_at, policy)
        attribution = attribute_call(
            number,
            timeline.started_at,
            holds,
            policy=policy,
            known_visitors=standing.known_visitors,
        )
        values = self._attribution_values(attribution)
        caller_country, caller_region = caller_geography(caller) if caller else (None, None)
        visitor_id = values.pop("visitor_id") or standing.previous_visitor_id
        values |= {
            "project_id": project.id if project else None,
            "tracking_number_id": number.number_id,
            "dialled_e164": dialled[:20],
            "caller_e164": caller,
            "caller_country": caller_country,
            "caller_region": caller_region,
            "is_first_time": standing.first_time if caller else None,
            "is_unique": standing.unique if caller else None,
            "first_call_id": standing.first_call_id,
            "visitor_id": visitor_id,
        }
        if project is not None and call["lead_id"] is None:
            values["lead_id"] = standing.previous_lead_id or self._new_lead(
                connection, project.id, call["id"], caller, visitor_id, values, now
            )
        return values

    def schedule_recording(
        self,
        connection: Connection,
        batch: _Batch,
        call_id: int,
        project_id: int | None,
        event: CallEvent,
        now: datetime,
        new_call: bool,
        *,
        started_at: datetime,
    ) -> None:
        """Queue the audio for the fetch job, once per URL (a new call has none yet); it is
        kept for the project's retention period from the call's start."""
        url = cast(str, event.recording_url)
        if (
            not new_call
            and connection.execute(
                select(recordings.c.id).where(
                    recordings.c.call_id == call_id, recordings.c.provider_url == url
                )
            ).first()
        ):
            return
        project = self._project(connection, batch, project_id)
        retention = timedelta(days=project.retention_days if project else 365)
        connection.execute(
            _INSERT_RECORDING,
            {
                "call_id": call_id,
                "provider_url": url,
                "status": "pending",
                "duration_seconds": event.recording_duration,
                "attempts": 0,
                "next_attempt_at": now,
                "delete_after": started_at + retention,
                "created_at": now,
            },
        )

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
                )
                if row
                else None
            )
        return batch.projects[project_id]

    def _number(self, connection: Connection, e164: str, project_id: int | None) -> Any:
        if project_id is None:
            return connection.execute(_NUMBER, {"p_e164": e164}).first()
        return connection.execute(
            _NUMBER_OF_PROJECT, {"p_e164": e164, "p_project": project_id}
        ).first()

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

    def _holds(
        self, connection: Connection, number_id: int, call_at: datetime, policy: AttributionPolicy
    ) -> list[HoldRecord]:
        earliest_end = call_at - policy.lookback - policy.cooldown
        rows = connection.execute(
            _HOLDS,
            {
                "p_number": number_id,
                "p_latest_start": call_at + policy.clock_skew,
                "p_earliest_end": earliest_end,
            },
        ).mappings()
        return [
            HoldRecord(
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
            for row in rows
        ]

    def _standing(
        self,
        connection: Connection,
        project: _ProjectInfo | None,
        caller: str | None,
        call_id: int,
        started_at: datetime,
    ) -> CallerStanding:
        if project is None or caller is None:
            return caller_standing([], started_at, timedelta(days=30))
        rows = connection.execute(
            _CALLER_HISTORY,
            {
                "p_project": project.id,
                "p_caller": caller,
                "p_started": started_at,
                "p_call": call_id,
            },
        ).all()
        history = [EarlierCall(r.id, r.started_at, r.visitor_id, r.lead_id) for r in rows]
        standing = caller_standing(history, started_at, project.unique_window)
        if rows and standing.first_call_id != rows[0].first_id:
            # The caller has more calls than the history read; the first is older still.
            standing = replace(standing, first_call_id=rows[0].first_id)
        return standing

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

    def _new_lead(
        self,
        connection: Connection,
        project_id: int,
        call_id: int,
        caller: str | None,
        visitor_id: int | None,
        values: Mapping[str, Any],
        now: datetime,
    ) -> int:
        return cast(
            int,
            connection.execute(
                _INSERT_LEAD,
                {
                    "project_id": project_id,
                    "kind": "call",
                    "call_id": call_id,
                    "visitor_id": visitor_id,
                    "visit_id": values.get("visit_id"),
                    "phone_e164": caller,
                    "source": values.get("source"),
                    "medium": values.get("medium"),
                    "campaign": values.get("campaign"),
                    "status": "new",
                    "payload": {},
                    "created_at": now,
                },
            ).scalar_one(),
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
