"""`ringtrail project check`: the installation check from the command line, in words."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Invoke, assert_one_error_line
from tests.services.test_install_check import Page, Site

SERVER = "http://127.0.0.1:8000"  # the embedded default's address, as `project create` prints


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.server.shutdown()
    server.server.server_close()


def create_project(invoke: Invoke) -> tuple[str, str]:
    """A user and a project on 127.0.0.1 made with the CLI; returns its id and tag."""
    user = invoke("user", "create", "--email", "owner@shop.example", "--password", "long-password")
    assert user.exit_code == 0, user.output
    created = invoke(
        "project", "create", "--name", "Shop", "--organization", "Shop",
        "--owner-email", "owner@shop.example", "--country", "UA", "--domain", "127.0.0.1",
        "--main-number", "+380441234567",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    project_id = re.search(r"created project (\d+)", created.stdout)
    tag = re.search(r"(<script .*</script>)", created.stdout)
    assert project_id and tag
    return project_id.group(1), tag.group(1)


def test_a_page_with_the_printed_tag_passes(invoke: Invoke, site: Site) -> None:
    project_id, tag = create_project(invoke)
    assert SERVER in tag
    site.pages["/ok"] = Page(body=f"<html><head>{tag}</head><body>044 123 45 67</body>".encode())
    result = invoke("project", "check", project_id, "--url", site.url("/ok"))
    assert result.exit_code == 0, result.output
    assert (
        "ok: The tracking tag is there, with this project's key and this server's address."
        in result.stdout
    )
    assert "ok: +380441234567 is on the page: it will be swapped." in result.stdout


def test_a_missing_tag_and_a_wrong_key_are_problems(invoke: Invoke, site: Site) -> None:
    project_id, _ = create_project(invoke)
    site.pages["/bare"] = Page(body=b"<html><body>Call +380 44 123 45 67</body></html>")
    bare = invoke("project", "check", project_id, "--url", site.url("/bare"))
    assert bare.exit_code == 1
    assert "problem: No tracking tag on this page" in bare.stdout
    other = f'<script async src="{SERVER}/t.js" data-key="pk_old"></script>'
    site.pages["/old"] = Page(body=f"<html><head>{other}</head></html>".encode())
    old = invoke("project", "check", project_id, "--url", site.url("/old"))
    assert old.exit_code == 1
    assert "problem: The tracking tag is there but carries another key (pk_old)" in old.stdout


def test_a_redirect_off_the_allowed_domains_is_refused(invoke: Invoke, site: Site) -> None:
    project_id, _ = create_project(invoke)
    site.pages["/away"] = Page(302, b"", {"Location": site.url("/ok", host="localhost")})
    result = invoke("project", "check", project_id, "--url", site.url("/away"))
    assert result.exit_code == 1
    assert (
        "problem: The page redirects to localhost, which is not one of the project's "
        "allowed domains." in result.stdout
    )


def test_an_unknown_project_is_one_error_line(invoke: Invoke) -> None:
    assert "no project with id 99" in assert_one_error_line(invoke("project", "check", "99"), 1)
