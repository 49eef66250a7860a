"""Downloading a recording from a provider: timeouts, a size cap, and only audio accepted.

A download lands in a spooled temporary file (memory up to a few MB, then disk), ready to be
handed to the store. Every failure is a `FetchFailed` whose `kind` tells the job how it
counts towards giving up (see `policy.retry_at`); its text never carries the URL's query,
which may hold a provider's access token.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import httpx

from ringtrail import __version__
from ringtrail.recordings.policy import (
    MAX_DOWNLOAD_SECONDS,
    MAX_RECORDING_BYTES,
    OCTET_STREAM,
    FailureKind,
    base_content_type,
    is_accepted_type,
    settle_content_type,
)

SPOOL_BYTES = 8 * 1024 * 1024
_RETRYABLE_STATUS = {408, 425, 429}


class FetchFailed(Exception):
    """A download that did not give usable audio; `kind` says whether to try again."""

    def __init__(self, message: str, kind: FailureKind, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class DownloadRequest:
    """What to GET for a recording: the URL, optional basic auth and extra headers."""

    url: str
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Download:
    """Downloaded audio: a file positioned at its start, its size and media type."""

    body: IO[bytes]
    size: int
    content_type: str

    def close(self) -> None:
        """Drop the temporary file."""
        self.body.close()


def make_http_client() -> httpx.Client:
    """The HTTP client downloads use: bounded timeouts, redirects followed (at most 5).

    httpx drops the Authorization header when a redirect leaves the origin, so a provider's
    credentials never reach the storage host it redirects to.
    """
    return httpx.Client(
        timeout=httpx.Timeout(30.0, connect=10.0),
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": f"Ringtrail/{__version__} (recording fetch)"},
    )


def describe_url(url: str) -> str:
    """The URL without its query or credentials, for error messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"[:300]


def download(
    http: httpx.Client,
    request: DownloadRequest,
    *,
    max_bytes: int = MAX_RECORDING_BYTES,
    max_seconds: float = MAX_DOWNLOAD_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Download:
    """GET the recording; raise FetchFailed unless it answers 2xx with audio under the caps."""
    where = describe_url(request.url)
    if urlsplit(request.url).scheme not in {"http", "https"}:
        raise FetchFailed(f"not an http(s) URL: {where}", FailureKind.PERMANENT)
    began = clock()
    try:
        with http.stream(
            "GET", request.url, auth=request.auth, headers=request.headers
        ) as response:
            _check_status(response, where)
            declared = base_content_type(response.headers.get("content-type")) or OCTET_STREAM
            if not is_accepted_type(declared):
                raise FetchFailed(
                    f"{where} answered {declared}, not audio", FailureKind.REJECTED, 200
                )
            announced = response.headers.get("content-length", "")
            if announced.isdigit() and int(announced) > max_bytes:
                raise FetchFailed(_too_large(max_bytes), FailureKind.PERMANENT)
            return _receive(response, declared, max_bytes, max_seconds, began, clock)
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"timed out fetching {where}", FailureKind.TRANSIENT) from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(
            f"{type(exc).__name__} fetching {where}: {exc}", FailureKind.TRANSIENT
        ) from exc


def _check_status(response: httpx.Response, where: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"HTTP {status} from {where}"
    if status >= 500 or status in _RETRYABLE_STATUS:
        raise FetchFailed(message, FailureKind.TRANSIENT, status)
    if 400 <= status < 500:
        raise FetchFailed(message, FailureKind.REJECTED, status)
    raise FetchFailed(message, FailureKind.TRANSIENT, status)  # a redirect loop, 1xx...


def _receive(
    response: httpx.Response,
    declared: str,
    max_bytes: int,
    max_seconds: float,
    began: float,
    clock: Callable[[], float],
) -> Download:
    body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    size = 0
    head = b""
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(_too_large(max_bytes), FailureKind.PERMANENT)
            if clock() - began > max_seconds:
                raise FetchFailed(
                    f"download took longer than {max_seconds:.0f} s", FailureKind.TRANSIENT
                )
            if len(head) < 16:
                head += chunk[:16]
            body.write(chunk)
        if size == 0:
            raise FetchFailed("the recording is empty", FailureKind.REJECTED, 200)
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return Download(body, size, settle_content_type(declared, head))


def _too_large(max_bytes: int) -> str:
    return f"the recording is larger than {max_bytes // (1024 * 1024)} MB"
