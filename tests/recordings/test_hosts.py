"""Recording hosts: provider patterns, the hosts an owner lists, and how lists are checked."""

from __future__ import annotations

import pytest

from ringtrail.recordings.hosts import (
    RecordingHosts,
    check_host_pattern,
    check_listed_hosts,
    checked_account_config,
    listed_hosts,
)


@pytest.mark.parametrize(
    ("pattern", "host", "allowed"),
    [
        ("pbx.example.com", "pbx.example.com", True),
        ("pbx.example.com", "PBX.Example.com.", True),
        ("pbx.example.com", "x.pbx.example.com", False),
        ("pbx.example.com", "pbx.example.com.evil.example", False),
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "aexample.com", False),
        ("api.*.twilio.com", "api.dublin.ie1.twilio.com", True),
        ("api.*.twilio.com", "api.twilio.com", False),
        ("api.*.twilio.com", "evil.dublin.ie1.twilio.com", False),
        ("10.0.0.5", "10.0.0.5", True),
        ("10.0.0.5", "10.0.0.50", False),
        ("::1", "0:0:0:0:0:0:0:1", True),
        ("::1", "[::1]", True),
    ],
)
def test_host_patterns(pattern: str, host: str, allowed: bool) -> None:
    assert RecordingHosts((pattern,)).allows(host, redirected=False) is allowed


def test_redirect_hosts_are_reached_only_through_a_redirect() -> None:
    hosts = RecordingHosts(("api.example.com",), ("*.storage.example",))
    assert not hosts.allows("files.storage.example", redirected=False)
    assert hosts.allows("files.storage.example", redirected=True)
    assert hosts.allows("api.example.com", redirected=True)


def test_the_hosts_an_owner_lists_add_to_the_providers() -> None:
    hosts = RecordingHosts(("my.binotel.ua",)).with_listed(["files.example.com"])
    assert hosts.allows("files.example.com", redirected=False)
    assert hosts.allows("my.binotel.ua", redirected=False)


def test_a_refusal_says_what_is_allowed_and_where_to_add_hosts() -> None:
    refusal = RecordingHosts().refusal("10.0.0.1")
    assert refusal.startswith("refused: 10.0.0.1 is not an allowed recording host (allowed: none")
    assert "config.recording_hosts" in refusal


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (" PBX.Example.COM. ", "pbx.example.com"),
        ("*.example.com", "*.example.com"),
        ("10.0.0.5", "10.0.0.5"),
        ("[::1]", "::1"),
        ("xn--e1afmkfd.xn--j1amh", "xn--e1afmkfd.xn--j1amh"),
    ],
)
def test_listed_hosts_are_normalised(value: str, normalised: str) -> None:
    assert check_host_pattern(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "",
        "*",
        "*.com",
        "example.*",
        "https://pbx.example.com",
        "pbx.example.com:8080",
        "pbx.example.com/recordings",
        "a*.example.com",
        "-bad.example.com",
        "10.0.0.*",
        "пример.укр",
        42,
    ],
)
def test_unusable_hosts_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        check_host_pattern(value)


def test_a_list_is_checked_whole() -> None:
    assert check_listed_hosts(["a.example.com", "A.example.com"]) == ["a.example.com"]
    with pytest.raises(ValueError, match="list"):
        check_listed_hosts("a.example.com")
    with pytest.raises(ValueError, match="at most 20"):
        check_listed_hosts([f"h{n}.example.com" for n in range(21)])


def test_an_account_config_keeps_its_other_keys() -> None:
    config = {"recording_format": "wav", "recording_hosts": ["Files.Example.com"]}
    assert checked_account_config(config) == {
        "recording_format": "wav",
        "recording_hosts": ["files.example.com"],
    }
    assert checked_account_config({"allowed_ips": ["1.2.3.4"]}) == {"allowed_ips": ["1.2.3.4"]}


def test_a_stored_list_is_read_leniently() -> None:
    assert listed_hosts({"recording_hosts": ["ok.example.com", "bad host", 3]}) == (
        "ok.example.com",
    )
    assert listed_hosts({"recording_hosts": "ok.example.com"}) == ()
    assert listed_hosts({}) == ()
