"""Zadarma notifications sent again by someone else: recognised, refused and logged.

Zadarma signs only some fields of a notification (`caller_id`, `called_did` or `destination`,
`call_start`; telephony.zadarma.SIGNED_FIELDS). Whoever saw one notification may therefore
send it again with other unsigned fields and a valid signature:
- under another `pbx_call_id`, making up a call (`other_call_with_same_signature`): refused,
  since one caller's call starting at one second to one number is one call;
- as a NOTIFY_END of the same call with another `duration` or `disposition`
  (`end_differs`): the first NOTIFY_END of a call is kept (events dedupe by key), and a later
  one that differs is ignored rather than silently dropped.
Both are noted in the webhook refusal log (reason `replayed_notification`) with the sender's
address, so an operator sees them. The sender-address check (RINGTRAIL_ZADARMA_CHECK_SENDER)
closes the remaining window, an altered NOTIFY_END arriving before Zadarma's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallEvent
from ringtrail.services.webhook_refusals import WebhookRefusalReason, note_webhook_refusal
from ringtrail.storage.models import Call
from ringtrail.storage.models import CallEvent as CallEventRow
from ringtrail.storage.models.base import utcnow

PROVIDER = "zadarma"
UNSIGNED_END_FIELDS = (
    "duration",
    "disposition",
    "status_code",
    "is_recorded",
    "call_id_with_rec",
    "internal",
)
"""The NOTIFY_END fields the signature does not cover, compared between two deliveries."""
START_SLACK = timedelta(seconds=2)


def other_call_with_same_signature(
    db: Session,
    *,
    project_id: int | None,
    pbx_call_id: str,
    form: Mapping[str, str],
    call_start: datetime,
) -> str | None:
    """The `pbx_call_id` of another Zadarma call of the project whose notifications carried the
    same caller, number and `call_start` as `form`; None when there is none."""
    caller = form.get("caller_id", "")
    if not caller:
        return None  # an anonymous caller: nothing ties two calls together
    query = select(Call.id, Call.provider_call_id).where(
        Call.provider == PROVIDER,
        Call.provider_call_id != pbx_call_id,
        Call.started_at >= call_start - START_SLACK,
        Call.started_at <= call_start + START_SLACK,
    )
    if project_id is not None:
        query = query.where(Call.project_id == project_id)
    candidates = {row.id: row.provider_call_id for row in db.execute(query)}
    if not candidates:
        return None
    rows = db.execute(
        select(CallEventRow.call_id, CallEventRow.payload).where(
            CallEventRow.call_id.in_(candidates)
        )
    )
    for call_id, payload in rows:
        raw = _raw(payload)
        if raw.get("caller_id") != caller or raw.get("call_start") != form.get("call_start"):
            continue
        dids = (raw.get("called_did"), form.get("called_did"))
        if all(dids) and dids[0] != dids[1]:
            continue
        return str(candidates[cast(int, call_id)])
    return None


def end_differs(db: Session, *, pbx_call_id: str, form: Mapping[str, str]) -> bool:
    """Whether the call's NOTIFY_END was stored already with other unsigned values."""
    payload = db.scalar(
        select(CallEventRow.payload).where(
            CallEventRow.dedupe_key == f"{PROVIDER}:{pbx_call_id}:end"[:255]
        )
    )
    if payload is None:
        return False
    raw = _raw(payload)
    return any(raw.get(name, "") != form.get(name, "") for name in UNSIGNED_END_FIELDS)


def note_replay(engine: Engine, project_id: int, sender: str, detail: str) -> None:
    """Log a replayed notification from `sender` on the project's refusals page."""
    note_webhook_refusal(
        engine,
        project_id=project_id,
        provider=PROVIDER,
        reason=WebhookRefusalReason.REPLAYED_NOTIFICATION,
        address=sender,
        detail=detail,
        now=utcnow(),
    )


def screen_spooled(
    db: Session, events: Sequence[CallEvent], project_id: int | None, sender: str
) -> list[CallEvent]:
    """The spooled Zadarma events to ingest: a NOTIFY_START replayed under another call id is
    dropped and logged (webhook_spool's screen for provider `zadarma`)."""
    kept = []
    for event in events:
        other = None
        if event.provider == PROVIDER:
            other = other_call_with_same_signature(
                db,
                project_id=project_id,
                pbx_call_id=event.provider_call_id,
                form=_raw({"raw": event.payload}),
                call_start=event.occurred_at,
            )
        if other is None:
            kept.append(event)
        elif project_id is not None:
            db.commit()  # end the read before the log writes (SQLite has one writer)
            note_replay(
                cast(Engine, db.get_bind()),
                project_id,
                sender,
                f"{event.payload.get('event', 'notification')} of call {other} sent again as "
                f"call {event.provider_call_id}",
            )
    return kept


def _raw(payload: Any) -> dict[str, str]:
    raw = payload.get("raw") if isinstance(payload, Mapping) else None
    if not isinstance(raw, Mapping):
        return {}
    return {str(key): value for key, value in raw.items() if isinstance(value, str)}
