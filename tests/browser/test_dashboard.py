"""The dashboard in a real browser, on the demo data: sign-in, reports, filters, drill-down,
the audio player, marking calls, downloads, languages, roles and screenshots.

One demo database per backend and one live app serve every test of the module; each test
signs in with a fresh browser context, and fails when a page logs a console error (a CSP
violation included).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from ringtrail.demo import catalog
from tests.browser.conftest import ARTIFACTS
from tests.browser.dashboard_fixtures import (
    PHONE,
    SALES_EMAIL,
    VIEWER_EMAIL,
    DemoWorld,
    Visitor,
    demo_world,
    log_in,
    open_visitor,
)
from tests.conftest import BACKENDS

LOCALES = Path(__file__).parents[2] / "src" / "ringtrail" / "web" / "dashboard" / "locales"
SCREENSHOTS = ARTIFACTS / "dashboard"
Visitors = Callable[..., Visitor]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoWorld]:
    """The demo project served live, once per backend for the whole module."""
    with demo_world(request.param, tmp_path_factory.mktemp("dashboard")) as world:
        yield world


@pytest.fixture
def visitors(browser: Browser, demo: DemoWorld) -> Iterator[Visitors]:
    """Signed-in browser contexts: `visitors()` for the demo owner, `visitors(email)` for
    another demo user. Fails the test when any page logged a console error."""
    made: list[Visitor] = []

    def make(email: str = catalog.DEMO_EMAIL, viewport: dict[str, int] | None = None) -> Visitor:
        visitor = open_visitor(browser, viewport) if viewport else open_visitor(browser)
        made.append(visitor)
        log_in(visitor.page, demo.base, email)
        return visitor

    yield make
    errors = [error for visitor in made for error in visitor.console.errors]
    for visitor in made:
        visitor.context.close()
    assert errors == [], f"pages logged console errors: {errors}"


def number(text: str) -> float:
    """A figure as the English pages print it ("1,234", "UAH 56.70", "12.5%") as a number."""
    cleaned = re.sub(r"[^\d.\-]", "", text.replace("\u2212", "-"))
    assert cleaned not in ("", "-", "."), f"no number in {text!r}"
    return float(cleaned)


def headline(page: Page, key: str) -> float:
    return number(page.inner_text(f".headline[data-key='{key}'] .headline-value"))


def column_index(table: Locator, label: str) -> int:
    """The position of the column headed `label` in a report table."""
    headers = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    assert label in headers, f"no column {label!r} in {headers}"
    return headers.index(label)


def body_rows(table: Locator) -> list[list[str]]:
    """The text of every cell of the table's body rows."""
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def translations(locale: str) -> dict[str, str]:
    """The catalog of `locale` as English -> translation (empty ones left out)."""
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        po = read_po(source, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in po
        if isinstance(message.id, str) and isinstance(message.string, str) and message.string
    }


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_and_the_overview_shows_charts_of_the_demo_data(
    demo: DemoWorld, visitors: Visitors
) -> None:
    page = visitors().page
    page.goto(demo.url(""))
    assert page.locator("h1").first.inner_text() == catalog.PROJECT_NAME

    charts = page.locator(".chart img")
    assert charts.count() >= 2
    for chart in charts.all():
        assert (chart.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart img')].every(i => i.complete)"
    )
    widths = page.eval_on_selector_all(".chart img", "images => images.map(i => i.naturalWidth)")
    assert all(width > 0 for width in widths), widths

    assert headline(page, "calls") > 0
    assert headline(page, "target") > 0
    assert headline(page, "revenue") > 0


