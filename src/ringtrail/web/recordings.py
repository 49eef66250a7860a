"""GET /recordings/{token}: streams a recording to whoever holds a valid signed link.

No session or API key: the signature and expiry are the authorisation (the API hands links
only to the call's project members). A forged or altered link is 403, an expired one 410,
audio deleted since (retention) 404. A single byte range (`Range: bytes=a-b`, `a-`, `-n`) is
answered with 206, so audio players can seek; several ranges get the whole file.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.responses import StreamingResponse

from ringtrail.recordings.factory import make_store
from ringtrail.recordings.library import stored_recording
from ringtrail.recordings.links import LinkExpired, LinkInvalid, verify_link
from ringtrail.recordings.policy import OCTET_STREAM, extension_for
from ringtrail.recordings.storage import RecordingMissing, RecordingStore, StoreUnavailable
from ringtrail.storage.models.base import utcnow
from ringtrail.web.deps import DbSession, get_runtime

log = logging.getLogger(__name__)

router = APIRouter(tags=["recordings"])
STREAM_ROUTE = "stream_recording"
Token = Annotated[str, Path(max_length=120)]


class RangeNotSatisfiable(ValueError):
    """The requested range starts beyond the end of the file."""


def get_recording_store(request: Request) -> RecordingStore:
    """The app's recording store, built from settings on first use and kept on the app."""
    store: RecordingStore | None = getattr(request.app.state, "recording_store", None)
    if store is None:
        try:
            store = make_store(get_runtime(request).settings)
        except StoreUnavailable as exc:
            raise store_unavailable(exc) from exc
        request.app.state.recording_store = store
    return store


def store_unavailable(exc: StoreUnavailable) -> HTTPException:
    """503 saying the recording store cannot be used; why (a path, an endpoint) goes to the log."""
    log.warning("recording storage unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "recording storage unavailable; retry later",
        headers={"Retry-After": "30"},
    )


def recording_url(request: Request, token: str) -> str:
    """The absolute URL of a signed link: under RINGTRAIL_PUBLIC_URL when set."""
    configured = get_runtime(request).settings.public_url
    if configured:
        return f"{configured.rstrip('/')}/recordings/{token}"
    return str(request.url_for(STREAM_ROUTE, token=token))


def parse_byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single range request, or None to send the whole file.

    A malformed header or several ranges are ignored (the whole file is sent, as RFC 9110
    allows); a range that starts past the end raises RangeNotSatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(int(last) if last else size - 1, size - 1)


@router.api_route(
    "/recordings/{token}", methods=["GET", "HEAD"], name=STREAM_ROUTE, include_in_schema=False
)
def stream_recording(token: Token, request: Request, db: DbSession) -> Response:
    """The audio of the recording the link names (whole, or one byte range)."""
    settings = get_runtime(request).settings
    try:
        recording_id = verify_link(settings.resolved_secret_key(), token, utcnow())
    except LinkExpired as exc:
        raise HTTPException(status.HTTP_410_GONE, str(exc)) from exc
    except LinkInvalid as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    recording = stored_recording(db, recording_id)
    key = recording.storage_key or ""
    store = get_recording_store(request)
    try:
        found = store.stat(key)
    except StoreUnavailable as exc:
        raise store_unavailable(exc) from exc
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the recording is no longer stored")
    content_type = recording.content_type or OCTET_STREAM
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "Content-Disposition": (
            f'inline; filename="call-{recording.call_id}{extension_for(content_type)}"'
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    try:
        wanted = parse_byte_range(request.headers.get("range"), found.size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{found.size}"
        return Response(status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE, headers=headers)
    start, end = wanted or (0, found.size - 1)
    code = status.HTTP_200_OK
    if wanted is not None:
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end}/{found.size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        return Response(status_code=code, headers=headers, media_type=content_type)
    try:
        chunks = store.open(key, start, end - start + 1)
    except RecordingMissing as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the recording is no longer stored") from exc
    except StoreUnavailable as exc:
        raise store_unavailable(exc) from exc
    return StreamingResponse(chunks, status_code=code, headers=headers, media_type=content_type)
