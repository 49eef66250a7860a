"""After a form, the dashboard only ever sends a browser to a path on this site."""

from __future__ import annotations

import pytest

from ringtrail.web.dashboard.redirects import login_url, safe_next_path


@pytest.mark.parametrize(
    "candidate",
    [
        "https://evil.example",
        "http://evil.example/",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/ok\\..\\evil",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
        "/\n",
        "",
        None,
    ],
)
def test_next_path_refuses_anything_off_site(candidate: str | None) -> None:
    assert safe_next_path(candidate) == "/"


@pytest.mark.parametrize("path", ["/", "/p/1", "/p/1?tab=calls", "/p/1#top", "/login?next=/"])
def test_next_path_keeps_local_paths(path: str) -> None:
    assert safe_next_path(path) == path


def test_login_url_carries_a_safe_next_path() -> None:
    assert login_url("/p/7") == "/login?next=/p/7"
    assert login_url("/p/7?tab=a&b=c") == "/login?next=/p/7%3Ftab%3Da%26b%3Dc"
    assert login_url("https://evil.example") == "/login?next=/"
