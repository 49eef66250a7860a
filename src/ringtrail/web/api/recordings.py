"""/api/v1/projects/{id}/calls/{call_id}/recording: a signed link to a call's audio, and upload.

GET answers a short-lived signed link (`RINGTRAIL_RECORDING_URL_TTL_SECONDS`) to members who
may view calls; the link itself needs no key (see `web/recordings.py`). PUT stores audio sent
in the body (for providers that push files instead of offering a URL) as the call's recording.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import IO

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.roles import Permission
from ringtrail.recordings.library import (
    LinkedRecording,
    call_in_project,
    link_to_recording,
    save_upload,
)
from ringtrail.recordings.links import issue_link
from ringtrail.recordings.policy import MAX_RECORDING_BYTES, base_content_type, is_accepted_type
from ringtrail.recordings.storage import StoreUnavailable
from ringtrail.storage.models.base import utcnow
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ItemId, ProjectId
from ringtrail.web.api.schemas import Output
from ringtrail.web.deps import DbSession, get_runtime
from ringtrail.web.recordings import get_recording_store, recording_url, store_unavailable

router = APIRouter(prefix="/projects/{project_id}/calls/{call_id}/recording", tags=["recordings"])
SPOOL_BYTES = 8 * 1024 * 1024


class RecordingLinkOut(Output):
    recording_id: int
    url: str
    expires_at: datetime
    status: str
    duration_seconds: int | None
    content_type: str | None
    size_bytes: int | None


def _answer(request: Request, linked: LinkedRecording) -> RecordingLinkOut:
    recording = linked.recording
    return RecordingLinkOut(
        recording_id=recording.id,
        url=recording_url(request, linked.link.token),
        expires_at=linked.link.expires_at,
        status=recording.status,
        duration_seconds=recording.duration_seconds,
        content_type=recording.content_type,
        size_bytes=recording.size_bytes,
    )


@router.get("", response_model=RecordingLinkOut)
def read(
    project_id: ProjectId, call_id: ItemId, request: Request, db: DbSession, principal: Principal
) -> RecordingLinkOut:
    """A signed, short-lived link to the call's audio; 404 (with the reason) when none is stored."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    settings = get_runtime(request).settings
    linked = link_to_recording(
        db,
        project,
        call_id,
        settings.resolved_secret_key(),
        settings.recording_url_ttl_seconds,
        utcnow(),
    )
    return _answer(request, linked)


async def _receive_body(request: Request, limit: int) -> IO[bytes]:
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the recording is too large")
    body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the recording is too large")
            await run_in_threadpool(body.write, chunk)
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body


@router.put("", response_model=RecordingLinkOut, status_code=status.HTTP_201_CREATED)
async def upload(
    project_id: ProjectId, call_id: ItemId, request: Request, db: DbSession, principal: Principal
) -> RecordingLinkOut:
    """Store the request body (`Content-Type: audio/*`) as the call's recording.

    Replaces audio stored before; needs a key that may manage tracking (an integration's key).
    """
    project = await run_in_threadpool(
        load_project, db, principal, project_id, Permission.MANAGE_TRACKING
    )
    content_type = base_content_type(request.headers.get("content-type"))
    if not is_accepted_type(content_type):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send the audio as the body with Content-Type audio/* or application/octet-stream",
        )
    await run_in_threadpool(call_in_project, db, project, call_id)  # 404 before a long upload
    body = await _receive_body(request, MAX_RECORDING_BYTES)
    now = utcnow()
    store = get_recording_store(request)
    try:
        recording = await run_in_threadpool(
            save_upload, db, store, project, call_id, body, content_type, now
        )
    except StoreUnavailable as exc:
        raise store_unavailable(exc) from exc
    finally:
        body.close()
    settings = get_runtime(request).settings
    link = issue_link(
        settings.resolved_secret_key(), recording.id, now, settings.recording_url_ttl_seconds
    )
    return _answer(request, LinkedRecording(recording, link))
