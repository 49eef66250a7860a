"""Downloading from a provider's media host: limits, redirects, the addresses and hosts a
download may reach; and the per-provider resolvers (Twilio)."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from ipaddress import ip_network
from typing import Any

import httpx
import pytest

from ringtrail.recordings.fetch import DownloadRequest, FetchFailed, download, make_http_client
from ringtrail.recordings.hosts import RecordingHosts
from ringtrail.recordings.policy import FailureKind
from ringtrail.recordings.resolvers import (
    PlainResolver,
    ProviderAccount,
    TwilioResolver,
    resolver_for,
)
from ringtrail.settings import Settings
from ringtrail.telephony.binotel_api import BinotelRecordingResolver
from tests.recordings.audio_server import AudioServer, Reply, running_audio_server
from tests.recordings.rows import AUDIO

TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE456"
LOCAL = RecordingHosts(("127.0.0.1",))
"""The audio host's address, listed as a recording host."""
LOOPBACK_ALLOWED = [ip_network("127.0.0.1/32")]
"""What the operator allows so that downloads reach the audio host."""


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_http_client(LOOPBACK_ALLOWED) as client:
        yield client


def fetch(http: httpx.Client, url: str, **kwargs: Any) -> bytes:
    audio = download(http, DownloadRequest(url), **{"hosts": LOCAL, **kwargs})
    try:
        assert audio.size == len(AUDIO)
        return audio.body.read()
    finally:
        audio.close()


def failure(http: httpx.Client, url: str, **kwargs: Any) -> FetchFailed:
    with pytest.raises(FetchFailed) as caught:
        download(http, DownloadRequest(url), **{"hosts": LOCAL, **kwargs})
    return caught.value


def test_audio_is_downloaded_whole(audio_server: AudioServer, http: httpx.Client) -> None:
    url = audio_server.script("/rec.mp3", Reply(body=AUDIO))
    assert fetch(http, url) == AUDIO


