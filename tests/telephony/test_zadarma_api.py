"""Zadarma's REST API client against a local server that checks requests the way Zadarma does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from ringtrail.recordings.fetch import FetchFailed
from ringtrail.recordings.policy import FailureKind
from ringtrail.recordings.resolvers import ProviderAccount, resolver_for
from ringtrail.telephony.zadarma import recording_ref
from ringtrail.telephony.zadarma_api import (
    ZadarmaApi,
    ZadarmaApiError,
    ZadarmaRecordingResolver,
    auth_header,
    resolve_recording_url,
)

USER_KEY = "a1b2c3d4e5"
SECRET = "api_secret_for_tests"
LINK = "https://api.zadarma.com/v1/pbx/record/download/NjQ0MjQ/1768465800.3426958.mp3"


def expected_signature(path: str, query: dict[str, str]) -> str:
    """Zadarma's documented scheme, written out independently of the client."""
    params = "&".join(f"{k}={v}" for k, v in sorted(query.items()))  # test values need no escaping
    md5 = hashlib.md5(params.encode()).hexdigest()  # noqa: S324
    digest = hmac.new(SECRET.encode(), (path + params + md5).encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


class FakeZadarma(BaseHTTPRequestHandler):
    """Answers /v1/pbx/record/request/ like Zadarma: JSON, status success or error."""

    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        FakeZadarma.seen.append({"path": url.path, "query": query, "headers": dict(self.headers)})
        key, _, signature = self.headers.get("Authorization", "").partition(":")
        if key != USER_KEY or signature != expected_signature(url.path, query):
            self._answer(401, {"status": "error", "message": "Not authorized"})
        elif url.path != "/v1/pbx/record/request/":
            self._answer(404, {"status": "error", "message": "Method not found"})
        elif query.get("call_id") == "missing":
            self._answer(200, {"status": "error", "message": "Record not found"})
        elif query.get("call_id") == "garbage":
            self._send(200, b"<html>oops</html>", "text/html")
        elif "call_id" in query:
            self._answer(
                200, {"status": "success", "link": LINK, "lifetime_till": "2026-01-15 11:00:00"}
            )
        else:
            self._answer(200, {"status": "success", "links": [LINK, LINK + "?2"]})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeZadarma)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    FakeZadarma.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_auth_header_follows_the_documented_scheme() -> None:
    params = {"format": "json", "call_id": "1768465800.3426958", "pbx_call_id": "in_abc"}
    header = auth_header(USER_KEY, SECRET, "/v1/pbx/record/request/", params)
    assert header == f"{USER_KEY}:{expected_signature('/v1/pbx/record/request/', params)}"


def test_recording_link_is_requested_with_a_signed_get(server_url: str) -> None:
    with ZadarmaApi(USER_KEY, SECRET, base_url=server_url) as api:
        link = api.request_recording(call_id="1768465800.3426958", pbx_call_id="in_abc")
    assert link.url == LINK
    assert link.lifetime_till == "2026-01-15 11:00:00"
    [request] = FakeZadarma.seen
    assert request["query"] == {
        "call_id": "1768465800.3426958",
        "pbx_call_id": "in_abc",
        "format": "json",
    }


def test_lifetime_is_sent_and_bounded(server_url: str) -> None:
    with ZadarmaApi(USER_KEY, SECRET, base_url=server_url) as api:
        api.request_recording(call_id="1768465800.3426958", lifetime=3600)
        with pytest.raises(ValueError):
            api.request_recording(call_id="1768465800.3426958", lifetime=10)
    assert FakeZadarma.seen[0]["query"]["lifetime"] == "3600"


def test_pbx_call_id_alone_takes_the_first_of_its_links(server_url: str) -> None:
    with ZadarmaApi(USER_KEY, SECRET, base_url=server_url) as api:
        assert api.request_recording(pbx_call_id="in_abc").url == LINK


