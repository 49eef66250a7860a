"""Report tables and page layout in a real browser on the demo data: sortable columns that
sort by value, no sideways scroll at 1366 px, no overlap on a 390 px phone, money figures on
one line.

Layout does not depend on the database, so this module serves the demo on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from ringtrail.demo import catalog
from tests.browser.dashboard_fixtures import (
    PHONE,
    DemoWorld,
    Visitor,
    demo_world,
    log_in,
    open_visitor,
)

LAPTOP = {"width": 1366, "height": 768}
WIDE_PAGES = [
    "/money",
    "/calls",
    "/reports/profit",
    "/reports/campaigns",
    "/reports/sources",
    "/reports/duration",
    "/reports/missed",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    with demo_world("sqlite", tmp_path_factory.mktemp("layout")) as world:
        yield world


@pytest.fixture
def visit(browser: Browser, demo: DemoWorld) -> Iterator[object]:
    """`visit(viewport)`: a signed-in demo owner's page at that size; console errors fail."""
    made: list[Visitor] = []

    def make(viewport: dict[str, int]) -> Page:
        visitor = open_visitor(browser, viewport)
        made.append(visitor)
        log_in(visitor.page, demo.base, catalog.DEMO_EMAIL)
        return visitor.page

    yield make
    errors = [error for visitor in made for error in visitor.console.errors]
    for visitor in made:
        visitor.context.close()
    assert errors == [], f"pages logged console errors: {errors}"


def _overflow(page: Page) -> list[str]:
    """The page's sideways overflow, and which elements stick out past the viewport."""
    return page.evaluate(
        """() => {
          const root = document.documentElement;
          if (root.scrollWidth <= root.clientWidth) return [];
          const out = [`scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}`];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > root.clientWidth + 1 && out.length < 8)
              out.push(`${el.tagName}.${el.className} right=${Math.round(box.right)}`);
          }
          return out;
        }"""
    )


def _broken_words(page: Page) -> list[str]:
    """Table header and body words a line break splits (a word's letters on two lines)."""
    return page.evaluate(
        """() => {
          const broken = [];
          const walker = document.createTreeWalker(
            document.querySelector('main'), NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            const parent = node.parentElement;
            if (!parent || !parent.closest('th, td, .headline-value') ||
                parent.closest('.visually-hidden, details:not([open])')) continue;
            const text = node.textContent;
            const re = /[\\p{L}\\p{N}][\\p{L}\\p{N}.,]*[\\p{L}\\p{N}]/gu;
            let match;
            while ((match = re.exec(text)) && broken.length < 5) {
              if (match[0].length > 30) continue;  // a URL or id may break where it must
              const range = document.createRange();
              range.setStart(node, match.index);
              range.setEnd(node, match.index + match[0].length);
              const tops = new Set(
                Array.from(range.getClientRects()).filter((r) => r.width > 0)
                  .map((r) => Math.round(r.top)));
              if (tops.size > 1) broken.push(match[0]);
            }
          }
          return broken;
        }"""
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("path", WIDE_PAGES)
def test_no_sideways_scroll_and_no_broken_words_at_1366_px(
    demo: DemoWorld, visit: object, path: str, lang: str
) -> None:
    page = visit(LAPTOP)  # type: ignore[operator]
    page.goto(demo.url(path, lang=lang))
    assert _overflow(page) == []
    assert _broken_words(page) == []


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE])
def test_money_figures_stay_on_one_line(demo: DemoWorld, visit: object, viewport: dict) -> None:
    page = visit(viewport)  # type: ignore[operator]
    for path in ("/reports/profit", "/"):
        page.goto(demo.url(path))
        figures = page.evaluate(
            """() => Array.from(document.querySelectorAll('.headline-value')).map((el) => {
              const range = document.createRange();
              range.selectNodeContents(el.firstChild);
              const tops = new Set(Array.from(range.getClientRects())
                .filter((r) => r.width > 0).map((r) => Math.round(r.top)));
              return [el.textContent.trim(), tops.size];
            })"""
        )
        assert figures, path
        assert [text for text, lines in figures if lines != 1] == [], path


