"""The checks after the run, read straight from the database (not through the proxy).

Each check returns a `Check`: its rule, whether it held, and the figures or the first
counter-examples. The interval rules are plain functions over plain rows, so they can be
tested on their own (tests/fault/).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from ringtrail.storage.models import (
    Call,
    CallEvent,
    NumberLease,
    RollupDirty,
    TrackingNumber,
    Visit,
)

EXAMPLES = 5
SLACK = 0.005
"""Seconds: the server keeps hold ends in Redis to the millisecond, the database to the µs."""


@dataclass
class Check:
    """One rule and its verdict."""

    rule: str
    passed: bool
    detail: str = ""
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LeaseRow:
    """A `number_leases` row as the checks read it (times in Unix seconds)."""

    id: int
    number: str
    visitor_id: int | None
    leased_at: float
    last_heartbeat_at: float
    hold_until: float
    released_at: float | None
    cooldown_until: float | None

    @property
    def end(self) -> float:
        """When the hold ended (or will end, if it is still live)."""
        return self.released_at if self.released_at is not None else self.hold_until


@dataclass(frozen=True)
class Interval:
    """A visitor holding a number from `start` to `end`."""

    number: str
    holder: str
    start: float
    end: float


def overlapping_holds(intervals: Iterable[Interval]) -> list[tuple[Interval, Interval]]:
    """Pairs of different holders whose holds of one number overlap in time."""
    by_number: dict[str, list[Interval]] = defaultdict(list)
    for interval in intervals:
        by_number[interval.number].append(interval)
    clashes = []
    for rows in by_number.values():
        rows.sort(key=lambda row: (row.start, row.end))
        latest: Interval | None = None  # the hold that ends last among those started so far
        for row in rows:
            if latest is not None and row.start < latest.end and row.holder != latest.holder:
                clashes.append((latest, row))
            if latest is None or row.end > latest.end:
                latest = row
    return clashes


def broken_history(rows: Iterable[LeaseRow]) -> list[str]:
    """Lease rows that do not tell a whole hold: a start, heartbeats inside it, and once it is
    over an end with its cool-down."""
    problems = []
    for row in rows:
        if row.visitor_id is None:
            problems.append(f"lease {row.id}: no visitor")
        if not row.leased_at <= row.last_heartbeat_at <= row.hold_until + SLACK:
            problems.append(f"lease {row.id}: heartbeat outside its hold")
        if row.released_at is not None:
            if row.cooldown_until is None:
                problems.append(f"lease {row.id}: released without a cool-down end")
            if not row.leased_at <= row.released_at <= row.hold_until + SLACK:
                problems.append(f"lease {row.id}: released outside its hold")
    return problems


def uncovered_holds(holds: Iterable[Any], rows: Sequence[LeaseRow]) -> list[str]:
    """Holds a visitor was told of that no lease row of that visitor and number covers:
    the row must start before the visitor learnt of the hold and last as long as it was told."""
    by_key: dict[tuple[int | None, str], list[LeaseRow]] = defaultdict(list)
    for row in rows:
        by_key[(row.visitor_id, row.number)].append(row)
    missing = []
    for hold in holds:
        candidates = by_key.get((hold.visitor_id, hold.number), [])
        if not any(
            row.leased_at <= hold.shown + SLACK and row.end + SLACK >= hold.until
            for row in candidates
        ):
            missing.append(
                f"visitor {hold.visitor_id} held {hold.number} until "
                f"{_clock(hold.until)}; history: "
                + (
                    ", ".join(f"{_clock(r.leased_at)}-{_clock(r.end)}" for r in candidates)
                    or "none"
                )
            )
    return missing


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S.%f")[:-3]


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def lease_rows(engine: Engine, project_id: int) -> list[LeaseRow]:
    leases, numbers = NumberLease.__table__, TrackingNumber.__table__
    query = (
        select(
            leases.c.id,
            numbers.c.e164,
            leases.c.visitor_id,
            leases.c.leased_at,
            leases.c.last_heartbeat_at,
            leases.c.hold_until,
            leases.c.released_at,
            leases.c.cooldown_until,
        )
        .join(numbers, numbers.c.id == leases.c.number_id)
        .where(leases.c.project_id == project_id)
    )
    with engine.connect() as connection:
        return [
            LeaseRow(
                id=row.id,
                number=row.e164,
                visitor_id=row.visitor_id,
                leased_at=row.leased_at.timestamp(),
                last_heartbeat_at=row.last_heartbeat_at.timestamp(),
                hold_until=row.hold_until.timestamp(),
                released_at=_ts(row.released_at),
                cooldown_until=_ts(row.cooldown_until),
            )
            for row in connection.execute(query)
        ]


def verdict(rule: str, problems: Sequence[str], detail: str) -> Check:
    """The check of `rule`: passed when there are no `problems`; the first few are kept."""
    return Check(rule, not problems, detail, list(problems[:EXAMPLES]))


def check_calls(engine: Engine, project_id: int, ledger: Any) -> list[Check]:
    """Accepted events stored once each, refused ones retried until stored, calls complete."""
    deliveries = list(ledger.deliveries.values())
    accepted = [d for d in deliveries if d.accepted]
    keys = {f"webhook:{project_id}:{d.event_id}": d for d in accepted}
    call_keys = {f"{project_id}:{d.call_id}" for d in accepted}
    with engine.connect() as connection:
        stored_events: dict[str, int] = defaultdict(int)
        for key, count in connection.execute(
            select(CallEvent.dedupe_key, func.count())
            .where(CallEvent.project_id == project_id)
            .group_by(CallEvent.dedupe_key)
        ):
            stored_events[key] = count
        calls = list(
            connection.execute(
                select(Call.provider_call_id, Call.status, Call.talk_seconds).where(
                    Call.provider == "webhook", Call.project_id == project_id
                )
            )
        )
    stored_calls: dict[str, int] = defaultdict(int)
    for row in calls:
        stored_calls[row.provider_call_id] += 1
    problems = [
        f"event {key} stored {stored_events[key]} times" for key in keys if stored_events[key] != 1
    ]
    problems += [
        f"call {key} stored {stored_calls[key]} times"
        for key in call_keys
        if stored_calls[key] != 1
    ]
    checks = [
        verdict(
            "every call event the senders were told was accepted is stored exactly once",
            problems,
            f"{len(accepted)} events of {len(call_keys)} calls",
        )
    ]
    retried = [d for d in deliveries if d.refused]
    unstored = [
        f"{d.event_id}: {d.rejected or 'never accepted'} after {d.attempts} attempt(s)"
        for d in deliveries
        if not d.accepted
    ]
    checks.append(
        verdict(
            "every refused call event was retried until accepted and stored",
            unstored,
            f"{len(retried)} events refused at first, {sum(d.refused for d in retried)} retries",
        )
    )
    complete = {
        call_id
        for call_id in {d.call_id for d in deliveries}
        if all(
            getattr(ledger.deliveries.get(f"{call_id}:{kind}"), "accepted", False)
            for kind in ("started", "answered", "ended")
        )
    }
    by_id = {row.provider_call_id: row for row in calls}
    wrong = []
    for call_id in sorted(complete):
        stored = by_id.get(f"{project_id}:{call_id}")
        talk = ledger.talk_seconds[call_id]
        if stored is None or stored.status != "answered" or stored.talk_seconds != talk:
            found = f"{stored.status}, {stored.talk_seconds} s" if stored else "missing"
            wrong.append(f"call {call_id}: {found}, expected answered, {talk} s")
    checks.append(
        verdict(
            "every call with all its events accepted is whole (answered, its talk time)",
            wrong,
            f"{len(complete)} calls",
        )
    )
    return checks


def check_holds(engine: Engine, project_id: int, ledger: Any) -> list[Check]:
    """No number held twice at once, in the history or as the visitors were told; every hold
    written down whole."""
    rows = lease_rows(engine, project_id)
    in_history = overlapping_holds(
        Interval(row.number, f"lease {row.id} (visitor {row.visitor_id})", row.leased_at, row.end)
        for row in rows
    )
    told = overlapping_holds(
        Interval(hold.number, f"visitor {hold.visitor_id}", hold.shown, hold.until)
        for hold in ledger.holds
    )
    numbers = len({row.number for row in rows})
    reused = len(rows) - numbers
    checks = [
        verdict(
            "no number was held by two visitors at once (lease history)",
            [_clash(a, b) for a, b in in_history],
            f"{len(rows)} leases of {numbers} numbers, {reused} reuses",
        ),
        verdict(
            "no number was held by two visitors at once (as the visitors were told)",
            [_clash(a, b) for a, b in told],
            f"{len(ledger.holds)} holds seen by visitors",
        ),
        verdict(
            "no visitor lost a hold before the end it was told",
            ledger.lost_holds,
            f"{len(ledger.holds)} holds",
        ),
    ]
    history = broken_history(rows) + uncovered_holds(ledger.holds, rows)
    checks.append(
        verdict(
            "every hold has its whole history (start, heartbeats, end) in number_leases",
            history,
            f"{len(rows)} lease rows, {len(ledger.holds)} holds matched",
        )
    )
    visit_ids = {visit_id for visit_id, _ in ledger.visits}
    with engine.connect() as connection:
        stored = {
            (row.id, row.visitor_id)
            for row in connection.execute(
                select(Visit.id, Visit.visitor_id).where(Visit.project_id == project_id)
            )
        }
    missing_visits = [
        f"visit {visit_id} of visitor {visitor_id}"
        for visit_id, visitor_id in set(ledger.visits)
        if (visit_id, visitor_id) not in stored
    ]
    checks.append(
        verdict(
            "every visit the tracking API answered is stored",
            missing_visits,
            f"{len(visit_ids)} visits answered, {len(stored)} stored",
        )
    )
    return checks


def stale_report_days(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(RollupDirty)).scalar_one())


def _clash(first: Interval, second: Interval) -> str:
    return (
        f"{first.number}: {first.holder} {_clock(first.start)}-{_clock(first.end)} and "
        f"{second.holder} {_clock(second.start)}-{_clock(second.end)}"
    )