def test_a_reference_from_a_webhook_resolves_to_the_link(server_url: str) -> None:
    with ZadarmaApi(USER_KEY, SECRET, base_url=server_url) as api:
        url = resolve_recording_url(recording_ref("in_abc", "1768465800.3426958"), api)
    assert url == LINK


def test_wrong_secret_is_an_api_error(server_url: str) -> None:
    with (
        ZadarmaApi(USER_KEY, "wrong", base_url=server_url) as api,
        pytest.raises(ZadarmaApiError, match="Not authorized") as caught,
    ):
        api.request_recording(call_id="1768465800.3426958")
    assert caught.value.status_code == 401


@pytest.mark.parametrize(
    ("call_id", "reason"), [("missing", "Record not found"), ("garbage", "JSON")]
)
def test_error_answers_are_api_errors(server_url: str, call_id: str, reason: str) -> None:
    with (
        ZadarmaApi(USER_KEY, SECRET, base_url=server_url) as api,
        pytest.raises(ZadarmaApiError, match=reason),
    ):
        api.request_recording(call_id=call_id)


def test_unreachable_api_is_an_api_error() -> None:
    with (
        ZadarmaApi(USER_KEY, SECRET, base_url="http://127.0.0.1:9", timeout=2) as api,
        pytest.raises(ZadarmaApiError, match="unreachable"),
    ):
        api.request_recording(call_id="1768465800.3426958")


def test_a_request_needs_an_id() -> None:
    with ZadarmaApi(USER_KEY, SECRET) as api, pytest.raises(ValueError):
        api.request_recording()


def account() -> ProviderAccount:
    return ProviderAccount(account_ref=USER_KEY, secret=SECRET)


def test_resolver_exchanges_a_reference_for_a_fresh_link(server_url: str) -> None:
    reference = recording_ref("in_abc", "1768465800.3426958")
    with httpx.Client() as http:
        request = ZadarmaRecordingResolver(server_url).resolve(reference, account(), http)
    assert request.url == LINK
    assert request.auth is None


def test_resolver_downloads_plain_links_as_they_are() -> None:
    with httpx.Client() as http:
        request = ZadarmaRecordingResolver().resolve(LINK, None, http)
    assert request.url == LINK


@pytest.mark.parametrize(
    ("reference", "credentials", "kind"),
    [
        ("zadarma-record:broken", account(), FailureKind.PERMANENT),
        (recording_ref("in_abc", "1.2"), None, FailureKind.REJECTED),
        (
            recording_ref("in_abc", "1.2"),
            ProviderAccount(account_ref=None, secret=SECRET),
            FailureKind.REJECTED,
        ),
    ],
)
def test_resolver_refuses_what_it_cannot_resolve(
    reference: str, credentials: ProviderAccount | None, kind: FailureKind
) -> None:
    with httpx.Client() as http, pytest.raises(FetchFailed) as caught:
        ZadarmaRecordingResolver().resolve(reference, credentials, http)
    assert caught.value.kind is kind


@pytest.mark.parametrize(
    ("call_id", "secret", "kind"),
    [
        ("missing", SECRET, FailureKind.TRANSIENT),  # not saved yet: try again later
        ("1768465800.3426958", "wrong", FailureKind.REJECTED),  # 401
    ],
)
def test_resolver_failures_say_whether_to_wait(
    server_url: str, call_id: str, secret: str, kind: FailureKind
) -> None:
    credentials = ProviderAccount(account_ref=USER_KEY, secret=secret)
    resolver = ZadarmaRecordingResolver(server_url)
    with httpx.Client() as http, pytest.raises(FetchFailed) as caught:
        resolver.resolve(recording_ref("in_abc", call_id), credentials, http)
    assert caught.value.kind is kind


def test_zadarma_recordings_are_resolved_by_this_resolver() -> None:
    assert isinstance(resolver_for("zadarma"), ZadarmaRecordingResolver)