def test_a_source_filter_changes_the_figures(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    page.goto(demo.url("/reports/campaigns"))
    every_source = headline(page, "calls")
    page.fill("form.report-controls input[name=source]", "google")
    with page.expect_navigation():
        page.click("form.report-controls button[type=submit]")
    assert "source=google" in page.url
    only_google = headline(page, "calls")
    assert 0 < only_google < every_source
    sources = body_rows(page.locator("#table-campaigns table"))
    assert sources and {row[0] for row in sources} == {"google"}


def test_report_downloads_hold_the_rows_of_the_page(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    page.goto(demo.url("/reports/campaigns"))
    table = page.locator("#table-campaigns table")
    shown = body_rows(table)
    totals = [cell.strip() for cell in table.locator("tfoot td").all_inner_texts()]
    calls_at = column_index(table, "Calls")
    campaign_at = column_index(table, "Campaign")
    assert len(shown) > 1

    with page.expect_download() as csv_download:
        page.click("#table-campaigns .downloads a[href*='.csv']")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    header, *csv_rows = list(csv.reader(io.StringIO(text)))
    assert header[campaign_at] == "Campaign" and header[calls_at] == "Calls"

    with page.expect_download() as xlsx_download:
        page.click("#table-campaigns .downloads a[href*='.xlsx']")
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = workbook.active
    assert sheet is not None
    xlsx_header, *xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert xlsx_header[campaign_at] == "Campaign" and xlsx_header[calls_at] == "Calls"

    # The files hold the body rows, then the totals row.
    for rows in (csv_rows, xlsx_rows):
        assert len(rows) == len(shown) + 1
        assert [str(row[campaign_at] or "") for row in rows[:-1]] == [
            row[campaign_at] for row in shown
        ]
        assert [float(str(row[calls_at] or 0)) for row in rows] == [
            number(row[calls_at]) for row in [*shown, totals]
        ]


def test_russian_and_ukrainian_translate_the_page(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors(VIEWER_EMAIL).page
    page.goto(demo.url("/reports"))
    try:
        for locale in ("ru", "uk"):
            expected = translations(locale)
            with page.expect_navigation():
                page.click(f"form.languages button[value='{locale}']")
            # The switch posts, then follows a redirect: wait for the page it lands on.
            expect(page.locator("html")).to_have_attribute("lang", locale)
            tabs = [text.strip() for text in page.locator("nav.subnav a").all_inner_texts()]
            for english in ("Overview", "Reports", "Calls"):
                assert english in expected, f"{locale}: {english!r} is not translated"
                assert expected[english] in tabs, f"{locale}: {tabs} lack {expected[english]!r}"
            assert expected["Sign out"] in page.inner_text("header.topbar")
    finally:
        # The choice is kept on the account: give the viewer English back for other tests.
        with page.expect_navigation():
            page.click("form.languages button[value='en']")
        expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_sales_user_gets_the_forbidden_page_for_settings(
    demo: DemoWorld, visitors: Visitors
) -> None:
    visitor = visitors(SALES_EMAIL)
    visitor.console.allow(r"status of 403")
    response = visitor.page.goto(demo.url("/settings"))
    assert response is not None and response.status == 403
    assert visitor.page.locator("h1").inner_text() == "Not allowed"
    assert visitor.page.locator("nav.subnav a[href$='/settings']").count() == 0


def test_screenshots_of_the_main_pages(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    for name, path in (
        ("overview", ""),
        ("reports", "/reports"),
        ("report-campaigns", "/reports/campaigns"),
        ("report-quality", "/reports/quality"),
        ("report-heatmap", "/reports/heatmap"),
        ("calls", "/calls"),
        ("settings", "/settings"),
        ("money", "/money"),
    ):
        response = page.goto(demo.url(path))
        assert response is not None and response.status == 200, path
        shoot(page, name)
    answered_call_with_recording(page, demo)
    shoot(page, "call")

    phone = visitors(viewport=PHONE).page
    phone.goto(demo.url(""))
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "overview-phone")


def listed_calls(page: Page) -> list[str]:
    """The ids of the calls the calls log lists, following its "Older calls" pages."""
    ids: list[str] = []
    while True:
        hrefs = page.eval_on_selector_all(
            "table.calls-table tbody a.call-link", "links => links.map(a => a.pathname)"
        )
        ids += [href.rsplit("/", 1)[1] for href in hrefs]
        older = page.locator("a[rel=next]")
        if older.count() == 0:
            return ids
        with page.expect_navigation():
            older.click()


def test_a_report_row_drills_down_to_its_calls(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    page.goto(demo.url("/reports/campaigns"))
    table = page.locator("#table-campaigns table")
    calls_at = column_index(table, "Calls")
    campaign_at = column_index(table, "Campaign")
    rows = table.locator("tbody tr")
    candidates = [
        (number(cells[calls_at]), index, cells)
        for index, cells in enumerate(body_rows(table))
        if number(cells[calls_at]) > 0 and cells[campaign_at] not in ("", "(not set)")
    ]
    assert candidates, "no campaign with calls"
    expected, index, cells = min(candidates)

    with page.expect_navigation():
        rows.nth(index).locator("td.drill a").click()
    assert f"/p/{demo.project_id}/calls?" in page.url
    form = page.locator("form.calls-filters")
    assert form.locator("input[name=source]").input_value() == cells[0]
    assert form.locator("input[name=campaign]").input_value() == cells[campaign_at]
    ids = listed_calls(page)
    assert len(ids) == expected
    assert len(set(ids)) == len(ids)


def answered_call_with_recording(page: Page, demo: DemoWorld, **filters: str) -> None:
    """Open (in `page`) the newest answered call with a recording that matches `filters`."""
    page.goto(demo.url("/calls", status="answered", **filters))
    row = page.locator("table.calls-table tbody tr", has=page.locator(".has-recording")).first
    with page.expect_navigation():
        row.locator("a.call-link").click()
    assert re.search(rf"/p/{demo.project_id}/calls/\d+", page.url)


def test_the_audio_player_loads_the_recording(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    answered_call_with_recording(page, demo)
    audio = page.locator("audio[data-calls-audio]")
    assert audio.count() == 1
    state = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const audio = document.querySelector("audio[data-calls-audio]");
            audio.addEventListener("loadedmetadata", () =>
                resolve({readyState: audio.readyState, duration: audio.duration}));
            audio.addEventListener("error", () =>
                reject(new Error("audio error " + (audio.error && audio.error.code))));
            audio.preload = "metadata";
            audio.load();
        })"""
    )
    assert state["readyState"] >= 1
    assert state["duration"] > 0


def quality_target(page: Page, demo: DemoWorld, source: str) -> float:
    """The quality report's target calls of `source` over the module's period."""
    page.goto(demo.url("/reports/quality"))
    table = page.locator("#table-quality table")
    target_at = column_index(table, "Target calls")
    for cells in body_rows(table):
        if cells[0] == source:
            return number(cells[target_at])
    raise AssertionError(f"no quality row for {source!r}")


def test_a_sales_user_marks_a_call_target_and_the_quality_report_changes(
    demo: DemoWorld, visitors: Visitors
) -> None:
    page = visitors(SALES_EMAIL).page
    answered_call_with_recording(page, demo, source="google", target="false")
    call_url = page.url
    assert page.locator(".mark-not-target").first.is_visible()
    before = quality_target(page, demo, "google")

    page.goto(call_url)
    with page.expect_navigation():
        page.click("form.mark-buttons button[value='true']")
    assert page.get_attribute("form.mark-buttons button[value='true']", "aria-pressed") == "true"

    after = quality_target(page, demo, "google")
    assert after == before + 1, "the quality report did not count the call marked target"


def test_a_viewer_sees_no_marking_buttons(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors(VIEWER_EMAIL).page
    answered_call_with_recording(page, demo)
    assert page.locator("section.call-summary").is_visible()
    assert page.locator("form[action$='/target'], .mark-button, #marks").count() == 0
    assert page.locator("form[action$='/comments'], form[action$='/tags']").count() == 0


def test_calls_log_downloads_hold_the_rows_of_the_page(demo: DemoWorld, visitors: Visitors) -> None:
    page = visitors().page
    page.goto(demo.url("/calls", source="google", status="answered"))
    assert page.locator("a[rel=next]").count() == 0, "pick filters that fit on one page"
    ids = [
        int(href.rsplit("/", 1)[1])
        for href in page.eval_on_selector_all(
            "table.calls-table tbody a.call-link", "links => links.map(a => a.pathname)"
        )
    ]
    callers = [cells[1] for cells in body_rows(page.locator("table.calls-table"))]
    assert ids

    with page.expect_download() as csv_download:
        page.click(".calls-exports a[href*='calls.csv']")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    header, *csv_rows = list(csv.reader(io.StringIO(text)))
    with page.expect_download() as xlsx_download:
        page.click(".calls-exports a[href*='calls.xlsx']")
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = workbook.active
    assert sheet is not None
    xlsx_header, *xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]

    # A phone ("+380...") is written as is in both: no apostrophe shows in the spreadsheet.
    assert csv_download.value.suggested_filename.startswith("calls-")
    assert demo.period["from"] in csv_download.value.suggested_filename
    for head, rows in ((header, csv_rows), (xlsx_header, xlsx_rows)):
        id_at, caller_at, source_at = (
            head.index("Call ID"),
            head.index("Caller"),
            head.index("Source"),
        )
        assert [int(str(row[id_at])) for row in rows] == ids
        written = [str(row[caller_at] or "Hidden number") for row in rows]
        assert written == callers
        assert {row[source_at] for row in rows} == {"google"}
