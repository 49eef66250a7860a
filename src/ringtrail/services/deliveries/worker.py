"""Sends due deliveries: claim a batch, read its facts, apply each destination's rule, send in
parallel, write the outcomes back.

- Claim: one UPDATE takes up to `limit` due rows (pending and due, or sending whose claim
  ran out: a worker died mid-send) and stamps them with this pass's token; PostgreSQL skips
  rows another pass holds. A row waits while an earlier event of the same destination and
  subject is pending or sending, so a CRM sees call.started before call.ended.
- Decide: the rule (`domain.conversion_rules`) and the destination's `prepare` turn facts
  into a payload or a Skip. Facts are read now, not when queued.
- Send: a thread pool shares one HTTP client. The payload's dedupe key is the destination's
  own (transaction_id, event_id...), the same on every try, so a send repeated after a crash
  is dropped by the destination.
- Write: accepted, rejected (never retried), retry (backoff with jitter, the answer's
  Retry-After honoured, dead after `max_attempts`) or skipped; only the pass that holds the
  claim may write (its token), so a pass that lost its claim changes nothing.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
from pydantic import BaseModel
from sqlalchemy import Engine, Table, and_, bindparam, exists, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from ringtrail.domain.conversion_rules import (
    CONVERSION_EVENT,
    ConsentMode,
    ConversionRule,
    SentConversion,
    evaluate,
    parse_rule,
)
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    Destination,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.integrations.registry import destination as load_destination
from ringtrail.services.deliveries.destinations import config_of, consent_mode
from ringtrail.services.deliveries.facts import LinkSettings, Subject, load_facts, previous_answers
from ringtrail.storage.models import IntegrationDestination, OutboundDelivery, Project

log = logging.getLogger(__name__)

table = cast(Table, OutboundDelivery.__table__)
DEFAULT_LIMIT = 500
DEFAULT_CONCURRENCY = 16
DEFAULT_MAX_ATTEMPTS = 12
LEASE_SECONDS = 300
"""How long a claim holds: a send outlives it only if it hangs past every timeout."""
BACKOFF_BASE_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 4 * 3600.0
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0

# Skip codes of the delivery machinery itself (the rule's and the destinations' are theirs).
DESTINATION_GONE = "destination_unavailable"
SUBJECT_GONE = "subject_gone"


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass did."""

    claimed: int = 0
    accepted: int = 0
    rejected: int = 0
    retried: int = 0
    skipped: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    destination_id: int | None
    subject_kind: str
    subject_id: int
    event_name: str
    attempts: int


@dataclass
class _Loaded:
    """A destination as the worker uses it, rebuilt when the row changes."""

    updated_at: datetime | None
    enabled: bool
    kind: str
    found: Destination | None
    config: BaseModel | None
    rule: ConversionRule
    consent: ConsentMode
    problem: str = ""


@dataclass
class _Work:
    claimed: _Claimed
    conversion: Conversion | None = None
    prepared: Prepared | None = None
    skip: Skip | None = None
    result: SendResult | None = None
    error: str | None = None
    loaded: _Loaded | None = None
    outcome: dict[str, Any] = field(default_factory=dict)


def _pending_due(now: datetime) -> Any:
    return and_(table.c.status == "pending", table.c.next_attempt_at <= now)


def _abandoned(now: datetime) -> Any:
    return and_(table.c.status == "sending", table.c.claimed_until <= now)


def _claim_where(
    engine: Engine, now: datetime, limit: int, token: str, lease: float, due: Any, ordered: bool
) -> list[_Claimed]:
    earlier = aliased(OutboundDelivery)
    blocked = exists().where(
        earlier.destination == table.c.destination,
        earlier.subject_kind == table.c.subject_kind,
        earlier.subject_id == table.c.subject_id,
        earlier.sequence < table.c.sequence,
        earlier.status.in_(("pending", "sending")),
    )
    pick = select(table.c.id).where(due, ~blocked).limit(limit)
    if ordered:  # the due index's order: no sort of the whole backlog
        pick = pick.order_by(table.c.next_attempt_at)
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    # A CTE runs once: PostgreSQL may run an IN subquery with LIMIT more than once per
    # statement, and SKIP LOCKED then lets it take more than `limit` rows. `correlate(None)`:
    # its own scan of the table, not the UPDATE's row (else every due row is taken).
    picked = pick.correlate(None).cte("picked")
    statement = (
        update(table)
        # The due condition again: PostgreSQL rechecks it against a row changed meanwhile.
        .where(table.c.id.in_(select(picked.c.id)), due)
        .values(
            status="sending",
            claimed_by=token,
            claimed_until=now + timedelta(seconds=lease),
            last_attempt_at=now,
            attempts=table.c.attempts + 1,
        )
        .returning(
            table.c.id,
            table.c.destination_id,
            table.c.subject_kind,
            table.c.subject_id,
            table.c.event_name,
            table.c.attempts,
        )
    )
    with engine.begin() as connection:
        rows = connection.execute(statement).all()
    return [
        _Claimed(r.id, r.destination_id, r.subject_kind, r.subject_id, r.event_name, r.attempts)
        for r in rows
    ]


