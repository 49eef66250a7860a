"""WCAG 2.1 A/AA on every dashboard page, checked by axe-core in Chromium.

Every page comes from the app's routes (`dashboard_pages.py`): a new page is swept without a
line here, and one the sweep cannot open fails the first test. Each page is opened in the
light and the dark colour scheme, in English and in Ukrainian, by the demo owner (who may see
every page); the sign-in form by a browser that is not signed in. Any violation of a WCAG 2.0
or 2.1 rule of level A or AA fails, listed page by page, rule by rule, element by element.
One browser context per scheme and language serves all its pages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext

from ringtrail.demo import catalog
from ringtrail.web.dashboard.design_tokens import load_tokens
from tests.browser.accessibility import axe_version, axe_violations, describe
from tests.browser.conftest import DESKTOP_CHROME
from tests.browser.dashboard_fixtures import (
    DESKTOP,
    Console,
    DemoWorld,
    demo_world,
    log_in,
)
from tests.browser.dashboard_pages import (
    DashboardPage,
    UnfilledRoute,
    dashboard_get_routes,
    dashboard_pages,
    demo_values,
    page_routes,
)

SCHEMES = ("light", "dark")
LANGUAGES = ("en", "uk")
PAGE_CHECKS = """() => {
  const problems = [];
  // Every table is named by a caption (or a label), so a screen reader can tell them apart.
  for (const table of document.querySelectorAll('table')) {
    const caption = table.caption && table.caption.textContent.trim();
    if (!caption && !table.getAttribute('aria-label') && !table.getAttribute('aria-labelledby'))
      problems.push(`table without a caption: ${table.outerHTML.slice(0, 80)}`);
  }
  // Every link within the page leads somewhere on it (a chart's link to its table).
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const id = decodeURIComponent(link.getAttribute('href').slice(1));
    if (id && !document.getElementById(id))
      problems.push(`link to a missing #${id}: ${link.textContent.trim()}`);
  }
  // Every chart image says in words what it shows.
  for (const image of document.querySelectorAll('.chart img')) {
    const ids = (image.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    const words = ids.map((id) => document.getElementById(id)?.textContent || '').join(' ');
    if (!/\\d/.test(words)) problems.push(`chart without a description: ${image.alt}`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    with demo_world("sqlite", tmp_path_factory.mktemp("accessibility")) as world:
        yield world


@pytest.fixture(scope="module")
def pages(demo: DemoWorld) -> list[DashboardPage]:
    try:
        return dashboard_pages(demo.app.app, demo_values(demo))
    except UnfilledRoute as problem:
        pytest.fail(str(problem), pytrace=False)


def _context(browser: Browser, scheme: str) -> BrowserContext:
    context = browser.new_context(
        user_agent=DESKTOP_CHROME,
        viewport=DESKTOP,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    context.set_default_timeout(60_000)
    return context


def test_every_dashboard_page_is_swept(demo: DemoWorld, pages: list[DashboardPage]) -> None:
    routes = page_routes(demo.app.app)
    swept = {page.route for page in pages}
    assert swept == set(routes)
    # The route list really is the dashboard's: pages and downloads both found.
    assert "/p/{project_id}/calls/{call_id}" in routes
    assert "/p/{project_id}/reports/{report_id}" in routes
    assert "/p/{project_id}/calls.csv" in dashboard_get_routes(demo.app.app)
    assert "/p/{project_id}/calls.csv" not in routes
    reports = [page for page in pages if page.route == "/p/{project_id}/reports/{report_id}"]
    assert len(reports) == len(demo_values(demo)["report_id"]) > 10
    assert len(pages) >= 30


def test_a_page_with_an_unknown_parameter_fails_loudly(demo: DemoWorld) -> None:
    values = demo_values(demo)
    del values["call_id"]
    with pytest.raises(UnfilledRoute, match=r"GET /p/\{project_id\}/calls/\{call_id\}"):
        dashboard_pages(demo.app.app, values)


def test_axe_finds_a_contrast_violation_it_is_shown(browser: Browser, demo: DemoWorld) -> None:
    """The harness really runs axe: a pale link put into a page is reported."""
    context = _context(browser, "light")
    try:
        page = context.new_page()
        page.goto(f"{demo.base}/login")
        assert axe_violations(page) == []
        page.evaluate(
            """() => {
              const link = document.createElement('a');
              link.href = '#main'; link.textContent = 'pale link'; link.id = 'pale';
              link.style.color = '#bbbbbb';
              document.querySelector('main').appendChild(link);
            }"""
        )
        found = axe_violations(page)
        assert [violation["id"] for violation in found] == ["color-contrast"]
        assert "#pale" in "\n".join(describe("/login", found))
        assert axe_version(page).startswith("4.")
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_page_passes_axe_wcag_21_aa(
    browser: Browser, demo: DemoWorld, pages: list[DashboardPage], scheme: str, lang: str
) -> None:
    started = time.monotonic()
    problems: list[str] = []
    console = Console()
    signed_out, signed_in = _context(browser, scheme), _context(browser, scheme)
    try:
        anonymous = signed_out.new_page()
        owner = signed_in.new_page()
        for page in (anonymous, owner):
            page.on("console", console.on_console)
            page.on("pageerror", console.on_page_error)
        log_in(owner, demo.base, catalog.DEMO_EMAIL)
        for item in pages:
            page = owner if item.signed_in else anonymous
            url = f"{demo.base}{item.path}"
            where = f"{scheme}/{lang} {item.path}"
            response = page.goto(f"{url}?{_query(demo, lang)}")
            status = response.status if response is not None else None
            if status != 200:
                problems.append(f"{where}: answered {status}, not the page")
                console.errors.clear()  # the error page's own log lines say the same
                continue
            assert page.evaluate("document.documentElement.lang") == lang, where
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == _page_background(scheme), f"{where}: not the {scheme} scheme"
            problems += describe(where, axe_violations(page))
            problems += [f"{where}: {problem}" for problem in page.evaluate(PAGE_CHECKS)]
    finally:
        signed_out.close()
        signed_in.close()
    print(f"axe sweep {scheme}/{lang}: {len(pages)} pages in {time.monotonic() - started:.1f} s")
    assert problems == [], "WCAG 2.1 A/AA violations:\n" + "\n".join(problems)
    assert console.errors == []


def _query(demo: DemoWorld, lang: str) -> str:
    return urlencode({**demo.period, "lang": lang})


def _page_background(scheme: str) -> str:
    red, green, blue = load_tokens()[scheme]["bg"].rgb
    return f"rgb({red}, {green}, {blue})"
