"""t.js in Chromium when Ringtrail is down or slow: the page keeps its numbers and stays quiet.

Chromium itself logs one network line ("Failed to load resource: ...") for any request that
fails, whatever the page does; that line is the browser's, checked apart from the errors of
the page's JavaScript (exceptions, console.error/warn, CORS and other non-network log
entries), which must stay empty: the script catches every failure and stays quiet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.web.app import create_app
from tests.browser.conftest import (
    LiveApp,
    Site,
    SlowVisits,
    free_port,
    page_html,
    set_up_site,
    tag,
    watch,
)

ORIGINALS = (
    "<p id='text'>+38 (044) 123-45-67</p><a id='link' href='tel:+380441234567'>044 123 45 67</a>"
)
GIVE_UP_SECONDS = 3.0


@pytest.fixture
def slow_app(runtime: Runtime) -> Iterator[tuple[LiveApp, SlowVisits]]:
    """The real app whose visit starts answer a second after the script gives up."""
    slow = SlowVisits(create_app(runtime), delay=GIVE_UP_SECONDS + 1.0)
    server = LiveApp(slow)
    server.start()
    yield server, slow
    server.stop()


def test_with_ringtrail_unreachable_the_originals_stay_and_nothing_is_logged(
    site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    script = tag(site.url("/t.js"), "any-key", f' data-api="{dead}"')
    url = site.add("/dead", page_html(ORIGINALS + script))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    watched.page.wait_for_function("() => window.ringtrail && window.ringtrail.run")
    watched.page.wait_for_load_state("networkidle")
    time.sleep(0.3)

    assert watched.visit_requests == [f"{dead}/t/v1/visit"]
    assert watched.page.inner_text("#text") == "+38 (044) 123-45-67"
    assert watched.page.get_attribute("#link", "href") == "tel:+380441234567"
    assert watched.page.evaluate("window.ringtrail.numbers") == []
    assert watched.errors == []
    assert [line.split(" (")[0] for line in watched.network_log] == [
        "Failed to load resource: net::ERR_CONNECTION_REFUSED"
    ]


def test_an_unknown_key_leaves_the_originals_and_logs_nothing(
    live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    url = site.add("/unknown", page_html(ORIGINALS + tag(live_app, "no-such-key", wait_ms=None)))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    watched.page.wait_for_load_state("networkidle")

    assert watched.visit_requests == [f"{live_app.base}/t/v1/visit"]
    assert watched.page.inner_text("#text") == "+38 (044) 123-45-67"
    assert watched.errors == []


def test_an_answer_after_the_timeout_never_replaces_the_originals(
    db: Session,
    slow_app: tuple[LiveApp, SlowVisits],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    server, slow = slow_app
    tracked = set_up_site(db)
    url = site.add("/slow", page_html(ORIGINALS + tag(server, tracked.key, wait_ms=None)))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    deadline = time.monotonic() + GIVE_UP_SECONDS + 3
    while slow.answered == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)

    assert slow.answered == 1  # the server did answer, after the script gave up
    assert watched.page.inner_text("#text") == "+38 (044) 123-45-67"
    assert watched.page.get_attribute("#link", "href") == "tel:+380441234567"
    assert watched.page.evaluate("window.ringtrail.numbers") == []
    assert watched.errors == []


def test_after_ringtrail_stops_the_next_page_keeps_its_originals_and_stays_quiet(
    db: Session, runtime: Runtime, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    server = LiveApp(create_app(runtime))
    server.start()
    tracked = set_up_site(db)
    script = tag(site.url("/t.js"), tracked.key, f' data-api="{server.base}"')
    url = site.add("/stops", page_html(ORIGINALS + script))
    context = new_context()
    first = context.new_page()
    first.goto(url)
    first.wait_for_function("() => window.ringtrail.numbers.length > 0")
    assert first.inner_text("#text") == "+38 (044) 555-00-01"
    first.close()

    server.stop()
    watched = watch(context.new_page())
    watched.page.goto(url)
    watched.page.wait_for_function("() => window.ringtrail && window.ringtrail.run")
    watched.page.wait_for_load_state("networkidle")
    time.sleep(0.3)

    assert watched.visit_requests == [f"{server.base}/t/v1/visit"]
    assert watched.page.inner_text("#text") == "+38 (044) 123-45-67"
    assert watched.page.get_attribute("#link", "href") == "tel:+380441234567"
    assert watched.page.evaluate("window.ringtrail.numbers") == []
    assert watched.errors == []


def test_a_site_that_sets_data_wait_takes_an_answer_later_than_the_default_give_up(
    db: Session,
    slow_app: tuple[LiveApp, SlowVisits],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    server, slow = slow_app
    tracked = set_up_site(db)
    wait_ms = int((GIVE_UP_SECONDS + 10) * 1000)
    url = site.add("/patient", page_html(ORIGINALS + tag(server, tracked.key, wait_ms=wait_ms)))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    watched.page.wait_for_function("() => window.ringtrail.numbers.length > 0", timeout=wait_ms)

    assert slow.answered == 1
    assert watched.page.inner_text("#text") == "+38 (044) 555-00-01"
    assert watched.errors == []
