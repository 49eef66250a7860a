"""Under `?rt_debug=1` the script logs why a page got no number, in a real Chromium.

A page on a host that is not among the allowed domains gets a readable refusal (CORS headers,
no project data), so the console names `origin_not_allowed` instead of a bare CORS failure;
a page no source rule matches logs `no_rule`.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ringtrail.storage.models import SourceRule
from tests.browser.conftest import (
    LiveApp,
    Site,
    page_html,
    set_up_site,
    tag,
    watch,
)

WAIT_MS = 5000


def _debug_lines(page: Page) -> list[str]:
    lines: list[str] = []
    page.on("console", lambda message: lines.append(message.text))
    return lines


def _wait_for(page: Page, lines: list[str], needle: str) -> str:
    for _ in range(WAIT_MS // 100):
        found = [line for line in lines if needle in line]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no console line with {needle!r}; saw {lines}")


def test_a_page_on_a_host_not_allowed_logs_the_refusal_reason_not_a_cors_error(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    tracked = set_up_site(db, name="Refused Shop", domains=("127.0.0.1",))
    html = page_html(f"<p>Call +380441234567</p>{tag(live_app, tracked.key)}")
    url = site.add("/refused-origin.html", html).replace("127.0.0.1", "localhost")
    page = new_context().new_page()
    watched = watch(page)
    lines = _debug_lines(page)
    page.goto(f"{url}?rt_debug=1")
    line = _wait_for(page, lines, "visit refused")
    assert "403" in line and "origin_not_allowed" in line
    assert "allowed domains" in line
    assert not any("CORS" in entry for entry in watched.errors + watched.network_log)
    assert not any("Failed to fetch" in text for text in lines)
    assert "+380441234567" in page.inner_text("body")


def test_a_page_no_rule_matches_logs_no_rule(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    tracked = set_up_site(db, name="Ruleless Shop")
    db.execute(delete(SourceRule))
    db.commit()
    html = page_html(f"<p>Call +380441234567</p>{tag(live_app, tracked.key)}")
    url = site.add("/no-rule.html", html)
    page = new_context().new_page()
    lines = _debug_lines(page)
    page.goto(f"{url}?rt_debug=1")
    line = _wait_for(page, lines, "no tracking number:")
    assert "no_rule" in line and "rule points at it" in line
    assert "+380441234567" in page.inner_text("body")


def test_without_rt_debug_the_script_logs_nothing(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    tracked = set_up_site(db, name="Quiet Shop", domains=("127.0.0.1",))
    html = page_html(f"<p>Call +380441234567</p>{tag(live_app, tracked.key)}")
    url = site.add("/quiet.html", html).replace("127.0.0.1", "localhost")
    page = new_context().new_page()
    lines = _debug_lines(page)
    page.goto(url)
    page.wait_for_timeout(1500)
    assert not any("[ringtrail]" in text for text in lines)
