"""The installation check against a real HTTP server: tag, key, redirects, size, addresses."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ringtrail.domain.install_check import TagVerdict
from ringtrail.services.install_check import (
    Problem,
    check_installation,
    default_url,
    findings,
)
from ringtrail.storage.models import Project

SERVER = "https://track.example.com"
KEY = "pk_install_check"


@dataclass
class Page:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Site:
    """A customer's site on 127.0.0.1: pages by path, counting the requests it answered."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                page = site.pages.get(self.path, Page(404, b"not found"))
                self.send_response(page.status)
                for name, value in {
                    "Content-Type": "text/html; charset=utf-8",
                    **page.headers,
                }.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.server.shutdown()
    server.server.server_close()


def project(domains: list[str] | None = None) -> Project:
    return Project(
        name="Shop",
        public_key=KEY,
        allowed_domains=["127.0.0.1"] if domains is None else domains,
        main_number="+380441234567",
        replace_numbers=["+380447654321"],
    )


def html(head: str = "", body: str = "") -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


def tag(key: str = KEY) -> str:
    return f'<script async src="{SERVER}/t.js" data-key="{key}"></script>'


def test_a_page_with_the_right_tag_and_numbers_passes(site: Site) -> None:
    site.pages["/right"] = Page(body=html(tag(), "<p>Call 044 123 45 67</p>"))
    report = check_installation(project(), SERVER, site.url("/right"))
    assert report.problem is None and report.verdict is not None
    assert report.verdict.tag is TagVerdict.OK
    assert report.verdict.domain_allowed
    assert [(n.number, n.found) for n in report.verdict.numbers] == [
        ("+380441234567", True),
        ("+380447654321", False),
    ]
    lines = [(line.ok, line.english()) for line in findings(report)]
    assert (
        True,
        "The tracking tag is there, with this project's key and this server's address.",
    ) in lines
    assert (True, "+380441234567 is on the page: it will be swapped.") in lines
    assert (
        False,
        "+380447654321 is not on the page as text: nothing will be swapped for it.",
    ) in lines


def test_a_wrong_key_is_named_in_words(site: Site) -> None:
    site.pages["/wrong-key"] = Page(body=html(tag("pk_someone_else")))
    report = check_installation(project(), SERVER, site.url("/wrong-key"))
    assert report.verdict is not None and report.verdict.tag is TagVerdict.WRONG_KEY
    assert (
        "The tracking tag is there but carries another key (pk_someone_else): "
        "copy the tag again from the dashboard."
    ) in [line.english() for line in findings(report)]


def test_a_page_without_the_tag_says_so(site: Site) -> None:
    site.pages["/no-tag"] = Page(body=html(body="<p>Hello</p>"))
    report = check_installation(project(), SERVER, site.url("/no-tag"))
    assert report.verdict is not None and report.verdict.tag is TagVerdict.MISSING
    assert "No tracking tag on this page: paste the tag into the head of every page." in [
        line.english() for line in findings(report)
    ]


def test_a_redirect_within_the_allowed_domains_is_followed(site: Site) -> None:
    site.pages["/moved"] = Page(301, b"", {"Location": "/right"})
    site.pages["/right"] = Page(body=html(tag()))
    report = check_installation(project(), SERVER, site.url("/moved"))
    assert report.verdict is not None and report.verdict.url == site.url("/right")


def test_a_redirect_off_the_allowed_domains_is_not_followed(site: Site) -> None:
    site.pages["/away"] = Page(302, b"", {"Location": site.url("/right", host="localhost")})
    site.requests.clear()
    report = check_installation(project(), SERVER, site.url("/away"))
    assert (report.problem, report.detail) == (Problem.REDIRECT_OFF_DOMAIN, "localhost")
    assert site.requests == ["/away"]
    assert findings(report)[0].english() == (
        "The page redirects to localhost, which is not one of the project's allowed domains."
    )


def test_a_page_larger_than_the_limit_is_not_read(site: Site) -> None:
    site.pages["/big"] = Page(body=b"<p>" + b"x" * 50_000 + b"</p>")
    report = check_installation(project(), SERVER, site.url("/big"), max_bytes=10_000)
    assert (report.problem, report.verdict) == (Problem.TOO_BIG, None)


def test_a_page_outside_the_allowed_domains_is_never_fetched(site: Site) -> None:
    site.requests.clear()
    report = check_installation(project(), SERVER, site.url("/right", host="localhost"))
    assert report.problem is Problem.DOMAIN_NOT_ALLOWED
    assert site.requests == []


def test_a_name_that_resolves_to_a_private_address_is_refused(site: Site) -> None:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    site.requests.clear()
    shop = project(["shop.example"])
    report = check_installation(
        shop, SERVER, f"http://shop.example:{site.port}/right", resolve=resolve
    )
    assert report.problem is Problem.ADDRESS_REFUSED
    assert "loopback" in report.detail
    assert site.requests == []


def test_loopback_is_allowed_only_for_the_host_written_as_one(site: Site) -> None:
    site.pages["/right"] = Page(body=html(tag()))
    both = project(["127.0.0.1", "shop.example"])

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    via_name = check_installation(
        both, SERVER, f"http://shop.example:{site.port}/right", resolve=resolve
    )
    assert via_name.problem is Problem.ADDRESS_REFUSED
    assert check_installation(both, SERVER, site.url("/right")).problem is None


def test_an_error_status_and_a_project_without_domains_are_said() -> None:
    assert check_installation(project([]), SERVER).problem is Problem.NO_DOMAINS
    assert default_url(project(["shop.example"])) == "https://shop.example/"
    assert default_url(project(["127.0.0.1"])) == "http://127.0.0.1/"


def test_an_http_error_is_reported(site: Site) -> None:
    report = check_installation(project(), SERVER, site.url("/nothing-here"))
    assert (report.problem, report.detail) == (Problem.HTTP_ERROR, "404")


def test_a_site_that_never_answers_ends_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from ringtrail.services import install_check

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    monkeypatch.setattr(install_check, "TOTAL_SECONDS", 0.5)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        report = check_installation(project(), SERVER, url)
    finally:
        listener.close()
    assert report.problem is Problem.UNREACHABLE
    assert "Timeout" in report.detail