def claim(engine: Engine, now: datetime, limit: int, token: str, lease: float) -> list[_Claimed]:
    """Take up to `limit` due rows for the pass `token`: first those a dead pass left
    claimed, then pending ones, earliest due first."""
    taken = _claim_where(engine, now, limit, token, lease, _abandoned(now), ordered=False)
    if len(taken) < limit:
        taken += _claim_where(
            engine, now, limit - len(taken), token, lease, _pending_due(now), ordered=True
        )
    return sorted(taken, key=lambda c: c.id)


def _load_destinations(
    db: Session, ids: Sequence[int], cache: MutableMapping[int, _Loaded]
) -> dict[int, _Loaded]:
    rows = list(
        db.scalars(select(IntegrationDestination).where(IntegrationDestination.id.in_(ids)))
    )
    projects = {
        p.id: p
        for p in db.scalars(select(Project).where(Project.id.in_({r.project_id for r in rows})))
    }
    out: dict[int, _Loaded] = {}
    for row in rows:
        project = projects.get(row.project_id)
        consent = consent_mode(project) if project is not None else "ignore"
        known = cache.get(row.id)
        if known is not None and known.updated_at == row.updated_at and known.consent == consent:
            out[row.id] = known
            continue
        loaded = _Loaded(
            row.updated_at, row.enabled, row.kind, None, None, ConversionRule(), consent
        )
        try:
            loaded.found = load_destination(row.kind)
            loaded.config = config_of(row)
            loaded.rule = parse_rule(row.rules)
        except Exception as exc:
            loaded.problem = f"the destination's settings cannot be used: {exc}"
            log.warning("destination %s: %s", row.id, loaded.problem)
        cache[row.id] = loaded
        out[row.id] = loaded
    return out


def _previous(rows: Sequence[OutboundDelivery]) -> SentConversion | None:
    sent = [r for r in rows if r.event_name.startswith(CONVERSION_EVENT) and r.conversion]
    if not sent:
        return None
    last = cast(dict[str, Any], sent[-1].conversion)
    value = last.get("value")
    return SentConversion(str(last.get("name", "")), None if value is None else Decimal(value))


def _decide(
    work: _Work, facts: ConversionFacts | None, previous: SentConversion | None, now: datetime
) -> None:
    loaded = work.loaded
    if loaded is None or loaded.found is None or loaded.config is None:
        words = loaded.problem if loaded is not None else "the destination was removed"
        work.skip = Skip(DESTINATION_GONE, words or "the destination cannot be used")
        return
    if not loaded.enabled:
        work.skip = Skip(DESTINATION_GONE, "the destination is switched off")
        return
    if facts is None:
        work.skip = Skip(SUBJECT_GONE, f"the {work.claimed.subject_kind} no longer exists")
        return
    decided = evaluate(
        loaded.rule,
        facts,
        work.claimed.event_name,
        consent_mode=loaded.consent,
        on_change=loaded.found.on_change,
        previous=previous,
    )
    if isinstance(decided, Skip):
        work.skip = decided
        return
    work.conversion = decided
    try:
        prepared = loaded.found.prepare(facts, decided, loaded.config, now)
    except Exception as exc:  # a destination's bug must not stop the others
        log.exception("destination %s failed to prepare delivery %s", loaded.kind, work.claimed.id)
        work.error = f"could not prepare the message: {exc}"
        return
    if isinstance(prepared, Skip):
        work.skip = prepared
    else:
        work.prepared = prepared


def _send(work: _Work, client: httpx.Client) -> None:
    loaded = cast(_Loaded, work.loaded)
    try:
        work.result = cast(Destination, loaded.found).send(
            client, cast(BaseModel, loaded.config), cast(Prepared, work.prepared)
        )
    except httpx.TimeoutException:
        work.error = "the destination did not answer in time"
    except httpx.TransportError as exc:
        work.error = f"could not reach the destination: {type(exc).__name__}"
    except Exception as exc:
        log.exception("destination %s failed to send delivery %s", loaded.kind, work.claimed.id)
        work.error = f"sending failed: {exc}"


