"""Downloading a recording from a provider: allowed hosts and addresses only, time limits,
a size cap, and only audio accepted.

Redirects are followed here, one hop at a time (at most `MAX_REDIRECTS`), each hop checked
against the call's `RecordingHosts` before it is requested; the transport (`transport.py`)
checks the address every connection goes to. A download lands in a spooled temporary file
(memory up to a few MB, then disk), ready to be handed to the store. Every failure is a
`FetchFailed` whose `kind` tells the job how it counts towards giving up (see
`policy.retry_at`); a refusal is permanent. Its text never carries the URL's query, which may
hold a provider's access token.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import httpx

from ringtrail import __version__
from ringtrail.recordings.addresses import AddressRefused, AddressRules, IPNetwork
from ringtrail.recordings.hosts import RecordingHosts
from ringtrail.recordings.policy import (
    MAX_DOWNLOAD_SECONDS,
    MAX_RECORDING_BYTES,
    OCTET_STREAM,
    FailureKind,
    base_content_type,
    is_accepted_type,
    settle_content_type,
)
from ringtrail.recordings.transport import GuardedTransport, Resolver, time_is_up, time_limit

SPOOL_BYTES = 8 * 1024 * 1024
_RETRYABLE_STATUS = {408, 425, 429}
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 30.0


class FetchFailed(Exception):
    """A download that did not give usable audio; `kind` says whether to try again."""

    def __init__(self, message: str, kind: FailureKind, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


LINK_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
"""How a provider's storage answers a short-lived link that has run out."""


@dataclass(frozen=True)
class DownloadRequest:
    """What to GET for a recording: the URL, optional basic auth and extra headers.

    `renew`, for a short-lived link a provider's API gave, asks the API for a fresh one:
    `download_renewing` calls it once when the link answers as an expired one does.
    """

    url: str
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    renew: Callable[[], DownloadRequest] | None = field(default=None, compare=False)


@dataclass
class Download:
    """Downloaded audio: a file positioned at its start, its size and media type."""

    body: IO[bytes]
    size: int
    content_type: str

    def close(self) -> None:
        """Drop the temporary file."""
        self.body.close()


def make_http_client(
    allowed_networks: Iterable[IPNetwork] = (), *, resolve: Resolver | None = None
) -> httpx.Client:
    """The HTTP client downloads use: public addresses only, plus `allowed_networks`.

    Connect timeout 10 s, 30 s at most without data; redirects are not followed by the
    client but by `download`, which checks every hop. No proxy is taken from the environment.
    """
    return httpx.Client(
        transport=GuardedTransport(AddressRules.allowing(allowed_networks), resolve),
        timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        follow_redirects=False,
        trust_env=False,
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
    hosts: RecordingHosts,
    max_bytes: int = MAX_RECORDING_BYTES,
    max_seconds: float = MAX_DOWNLOAD_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Download:
    """GET the recording; raise FetchFailed unless it answers 2xx with audio under the caps.

    `http` must be a client from `make_http_client`: only its transport checks addresses.
    """
    where = describe_url(request.url)
    began = clock()
    try:
        with time_limit(max_seconds):
            return _follow(http, request, hosts, max_bytes, max_seconds, began, clock)
    except AddressRefused as exc:
        raise FetchFailed(f"refused: {exc}", FailureKind.PERMANENT) from None
    except httpx.InvalidURL as exc:
        raise FetchFailed(f"not a usable URL: {exc}", FailureKind.PERMANENT) from None
    except httpx.TimeoutException as exc:
        if time_is_up() or clock() - began >= max_seconds:
            raise FetchFailed(_too_slow(max_seconds), FailureKind.TRANSIENT) from exc
        raise FetchFailed(f"timed out fetching {where}", FailureKind.TRANSIENT) from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(
            f"{type(exc).__name__} fetching {where}: {exc}", FailureKind.TRANSIENT
        ) from exc


def download_renewing(
    http: httpx.Client, request: DownloadRequest, *, hosts: RecordingHosts
) -> Download:
    """`download`, asking once for a fresh link when a renewable one answers as expired."""
    try:
        return download(http, request, hosts=hosts)
    except FetchFailed as exc:
        if request.renew is None or exc.status not in LINK_EXPIRED_STATUSES:
            raise
    return download(http, request.renew(), hosts=hosts)


def _follow(
    http: httpx.Client,
    request: DownloadRequest,
    hosts: RecordingHosts,
    max_bytes: int,
    max_seconds: float,
    began: float,
    clock: Callable[[], float],
) -> Download:
    # httpx builds each redirect's request and drops the Authorization header when it leaves
    # the origin, so a provider's credentials never reach the storage host it redirects to.
    outgoing = http.build_request("GET", request.url, headers=request.headers)
    auth = request.auth
    for hop in range(MAX_REDIRECTS + 1):
        _check_hop(outgoing.url, hosts, redirected=hop > 0)
        response = http.send(outgoing, auth=auth, stream=True)
        try:
            if response.next_request is None:
                return _accept(response, max_bytes, max_seconds, began, clock)
            outgoing = response.next_request
        finally:
            response.close()
        auth = None  # the redirect's request already carries what may go along
    where = describe_url(request.url)
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects from {where}", FailureKind.REJECTED)


def _check_hop(url: httpx.URL, hosts: RecordingHosts, *, redirected: bool) -> None:
    where = describe_url(str(url))
    if url.scheme not in {"http", "https"}:
        raise FetchFailed(f"not an http(s) URL: {where}", FailureKind.PERMANENT)
    if not hosts.allows(url.host, redirected=redirected):
        refusal = hosts.refusal(url.host)
        if redirected:
            refusal = f"{refusal}; reached by a redirect"
        raise FetchFailed(refusal, FailureKind.PERMANENT)


def _accept(
    response: httpx.Response,
    max_bytes: int,
    max_seconds: float,
    began: float,
    clock: Callable[[], float],
) -> Download:
    where = describe_url(str(response.url))
    _check_status(response, where)
    declared = base_content_type(response.headers.get("content-type")) or OCTET_STREAM
    if not is_accepted_type(declared):
        raise FetchFailed(f"{where} answered {declared}, not audio", FailureKind.REJECTED, 200)
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise FetchFailed(_too_large(max_bytes), FailureKind.PERMANENT)
    return _receive(response, declared, max_bytes, max_seconds, began, clock)


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
                raise FetchFailed(_too_slow(max_seconds), FailureKind.TRANSIENT)
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


def _too_slow(max_seconds: float) -> str:
    return f"download took longer than {max_seconds:.0f} s"


def _too_large(max_bytes: int) -> str:
    return f"the recording is larger than {max_bytes // (1024 * 1024)} MB"
