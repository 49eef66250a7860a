"""A call's transcript on its page: speakers and timestamps beside the audio player, where
it stands (waiting, transcribing with its progress, failed with the reason) and a button to
try again; and the speech engine's state in words for the set-up page.

The call page (calls_log) adds `transcript_context` to its template context; the retry form
posts here and comes back to the call.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.services.errors import Conflict, NotFound
from ringtrail.services.reports.model import N_
from ringtrail.services.transcripts import (
    TranscriptSource,
    TranscriptStatus,
    queue_counts,
    retry_transcript,
    transcript_of,
    view_of,
)
from ringtrail.settings import Settings
from ringtrail.speech.engine import EngineState
from ringtrail.speech.factory import engine_state
from ringtrail.storage.models import Project
from ringtrail.storage.models.base import utcnow
from ringtrail.web.dashboard.errors import PageNotFound
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.deps import DbSession

router = dashboard_router()
CallId = Annotated[int, Path(ge=1, le=2**63 - 1)]

TRANSCRIPT_STATUS_LABELS = {
    TranscriptStatus.PENDING: N_("Waiting to be transcribed"),
    TranscriptStatus.RUNNING: N_("Transcribing"),
    TranscriptStatus.DONE: N_("Transcribed"),
    TranscriptStatus.FAILED: N_("Transcription failed"),
    TranscriptStatus.CLEARED: N_("Deleted after the project's transcript retention period"),
}
SPEAKER_LABELS = {
    "caller": N_("Caller"),
    "business": N_("Business"),
    "mixed": N_("Both sides"),
}


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss) for a transcript line."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def transcript_context(db: Session, project: Project, call_id: int) -> dict[str, Any]:
    """What call.html needs to show the call's transcript (None when it has none)."""
    row = transcript_of(db, call_id)
    view = view_of(row) if row is not None else None
    may_retry = view is not None and (
        (
            view.source == TranscriptSource.LOCAL
            and view.status in (TranscriptStatus.FAILED, TranscriptStatus.DONE)
        )
        or (view.status == TranscriptStatus.PENDING and view.error is not None)
    )
    return {
        "transcript": view,
        "transcript_may_retry": may_retry,
        "transcript_status_labels": TRANSCRIPT_STATUS_LABELS,
        "speaker_labels": SPEAKER_LABELS,
        "transcript_clock": clock,
    }


def speech_engine_line(settings: Settings) -> EngineState:
    """The speech engine's state for the set-up page: whether the model is installed (the
    web process does not load it; a model that is there but broken shows on the calls)."""
    return engine_state(settings, load=False)


def speech_context(db: Session, settings: Settings, project_id: int) -> dict[str, Any]:
    """The set-up page's speech-to-text card: the engine's state and the project's queue."""
    return {
        "speech": speech_engine_line(settings),
        "transcript_counts": queue_counts(db, project_id),
    }


@router.post("/p/{project_id}/calls/{call_id}/transcript/retry")
def post_retry(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId, call_id: CallId
) -> Response:
    """Transcribe the call's recording again now; back to the call's transcript."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    try:
        retry_transcript(db, opened.project, call_id, utcnow())
    except NotFound as exc:
        raise PageNotFound() from exc
    except Conflict:
        db.rollback()  # already running, or imported: the page says which
    return see_other(f"/p/{project_id}/calls/{call_id}#transcript")
