"""The calls log and a call's page with the keyboard alone, and our own focus ring on every control.

Nothing here clicks: a person signs in, finds a recorded call on the calls log, opens it, marks
it a target, adds a tag, writes a comment, plays the recording and downloads the log with Tab,
Shift+Tab, typing, Enter and Space only. Every control that takes focus on the way, and on every
dashboard page in both colour schemes, shows the dashboard's own focus ring (tokens.css
`--focus-ring`, 3 px), not the browser's default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Download, Page, expect

from ringtrail.demo import catalog
from ringtrail.web.dashboard.design_tokens import load_tokens
from tests.browser.conftest import DESKTOP_CHROME
from tests.browser.dashboard_fixtures import DESKTOP, Console, DemoWorld, demo_world
from tests.browser.dashboard_pages import DashboardPage, dashboard_pages, demo_values

MAX_TABS = 250
FOCUS_STOPS_PER_PAGE = 30
TAG = "keyboard-only"
COMMENT = "Called from the keyboard alone."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    with demo_world("sqlite", tmp_path_factory.mktemp("keyboard")) as world:
        yield world


def _context(browser: Browser, scheme: str = "light") -> BrowserContext:
    context = browser.new_context(
        user_agent=DESKTOP_CHROME,
        viewport=DESKTOP,
        color_scheme=scheme,  # type: ignore[arg-type]
        accept_downloads=True,
    )
    context.set_default_timeout(60_000)
    return context


def _watch(page: Page) -> Console:
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    return console


def _focused(page: Page) -> dict[str, str]:
    """What has focus: its tag, text, name, href, and the outline the page draws around it."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(), text: (el.textContent || '').trim(),
            name: el.getAttribute('name') || '', id: el.id || '',
            href: el.getAttribute('href') || '', value: el.getAttribute('value') || '',
            recorded: el.closest('tr') && el.closest('tr').querySelector('.has-recording')
              ? 'yes' : '',
            outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth,
            outlineColor: style.outlineColor,
          };
        }"""
    )


def _ring(scheme: str) -> str:
    red, green, blue = load_tokens()[scheme]["focus-ring"].rgb
    return f"rgb({red}, {green}, {blue})"


def _assert_our_ring(focused: dict[str, str], scheme: str, where: str) -> None:
    assert focused["outlineStyle"] == "solid", (where, focused)
    assert float(focused["outlineWidth"].removesuffix("px")) >= 3, (where, focused)
    assert focused["outlineColor"] == _ring(scheme), (where, focused)


def tab_to(page: Page, matches: object, scheme: str = "light", backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until the focused element satisfies `matches`; every stop on the
    way must show our focus ring."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        focused = _focused(page)
        if focused["tag"] != "body":
            _assert_our_ring(focused, scheme, page.url)
        if matches(focused):  # type: ignore[operator]
            return
    pytest.fail(f"no such control within {MAX_TABS} presses of {key} on {page.url}")


def _sign_in_by_keyboard(page: Page, base: str, scheme: str = "light") -> None:
    page.goto(f"{base}/login")
    tab_to(page, lambda f: f["id"] == "email", scheme)
    page.keyboard.type(catalog.DEMO_EMAIL)
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "password"
    page.keyboard.type(catalog.DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url


def test_a_call_is_found_marked_tagged_commented_and_played_without_a_mouse(
    browser: Browser, demo: DemoWorld
) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        console = _watch(page)
        _sign_in_by_keyboard(page, demo.base)

        # The calls log: the newest recorded call judged not a target, opened with Enter.
        page.goto(demo.url("/calls", status="answered", target="false"))
        tab_to(page, lambda f: f["tag"] == "a" and "/calls/" in f["href"] and f["recorded"])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert re.search(rf"/p/{demo.project_id}/calls/\d+", page.url)
        call_url = page.url.split("?", 1)[0]
        marks = page.locator("form[action$='/target'] button")
        expect(marks.filter(has_text="Target").first).not_to_have_attribute("aria-pressed", "true")

        # Mark it a target: Tab to the button, Enter.
        tab_to(
            page, lambda f: f["tag"] == "button" and f["name"] == "target" and f["value"] == "true"
        )
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.split("?", 1)[0] == call_url
        expect(page.locator("form[action$='/target'] button[value=true]")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.locator(".call-summary .mark-target")).to_have_text("Target")

        # Add a tag: type it into the tags field, Enter submits the form.
        tab_to(page, lambda f: f["id"] == "call-tags")
        page.keyboard.press("End")
        page.keyboard.type(f", {TAG}")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator(".call-summary .tag", has_text=TAG)).to_have_count(1)

        # A comment: the text area, then Tab to its button and Space.
        tab_to(page, lambda f: f["id"] == "call-comment")
        page.keyboard.type(COMMENT)
        page.keyboard.press("Tab")
        assert _focused(page)["text"] == "Add the comment"
        with page.expect_navigation():
            page.keyboard.press("Space")
        expect(page.locator(".comments .comment-body", has_text=COMMENT)).to_have_count(1)

        # Play the recording: Shift+Tab back up to the player's button, Enter.
        page.keyboard.press("Tab")
        tab_to(page, lambda f: f["text"] == "Play the recording", backwards=True)
        page.keyboard.press("Enter")
        player = page.locator("button[data-calls-play]")
        page.wait_for_function(
            "() => { const a = document.querySelector('audio[data-calls-audio]');"
            " return !a.paused && a.currentTime > 0.2; }"
        )
        expect(player).to_be_focused()
        expect(player).to_have_text("Pause the recording")
        page.keyboard.press("Space")
        page.wait_for_function("() => document.querySelector('audio[data-calls-audio]').paused")
        expect(player).to_be_focused()
        expect(player).to_have_text("Play the recording")

        # Back on the log (the way it was left), then the calls with the new tag: the CSV
        # export downloads with Enter and holds the call.
        tab_to(page, lambda f: f["text"].startswith("← Back to the calls"), backwards=True)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "target=false" in page.url
        page.goto(demo.url("/calls", tag=TAG))
        tab_to(page, lambda f: f["tag"] == "a" and ".csv" in f["href"])
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert _csv_lists_the_tag(download.value)
        assert console.errors == []
    finally:
        context.close()


def _csv_lists_the_tag(download: Download) -> bool:
    return TAG in Path(download.path()).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_control_shows_our_focus_ring_on_every_page(
    browser: Browser, demo: DemoWorld, scheme: str
) -> None:
    pages: list[DashboardPage] = dashboard_pages(demo.app.app, demo_values(demo))
    context = _context(browser, scheme)
    try:
        page = context.new_page()
        console = _watch(page)
        _sign_in_by_keyboard(page, demo.base, scheme)
        missing: list[str] = []
        for item in pages:
            if not item.signed_in:
                continue
            response = page.goto(f"{demo.base}{item.path}?{urlencode(demo.period)}")
            if response is None or response.status != 200:
                missing.append(f"{item.path}: answered {response and response.status}")
                console.errors.clear()  # the error page's own log lines say the same
                continue
            for stop in range(FOCUS_STOPS_PER_PAGE):
                page.keyboard.press("Tab")
                focused = _focused(page)
                if focused["tag"] == "body":
                    break
                ring = (focused["outlineStyle"], focused["outlineWidth"], focused["outlineColor"])
                if ring != ("solid", "3px", _ring(scheme)):
                    missing.append(
                        f"{item.path} stop {stop}: <{focused['tag']}> "
                        f"{focused['text'][:40]!r}: outline {ring}"
                    )
        assert missing == [], "controls without our focus ring:\n" + "\n".join(missing)
        assert console.errors == []
    finally:
        context.close()