def backoff_seconds(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """The wait before try `attempts + 1`: doubling from a minute, at most 4 hours, with
    jitter (75-125 %) so a recovered destination is not hit by every retry at once."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return float(base * (0.75 + 0.5 * rng()))


def _conversion_json(conversion: Conversion | None) -> dict[str, Any] | None:
    if conversion is None:
        return None
    value = None if conversion.value is None else str(conversion.value)
    return {"name": conversion.name, "value": value, "currency": conversion.currency}


def _outcome(
    work: _Work, now: datetime, max_attempts: int, rng: Callable[[], float]
) -> dict[str, Any]:
    claimed = work.claimed
    out: dict[str, Any] = {
        "b_id": claimed.id,
        "b_status": "pending",
        "b_next": None,
        "b_payload": work.prepared.payload if work.prepared else {},
        "b_response": {},
        "b_error": None,
        "b_sent": None,
        "b_key": work.prepared.dedupe_key if work.prepared else None,
        "b_code": None,
        "b_reason": None,
        "b_status_code": None,
        "b_conversion": _conversion_json(work.conversion),
        "b_attempts": claimed.attempts,
    }
    if work.skip is not None:
        out.update(b_status="skipped", b_code=work.skip.code, b_reason=work.skip.words)
        out["b_attempts"] = claimed.attempts - 1  # nothing was tried
        return out
    result = work.result
    if result is not None:
        out.update(b_response=result.response, b_status_code=result.status_code)
    if result is not None and result.outcome == "accepted":
        out.update(b_status="accepted", b_sent=now)
        return out
    if result is not None and result.outcome == "rejected":
        code = f"http_{result.status_code}" if result.status_code else "rejected"
        out.update(b_status="rejected", b_code=code, b_reason=result.reason or "refused")
        return out
    reason = work.error or (result.reason if result else "") or "the destination asked to retry"
    if claimed.attempts >= max_attempts:
        out.update(
            b_status="dead",
            b_code="gave_up",
            b_reason=f"gave up after {claimed.attempts} tries: {reason}",
            b_error=reason,
        )
        return out
    wait = backoff_seconds(claimed.attempts, rng)
    if result is not None and result.retry_after_seconds:
        wait = max(wait, min(result.retry_after_seconds, RETRY_AFTER_CAP_SECONDS))
    out.update(
        b_next=now + timedelta(seconds=wait),
        b_code="retrying",
        b_reason=f"will retry: {reason}",
        b_error=reason,
    )
    return out


_WRITE = (
    update(table)
    .where(
        table.c.id == bindparam("b_id"),
        table.c.claimed_by == bindparam("b_token"),
        table.c.status == "sending",
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        payload=bindparam("b_payload", type_=table.c.payload.type),
        response=bindparam("b_response", type_=table.c.response.type),
        error=bindparam("b_error"),
        sent_at=bindparam("b_sent"),
        dedupe_key=bindparam("b_key"),
        reason_code=bindparam("b_code"),
        reason=bindparam("b_reason"),
        status_code=bindparam("b_status_code"),
        conversion=bindparam("b_conversion", type_=table.c.conversion.type),
        attempts=bindparam("b_attempts"),
        claimed_by=None,
        claimed_until=None,
    )
)


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    """The sending threads, kept between passes (starting threads each pass costs)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = _POOLS[size] = ThreadPoolExecutor(size, thread_name_prefix="delivery")
        return pool


def deliver_due(
    sessions: sessionmaker[Session],
    client: httpx.Client,
    now: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    lease_seconds: float = LEASE_SECONDS,
    links: LinkSettings | None = None,
    destinations_cache: MutableMapping[int, Any] | None = None,
    rng: Callable[[], float] = random.random,
) -> DeliveryReport:
    """One pass: send up to `limit` due deliveries as of `now` and record what came of them.

    `destinations_cache` (kept by the caller between passes) saves decrypting each
    destination's settings on every pass; a changed destination is read again."""
    engine = cast(Engine, sessions.kw["bind"])
    token = uuid.uuid4().hex
    claimed = claim(engine, now, limit, token, lease_seconds)
    if not claimed:
        return DeliveryReport()
    cache: MutableMapping[int, Any] = destinations_cache if destinations_cache is not None else {}
    works = [_Work(c) for c in claimed]
    with sessions() as db:
        ids = sorted({c.destination_id for c in claimed if c.destination_id is not None})
        loaded = _load_destinations(db, ids, cache)
        subjects = [Subject(c.id, c.destination_id, c.subject_kind, c.subject_id) for c in claimed]
        answers = previous_answers(db, subjects)
        facts = load_facts(db, subjects, links, now, answers=answers)
        for work in works:
            c = work.claimed
            work.loaded = loaded.get(c.destination_id or 0)
            earlier = answers.get((c.destination_id or 0, c.subject_kind, c.subject_id), [])
            _decide(work, facts.get(c.id), _previous(earlier), now)
        db.rollback()
    to_send = [w for w in works if w.prepared is not None and w.skip is None]
    if len(to_send) > 1 and concurrency > 1:
        list(_pool(concurrency).map(lambda w: _send(w, client), to_send))
    elif to_send:
        _send(to_send[0], client)
    params = [{**_outcome(w, now, max_attempts, rng), "b_token": token} for w in works]
    with engine.begin() as connection:
        connection.execute(_WRITE, params)
    counts: dict[str, int] = {}
    for item in params:
        status = item["b_status"]
        counts[status] = counts.get(status, 0) + 1
    return DeliveryReport(
        claimed=len(claimed),
        accepted=counts.get("accepted", 0),
        rejected=counts.get("rejected", 0),
        retried=counts.get("pending", 0),
        skipped=counts.get("skipped", 0),
        dead=counts.get("dead", 0),
    )


def summary(report: DeliveryReport) -> Mapping[str, int]:
    """The report as counts by outcome (for logs and the CLI)."""
    return {
        "claimed": report.claimed,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "retried": report.retried,
        "skipped": report.skipped,
        "dead": report.dead,
    }
