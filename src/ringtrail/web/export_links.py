"""Recording links for exports: absolute signed URLs a browser opens without signing in.

The dashboard's and the API's CSV/XLSX exports put one of these in a call's recording
column instead of the API path (which answers 401 to a browser). The URL is under
RINGTRAIL_PUBLIC_URL when set, else the address the request came to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import Request
from sqlalchemy.orm import Session

from ringtrail.recordings.export_links import recording_tokens
from ringtrail.storage.models.base import utcnow
from ringtrail.web.deps import get_runtime
from ringtrail.web.recordings import recording_url

RecordingLinks = Callable[[Iterable[int]], dict[int, str]]
"""Call ids -> the signed URL of each one's stored recording (calls without one left out)."""


def recording_links(request: Request, db: Session) -> RecordingLinks:
    """Signed recording URLs for a batch of calls (the caller checked they are the project's)."""
    settings = get_runtime(request).settings
    secret = settings.resolved_secret_key()
    ttl = settings.recording_url_ttl_seconds

    def links(call_ids: Iterable[int]) -> dict[int, str]:
        tokens = recording_tokens(db, call_ids, secret, ttl, utcnow())
        return {call_id: recording_url(request, token) for call_id, token in tokens.items()}

    return links