def test_generic_bytes_get_the_type_their_content_shows(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/rec", Reply(body=AUDIO, content_type="application/octet-stream"))
    audio = download(http, DownloadRequest(url), hosts=LOCAL)
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
        audio = download(http, request, hosts=LOCAL)
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
    assert isinstance(resolver_for("webhook"), PlainResolver)
    binotel_resolver = resolver_for("binotel", Settings(binotel_api_url="http://127.0.0.1:9/api"))
    assert isinstance(binotel_resolver, BinotelRecordingResolver)
    assert binotel_resolver.base_url == "http://127.0.0.1:9/api"  # the operator's setting


def test_basic_auth_reaches_the_host_as_twilio_expects(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/rec.mp3", Reply(body=AUDIO))
    audio = download(http, DownloadRequest(url, auth=("AC123", "auth-token")), hosts=LOCAL)
    audio.close()
    expected = base64.b64encode(b"AC123:auth-token").decode()
    assert audio_server.seen[0].authorization == f"Basic {expected}"


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection server on 127.0.0.1 that answers with `answer`; yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            with suppress(OSError):
                answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(10)


def test_an_endless_body_is_cut_off_once_over_the_size_cap(http: httpx.Client) -> None:
    sent = []

    def endless(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n")
        while sum(sent) < 200 * 1024 * 1024:
            sent.append(connection.send(AUDIO))

    with raw_server(endless) as base:
        refused = failure(http, f"{base}/stream", max_bytes=256 * 1024)
    assert refused.kind is FailureKind.PERMANENT
    assert "larger than" in str(refused)
    assert sum(sent) < 100 * 1024 * 1024  # the download stopped reading long before


def test_a_server_dripping_its_headers_is_cut_off_at_the_time_limit(http: httpx.Client) -> None:
    def drip(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nX-Slow: ")
        for _ in range(40):  # 4 s, each byte well inside the read timeout
            connection.sendall(b"z")
            time.sleep(0.1)
        connection.sendall(b"\r\nContent-Length: %d\r\n\r\n%s" % (len(AUDIO), AUDIO))

    started = time.monotonic()
    with raw_server(drip) as base:
        refused = failure(http, f"{base}/slow", max_seconds=1)
    assert refused.kind is FailureKind.TRANSIENT
    assert "took longer than 1 s" in str(refused)
    assert time.monotonic() - started < 3


def test_a_host_name_is_resolved_once_and_the_checked_address_is_the_one_dialled(
    audio_server: AudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[str] = []

    def rebinding(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        answers.append(host)
        address = "127.0.0.1" if len(answers) == 1 else "127.0.0.2"  # changes after the check
        return socket.getaddrinfo(address, port, **kwargs)

    def no_other_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        assert host != "rebind.example", "the name was resolved again, outside the check"
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    url = audio_server.script("/r.mp3", Reply(body=AUDIO))
    with make_http_client(LOOPBACK_ALLOWED, resolve=rebinding) as http:
        monkeypatch.setattr(socket, "getaddrinfo", no_other_lookup)
        hosts = RecordingHosts(("rebind.example",))
        request = DownloadRequest(url.replace("127.0.0.1", "rebind.example"))
        download(http, request, hosts=hosts).close()
    assert answers == ["rebind.example"]
    assert audio_server.hits("/r.mp3") == 1


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.5", "a private address"),
        ("192.168.1.20", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fd00::1", "a private address"),
        ("::ffff:127.0.0.2", "a loopback address"),
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_refused_before_connecting(
    address: str, kind: str, audio_server: AudioServer
) -> None:
    def resolve(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        # The loopback answer comes first: were the check missing, only it would be dialled.
        allowed = socket.getaddrinfo("127.0.0.1", port, **kwargs)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [*allowed, (family, socket.SOCK_STREAM, 6, "", (address, port))]

    url = audio_server.script("/r.mp3", Reply(body=AUDIO)).replace("127.0.0.1", "pbx.example")
    with make_http_client(LOOPBACK_ALLOWED, resolve=resolve) as http:
        refused = failure(http, url, hosts=RecordingHosts(("pbx.example",)))
    assert refused.kind is FailureKind.PERMANENT
    assert str(refused) == f"refused: pbx.example resolves to {kind}"
    assert audio_server.hits("/r.mp3") == 0


def test_the_operator_allowance_is_needed_for_a_loopback_audio_host(
    audio_server: AudioServer,
) -> None:
    url = audio_server.script("/r.mp3", Reply(body=AUDIO))
    with make_http_client() as http:
        refused = failure(http, url)
    assert str(refused) == "refused: 127.0.0.1 is a loopback address"
    assert refused.kind is FailureKind.PERMANENT
    assert audio_server.hits("/r.mp3") == 0


def test_a_host_not_listed_is_refused_without_a_request(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/r.mp3", Reply(body=AUDIO))
    refused = failure(http, url, hosts=RecordingHosts(("recordings.example.com",)))
    assert refused.kind is FailureKind.PERMANENT
    assert refused.args[0].startswith("refused: 127.0.0.1 is not an allowed recording host")
    assert audio_server.hits("/r.mp3") == 0


def test_redirects_are_followed_five_times_at_most(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    audio_server.script("/loop", Reply(302, b"", None, {"Location": "/loop"}))
    refused = failure(http, audio_server.url("/loop"))
    assert refused.kind is FailureKind.REJECTED
    assert "more than 5 redirects" in str(refused)
    assert audio_server.hits("/loop") == 6


def test_a_redirect_to_another_scheme_is_refused(
    audio_server: AudioServer, http: httpx.Client
) -> None:
    url = audio_server.script("/r", Reply(302, b"", None, {"Location": "file:///etc/passwd"}))
    refused = failure(http, url)
    assert refused.kind is FailureKind.PERMANENT
    assert "not an http(s) URL" in str(refused)


def test_a_proxy_named_in_the_environment_is_not_used(
    audio_server: AudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy would connect on the fetch's behalf, past the address check.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    url = audio_server.script("/r.mp3", Reply(body=AUDIO))
    with make_http_client(LOOPBACK_ALLOWED) as http:
        assert fetch(http, url) == AUDIO


def test_twilio_recordings_come_from_its_api_hosts_and_redirect_to_its_storage() -> None:
    hosts = TwilioResolver.hosts
    for host in ("api.twilio.com", "api.dublin.ie1.twilio.com", "api.ie1.twilio.com"):
        assert hosts.allows(host, redirected=False)
    for host in ("twilio.com", "evil.example", "api.twilio.com.evil.example", "x.twil.io"):
        assert not hosts.allows(host, redirected=False)
    assert not hosts.allows("media.s3.amazonaws.com", redirected=False)
    assert hosts.allows("media.s3.amazonaws.com", redirected=True)
    assert not hosts.allows("ec2-1-2-3-4.compute-1.amazonaws.com", redirected=True)


def test_binotel_and_zadarma_recordings_come_from_their_own_hosts() -> None:
    assert resolver_for("binotel").hosts.allows("my.binotel.ua", redirected=False)
    assert not resolver_for("binotel").hosts.allows("binotel.ua.evil.example", redirected=False)
    assert resolver_for("zadarma").hosts.allows("api.zadarma.com", redirected=False)
    assert not resolver_for("webhook").hosts.allows("api.zadarma.com", redirected=False)
