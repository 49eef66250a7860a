"""/api/v1/projects/{id}/calls/{call_id}/transcript: read a call's transcript, import one a
provider made, and ask for another try.

GET answers the transcript with its status (pending, running, done, failed), progress and
last error, to members who may view calls. PUT stores a provider's transcript (keys that may
manage tracking, like recording uploads):

    {"provider": "binotel", "language": "uk",
     "segments": [{"speaker": "caller", "start": 0.0, "end": 2.4, "text": "Добрий день"},
                  {"speaker": "business", "start": 2.6, "end": 4.0, "text": "Слухаю вас"}]}

`start` and `end` are seconds from the start of the recording; `speaker` is free text
(`caller`, `business` or the provider's own label, up to 40 characters); `language` is
optional. An import replaces any transcript of the call and is never overwritten by this
server's engine; sending the same transcript again changes nothing (200 instead of 201).
POST .../retry queues the call's stored recording for transcription again (sales and up).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import Field

from ringtrail.domain.roles import Permission
from ringtrail.services.transcripts import (
    MAX_SEGMENT_CHARS,
    MAX_SEGMENTS,
    MAX_SPEAKER_CHARS,
    ImportedTranscript,
    TranscriptView,
    get_transcript,
    import_transcript,
    retry_transcript,
)
from ringtrail.speech.engine import Segment
from ringtrail.storage.models.base import utcnow
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/calls/{call_id}/transcript", tags=["calls"])


class SegmentIn(StrictInput):
    speaker: str = Field(default="", max_length=MAX_SPEAKER_CHARS)
    start: float = Field(ge=0, le=24 * 3600, description="Seconds from the recording's start")
    end: float = Field(ge=0, le=24 * 3600, description="Seconds from the recording's start")
    text: str = Field(min_length=1, max_length=MAX_SEGMENT_CHARS)


class TranscriptIn(StrictInput):
    """A transcript made by a provider."""

    provider: str = Field(default="provider", min_length=1, max_length=39)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    segments: list[SegmentIn] = Field(min_length=1, max_length=MAX_SEGMENTS)


class SegmentOut(Output):
    speaker: str
    start: float
    end: float
    text: str


class TranscriptOut(Output):
    call_id: int
    recording_id: int | None
    status: str = Field(description="pending, running, done or failed")
    progress: float = Field(description="Share of the audio transcribed, 0..1")
    attempts: int
    next_attempt_at: datetime | None
    error: str | None = Field(description="Why the last try failed, in words")
    engine: str | None = Field(description="faster-whisper, or provider:<name> for an import")
    model: str | None
    language: str | None
    source: str = Field(description="local (this server) or provider (imported)")
    segments: list[SegmentOut]
    text: str
    updated_at: datetime | None


def _out(view: TranscriptView) -> TranscriptOut:
    return TranscriptOut(
        call_id=view.call_id,
        recording_id=view.recording_id,
        status=view.status,
        progress=view.progress,
        attempts=view.attempts,
        next_attempt_at=view.next_attempt_at,
        error=view.error,
        engine=view.engine,
        model=view.model,
        language=view.language,
        source=view.source,
        segments=[SegmentOut(**s.as_json()) for s in view.segments],
        text=view.text,
        updated_at=view.updated_at,
    )


@router.get("", response_model=TranscriptOut)
def read(
    project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal
) -> TranscriptOut:
    """The call's transcript and where it stands; 404 (saying why) when there is none yet."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return _out(get_transcript(db, project, call_id))


@router.put("", response_model=TranscriptOut, status_code=status.HTTP_201_CREATED)
def put(
    project_id: ProjectId,
    call_id: ItemId,
    body: TranscriptIn,
    response: Response,
    db: DbSession,
    principal: Principal,
) -> TranscriptOut:
    """Store a transcript a provider made (replacing any); 200 when it was already stored."""
    project = load_project(db, principal, project_id, Permission.MANAGE_TRACKING)
    segments = tuple(Segment(s.speaker, s.start, s.end, s.text) for s in body.segments)
    value = ImportedTranscript(segments, body.language, body.provider)
    view, changed = import_transcript(db, project, call_id, value, utcnow())
    if not changed:
        response.status_code = status.HTTP_200_OK
    return _out(view)


@router.post("/retry", response_model=TranscriptOut)
def retry(
    project_id: ProjectId, call_id: ItemId, db: DbSession, principal: Principal
) -> TranscriptOut:
    """Transcribe the call's stored recording again now (after a failure, or to redo it).
    409 while it is being transcribed or when the transcript came from a provider."""
    project = load_project(db, principal, project_id, Permission.MARK_CALLS)
    return _out(retry_transcript(db, project, call_id, utcnow()))
