"""What follows a demo call: provider events, recordings, the sales team's marks, tags, notes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.audio import DEMO_RECORDING_KEY, demo_recording_wav
from ringtrail.demo.calls import PlannedCall
from ringtrail.demo.ids import bulk_insert
from ringtrail.demo.setup import Frame
from ringtrail.storage.models import CallComment, CallEvent, CallScore, CallTag, Recording

RETENTION = timedelta(days=365)
DEMO_RECORDING_BYTES = len(demo_recording_wav())
TOPIC_TAGS = (("price question", 0.5), ("booking", 0.3), ("mortgage", 0.2))


def judge_calls(rng: random.Random, calls: list[PlannedCall], now: datetime) -> None:
    """The sales user marks most settled calls as target or not, as a person would."""
    for call in calls:
        if call.is_spam:
            truth = False
        elif call.status != "answered":
            continue
        elif call.talk_seconds >= 45:
            truth = rng.random() < 0.9
        else:
            truth = rng.random() < 0.2
        marked_at = call.ended_at + timedelta(minutes=rng.randint(20, 20 * 60))
        if marked_at < now and rng.random() < 0.8:
            call.is_target, call.marked_at = truth, marked_at


def _events(call: PlannedCall, project_id: int) -> list[dict[str, Any]]:
    key = f"demo:{call.id}"
    moments = [("ringing", call.started_at)]
    if call.answered_at is not None:
        moments.append(("answered", call.answered_at))
    moments.append(({"answered": "completed"}.get(call.status, call.status), call.ended_at))
    if call.status == "answered":
        moments.append(("recording_ready", call.ended_at + timedelta(seconds=20)))
    return [
        {
            "project_id": project_id,
            "call_id": call.id,
            "provider": "demo",
            "dedupe_key": f"{key}:{event}",
            "event_type": event,
            "occurred_at": moment,
            "received_at": moment + timedelta(seconds=1),
            "payload": {"event": event, "from": call.caller, "to": call.number.e164},
        }
        for event, moment in moments
    ]


def store_followups(
    db: Session, rng: random.Random, calls: list[PlannedCall], frame: Frame, now: datetime
) -> dict[str, int]:
    """Insert events, recordings, tags, scores and comments; returns the count of each."""
    events: list[dict[str, Any]] = []
    recordings: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    sales = frame.user_ids["sales"]
    for call in calls:
        events.extend(_events(call, frame.project_id))
        if call.status == "answered":
            fetched = call.ended_at + timedelta(minutes=1)
            recordings.append(
                {
                    "call_id": call.id,
                    "provider_url": None,
                    "storage_key": DEMO_RECORDING_KEY,
                    "status": "stored",
                    "content_type": "audio/wav",
                    "size_bytes": DEMO_RECORDING_BYTES,
                    "duration_seconds": call.talk_seconds,
                    "attempts": 1,
                    "fetched_at": fetched,
                    "delete_after": fetched + RETENTION,
                    "created_at": call.ended_at,
                }
            )
        names: set[str] = set()
        if call.is_spam:
            names.add("spam")
        elif call.status == "answered" and rng.random() < 0.5:
            if call.topic == "rent":
                names.add("rent")
            names.add(rng.choices(TOPIC_TAGS, weights=[w for _, w in TOPIC_TAGS])[0][0])
        tags.extend({"call_id": call.id, "tag_id": frame.tag_ids[name]} for name in sorted(names))
        if call.marked_at is not None:
            scores.append(
                {
                    "call_id": call.id,
                    "scored_by": "user",
                    "user_id": sales,
                    "label": "target" if call.is_target else "not_target",
                    "score": 1.0 if call.is_target else 0.0,
                    "model_version": None,
                    "created_at": call.marked_at,
                }
            )
            if call.is_target and rng.random() < 0.12:
                comments.append(
                    {
                        "call_id": call.id,
                        "user_id": sales,
                        "body": rng.choice(catalog.COMMENTS),
                        "created_at": call.marked_at,
                    }
                )
    for model, rows in (
        (CallEvent, events),
        (Recording, recordings),
        (CallTag, tags),
        (CallScore, scores),
        (CallComment, comments),
    ):
        bulk_insert(db, model, rows)
    return {
        "call_events": len(events),
        "recordings": len(recordings),
        "call_tags": len(tags),
        "call_scores": len(scores),
        "call_comments": len(comments),
    }