@pytest.mark.parametrize("path", ["/reports/missed", "/reports/profit", "/calls"])
def test_on_a_phone_no_header_row_covers_the_first_card(
    demo: DemoWorld, visit: object, path: str
) -> None:
    page = visit(PHONE)  # type: ignore[operator]
    page.goto(demo.url(path))
    table = page.locator("main table.responsive").first
    first = table.locator("tbody tr").first
    first.scroll_into_view_if_needed()
    page.evaluate("(y) => window.scrollBy(0, y)", first.bounding_box()["y"] - 40)  # type: ignore[index]
    covered = page.evaluate(
        """(row) => {
          const hits = [];
          for (const cell of row.cells) {
            const box = cell.getBoundingClientRect();
            if (box.height === 0 || box.bottom < 0 || box.top > innerHeight) continue;
            const x = box.left + box.width / 2, y = box.top + Math.min(box.height / 2, 10);
            const hit = document.elementFromPoint(x, y);
            if (hit && !row.contains(hit)) hits.push(`${cell.dataset.label}: ${hit.tagName}`);
          }
          return hits;
        }""",
        first.element_handle(),
    )
    assert covered == []
    assert _overflow(page) == []


def _column(page: Page, table: str, index: int) -> list[str]:
    return page.locator(f"{table} tbody tr").evaluate_all(
        f"(rows) => rows.map((row) => row.cells[{index}].dataset.sortValue ?? "
        "row.cells[{index}].textContent.trim())".replace("{index}", str(index))
    )


def test_report_columns_sort_by_value_with_the_keyboard(demo: DemoWorld, visit: object) -> None:
    page = visit(LAPTOP)  # type: ignore[operator]
    page.goto(demo.url("/reports/sources"))
    table = "#table-sources table"
    headers = page.locator(f"{table} thead th")
    labels = [label.strip() for label in headers.all_inner_texts()]
    calls = labels.index("Calls")
    button = headers.nth(calls).locator("button.sort-button")
    assert button.count() == 1
    assert headers.nth(calls).get_attribute("aria-sort") is None
    totals_before = page.locator(f"{table} tfoot").inner_text()

    button.focus()
    page.keyboard.press("Enter")
    assert headers.nth(calls).get_attribute("aria-sort") == "ascending"
    values = [float(v) for v in _column(page, table, calls)]
    assert values == sorted(values)

    page.keyboard.press("Space")
    assert headers.nth(calls).get_attribute("aria-sort") == "descending"
    values = [float(v) for v in _column(page, table, calls)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    assert page.locator(f"{table} tfoot").inner_text() == totals_before

    # Another column takes over the sort; text sorts by what it shows.
    headers.nth(0).locator("button").click()
    assert headers.nth(calls).get_attribute("aria-sort") is None
    assert headers.nth(0).get_attribute("aria-sort") == "ascending"
    names = _column(page, table, 0)
    assert names == sorted(names, key=str.casefold)


def test_money_columns_sort_by_amount_not_by_text(demo: DemoWorld, visit: object) -> None:
    page = visit(LAPTOP)  # type: ignore[operator]
    page.goto(demo.url("/reports/profit"))
    table = page.locator("main table[data-sortable]").first
    headers = table.locator("thead th")
    money = table.locator("thead th.kind-money").first
    index = headers.evaluate_all("(hs, target) => hs.indexOf(target)", money.element_handle())
    money.locator("button").click()
    money.locator("button").click()
    raw = table.locator("tbody tr").evaluate_all(
        f"(rows) => rows.map((row) => row.cells[{index}].dataset.sortValue)"
    )
    amounts = [float(v) for v in raw if v]
    assert amounts == sorted(amounts, reverse=True)


def test_the_calls_log_sorts_by_talk_time(demo: DemoWorld, visit: object) -> None:
    page = visit(LAPTOP)  # type: ignore[operator]
    page.goto(demo.url("/calls"))
    headers = page.locator("table.calls-table thead th")
    labels = [label.strip() for label in headers.all_inner_texts()]
    talk = labels.index("Talk time")
    headers.nth(talk).locator("button").click()
    raw = _column(page, "table.calls-table", talk)
    seconds = [float(v) for v in raw if v]
    assert seconds == sorted(seconds) and len(seconds) > 1
    assert raw[len(seconds) :] == [""] * (len(raw) - len(seconds))  # no talk time: last
