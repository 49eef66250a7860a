"""Downloading from a provider's media host, and the per-provider resolvers (Twilio)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from ringtrail.recordings.fetch import DownloadRequest, FetchFailed, download, make_http_client
from ringtrail.recordings.policy import FailureKind
from ringtrail.recordings.resolvers import (
    PlainResolver,
    ProviderAccount,
    TwilioResolver,
    resolver_for,
)
from tests.recordings.audio_server import AudioServer, Reply, running_audio_server
from tests.recordings.rows import AUDIO

TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE456"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_http_client() as client:
        yield client


def fetch(http: httpx.Client, url: str, **kwargs: object) -> bytes:
    audio = download(http, DownloadRequest(url), **kwargs)  # type: ignore[arg-type]
    try:
        assert audio.size == len(AUDIO)
        return audio.body.read()
    finally:
        audio.close()


def failure(http: httpx.Client, url: str, **kwargs: object) -> FetchFailed:
    with pytest.raises(FetchFailed) as caught:
        download(http, DownloadRequest(url), **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_audio_is_downloaded_whole(audio_server: AudioServer, http: httpx.Client) -> None:
    url = audio_server.script("/rec.mp3", Reply(body=AUDIO))
    assert fetch(http, url) == AUDIO


def test_generic_bytes_get_the_type_their_content_shows(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/rec", Reply(body=AUDIO, content_type="application/octet-stream"))
    audio = download(http, DownloadRequest(url))
    assert audio.content_type == "audio/mpeg"
    audio.close()


def test_a_web_page_is_not_taken_for_audio(audio_server: AudioServer, http: httpx.Client) -> None:
    url = audio_server.script("/login", Reply(body=b"<html>", content_type="text/html"))
    refused = failure(http, url)
    assert refused.kind is FailureKind.REJECTED
    assert "text/html, not audio" in str(refused)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, FailureKind.TRANSIENT),
        (503, FailureKind.TRANSIENT),
        (429, FailureKind.TRANSIENT),
        (404, FailureKind.REJECTED),
        (403, FailureKind.REJECTED),
    ],
)
def test_status_codes_decide_whether_waiting_may_help(
    audio_server: AudioServer, http: httpx.Client, status: int, kind: FailureKind
) -> None:
    url = audio_server.script("/rec", Reply(status, b"no", "text/plain"))
    refused = failure(http, url)
    assert (refused.kind, refused.status) == (kind, status)
    assert f"HTTP {status}" in str(refused)


def test_a_recording_over_the_size_cap_fails_for_good(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/big", Reply(body=AUDIO))
    refused = failure(http, url, max_bytes=1000)
    assert refused.kind is FailureKind.PERMANENT


def test_an_empty_body_is_refused(audio_server: AudioServer, http: httpx.Client) -> None:
    url = audio_server.script("/empty", Reply(body=b""))
    assert failure(http, url).kind is FailureKind.REJECTED


def test_an_unreachable_host_is_worth_retrying(http: httpx.Client) -> None:
    with running_audio_server() as server:
        url = server.url("/gone")
    refused = failure(http, url)
    assert refused.kind is FailureKind.TRANSIENT


def test_errors_never_show_the_query_string(audio_server: AudioServer, http: httpx.Client) -> None:
    audio_server.script("/rec", Reply(500, b"", "text/plain"))
    refused = failure(http, audio_server.url("/rec?X-Amz-Signature=secret-token"))
    assert "secret-token" not in str(refused) and "/rec" in str(refused)


def test_only_http_urls_are_fetched(http: httpx.Client) -> None:
    assert failure(http, "file:///etc/passwd").kind is FailureKind.PERMANENT


def test_credentials_are_dropped_when_a_redirect_leaves_the_host(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    with running_audio_server() as storage:
        final = storage.script("/signed.mp3", Reply(body=AUDIO))
        audio_server.script("/rec", Reply(302, b"", None, {"Location": final}))
        request = DownloadRequest(audio_server.url("/rec"), auth=("AC123", "token"))
        audio = download(http, request)
        audio.close()
        assert audio_server.seen[0].authorization is not None
        assert storage.seen[0].authorization is None


def twilio(url: str = TWILIO_URL, **config: str) -> DownloadRequest:
    account = ProviderAccount("AC123", "auth-token", config)
    with make_http_client() as http:
        return TwilioResolver().resolve(url, account, http)


def test_twilio_recordings_are_fetched_as_mp3_with_basic_auth() -> None:
    request = twilio()
    assert request.url == TWILIO_URL + ".mp3"
    assert request.auth == ("AC123", "auth-token")


def test_twilio_format_follows_the_account_and_an_extension_is_kept() -> None:
    assert twilio(recording_format="wav").url == TWILIO_URL + ".wav"
    assert twilio(TWILIO_URL + ".wav").url == TWILIO_URL + ".wav"
    assert twilio(recording_format="flac").url == TWILIO_URL + ".mp3"


def test_twilio_credentials_never_go_to_another_host() -> None:
    with pytest.raises(FetchFailed) as caught:
        twilio("https://evil.example/Recordings/RE456")
    assert caught.value.kind is FailureKind.PERMANENT


def test_twilio_without_an_account_fetches_without_credentials() -> None:
    with make_http_client() as http:
        request = TwilioResolver().resolve(TWILIO_URL, None, http)
    assert request.auth is None


def test_the_registry_picks_by_provider_and_defaults_to_a_plain_get() -> None:
    assert isinstance(resolver_for("twilio"), TwilioResolver)
    assert isinstance(resolver_for("binotel"), PlainResolver)


def test_basic_auth_reaches_the_host_as_twilio_expects(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/rec.mp3", Reply(body=AUDIO))
    audio = download(http, DownloadRequest(url, auth=("AC123", "auth-token")))
    audio.close()
    expected = base64.b64encode(b"AC123:auth-token").decode()
    assert audio_server.seen[0].authorization == f"Basic {expected}"
