"""The report pages on the demo's 90 days: every page renders, filters and drill-downs hold,
downloads hold the page's rows, and nobody outside the project sees any of it."""

# ruff: noqa: RUF001 - the expected strings are Russian and Ukrainian on purpose

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from ringtrail.demo.catalog import DEMO_PASSWORD
from ringtrail.demo.generator import generate_demo
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.reports.catalog import REPORT_IDS
from ringtrail.settings import Settings
from ringtrail.web.app import create_app
from ringtrail.web.dashboard.formatting import Formatter
from tests.conftest import PASSWORD, empty_all_tables, make_tenant
from tests.web.dashboard.browser import log_in

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
PERIOD = "from=2026-02-17&to=2026-03-18"
OWNER = "demo@ringtrail.example"
VIEWER = "viewer@ringtrail.example"
OUTSIDER = "owner@other-clinic.example"


@dataclass
class Demo:
    runtime: Runtime
    project_id: int

    def client(self, email: str = OWNER) -> TestClient:
        """A signed-in browser of `email` (the demo's users share one password)."""
        client = TestClient(create_app(self.runtime))
        password = PASSWORD if email == OUTSIDER else DEMO_PASSWORD
        assert log_in(client, email=email, password=password).status_code == 303
        return client

    def path(self, tail: str = "") -> str:
        return f"/p/{self.project_id}{tail}"


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo's 90 days up to NOW, and an outsider with a project of their own."""
    data_dir: Path = tmp_path_factory.mktemp("report-pages")
    runtime = bootstrap(
        Settings(
            database_url=database_url,
            data_dir=data_dir,
            secret_key="test-secret-key-not-for-production",
        )
    )
    try:
        with runtime.sessions() as session:
            summary = generate_demo(session, NOW, days=90, seed=7)
            make_tenant(session, "Other Clinic")
            session.commit()
        yield Demo(runtime, summary.project_id)
    finally:
        empty_all_tables(runtime)
        runtime.close()


@pytest.fixture(scope="module")
def owner(demo: Demo) -> TestClient:
    return demo.client()


class TableReader(HTMLParser):
    """The rows of each report table of a page, by table key: cell texts and links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: dict[str, list[str]] = {}
        self._key: str | None = None
        self._section: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section" and (values.get("id") or "").startswith("table-"):
            self._section = (values["id"] or "")[len("table-") :]
        elif tag == "tbody" and self._section:
            self._key = self._section
            self.tables[self._key] = []
            self.links[self._key] = []
        elif tag == "tr" and self._key:
            self.tables[self._key].append([])
        elif tag == "td" and self._key:
            self._cell = []
        elif tag == "a" and self._key and values.get("href"):
            self.links[self._key].append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._key and self._cell is not None:
            self.tables[self._key][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._key = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_tables(html: str) -> TableReader:
    reader = TableReader()
    reader.feed(html)
    return reader


def headline_value(html: str, key: str) -> str:
    match = re.search(
        rf'data-key="{key}">.*?class="headline-value">([^<]*)<', html, flags=re.DOTALL
    )
    assert match, f"no headline {key}"
    return unescape(match.group(1)).strip()


def as_int(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_overview_shows_headlines_with_comparison_and_charts(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"?{PERIOD}"))
    assert page.status_code == 200
    assert as_int(headline_value(page.text, "calls")) > 0
    assert "Previous period:" in page.text
    assert 'class="change change-' in page.text
    assert '<img src="data:image/svg+xml;base64,' in page.text
    assert "Install the tracking script" in page.text


def test_overview_hides_the_tracking_tag_from_a_viewer(demo: Demo) -> None:
    page = demo.client(VIEWER).get(demo.path(f"?{PERIOD}"))
    assert page.status_code == 200
    assert as_int(headline_value(page.text, "calls")) > 0
    assert "Install the tracking script" not in page.text


def test_the_report_list_links_every_report(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path("/reports"))
    assert page.status_code == 200
    for report_id in REPORT_IDS:
        assert f'href="{demo.path("/reports/" + report_id)}"' in page.text


@pytest.mark.parametrize("report_id", REPORT_IDS)
def test_every_report_page_renders_with_data(demo: Demo, owner: TestClient, report_id: str) -> None:
    page = owner.get(demo.path(f"/reports/{report_id}?{PERIOD}"))
    assert page.status_code == 200, page.text[:500]
    tables = read_tables(page.text).tables
    assert any(rows for rows in tables.values()) or 'class="heatmap"' in page.text
    assert 'name="period"' in page.text
    assert "<script>" not in page.text


def test_a_filter_changes_the_figures_and_stays_in_the_form(demo: Demo, owner: TestClient) -> None:
    everything = owner.get(demo.path(f"?{PERIOD}")).text
    only_google = owner.get(demo.path(f"?{PERIOD}&source=google")).text
    assert (
        0
        < as_int(headline_value(only_google, "calls"))
        < as_int(headline_value(everything, "calls"))
    )
    assert 'name="source" value="google"' in only_google


def test_drill_links_carry_the_period_and_the_filters(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"/reports/campaigns?{PERIOD}&source=google&status=answered"))
    assert page.status_code == 200
    links = [
        link
        for links in read_tables(page.text).links.values()
        for link in links
        if link.startswith(demo.path("/calls?"))
    ]
    assert links
    for link in links:
        query = parse_qs(urlsplit(unescape(link)).query, keep_blank_values=True)
        assert query["source"] == ["google"]
        assert query["status"] == ["answered"]
        assert query["from"] == ["2026-02-17"]
        assert "campaign" in query


def test_the_longest_calls_link_to_their_call_page(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"/reports/duration?{PERIOD}"))
    reader = read_tables(page.text)
    call_links = [
        link
        for links in reader.links.values()
        for link in links
        if re.fullmatch(rf"/p/{demo.project_id}/calls/\d+", link)
    ]
    assert call_links
    # The recordings play on the call's page: no link needs an API key.
    assert "Listen" in page.text
    assert 'href="/api/' not in page.text


@pytest.mark.parametrize("report_id", ["keywords", "sources", "missed"])
def test_downloads_hold_the_rows_of_the_page(demo: Demo, owner: TestClient, report_id: str) -> None:
    page = owner.get(demo.path(f"/reports/{report_id}?{PERIOD}&status=answered"))
    key, rows = next(iter(read_tables(page.text).tables.items()))
    assert rows
    query = f"{PERIOD}&status=answered&table={key}"
    csv_response = owner.get(demo.path(f"/reports/{report_id}.csv?{query}"))
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    csv_rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    xlsx_response = owner.get(demo.path(f"/reports/{report_id}.xlsx?{query}"))
    assert xlsx_response.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    assert sheet is not None
    xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    # Header, the page's rows in order, then the totals row.
    assert len(csv_rows) == len(xlsx_rows) == len(rows) + 2
    for page_row, csv_row, xlsx_row in zip(rows, csv_rows[1:], xlsx_rows[1:], strict=False):
        # Files keep values as computed (ISO dates); the page formats them for the reader.
        label = csv_row[0]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", label):
            label = Formatter("en").date(label)
            assert str(xlsx_row[0]).startswith(csv_row[0])
        else:
            assert str(xlsx_row[0]) == csv_row[0]
        assert page_row[0] == label


def test_another_tenant_cannot_open_the_report_pages(demo: Demo) -> None:
    outsider = demo.client(OUTSIDER)
    for tail in ("", "/reports", "/reports/keywords", "/reports/keywords.csv"):
        response = outsider.get(demo.path(f"{tail}?{PERIOD}"))
        assert response.status_code == 404, tail
        assert "Demo" not in response.text


def test_unknown_reports_tables_and_formats_are_not_found(demo: Demo, owner: TestClient) -> None:
    for tail in ("/reports/nope", "/reports/nope.csv", "/reports/keywords.pdf"):
        assert owner.get(demo.path(tail)).status_code == 404, tail
    assert owner.get(demo.path(f"/reports/keywords.csv?{PERIOD}&table=nope")).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-03-10&to=2026-03-01", "The period ends before it starts."),
        ("from=yesterday", "Dates must be written as YYYY-MM-DD."),
        ("period=fortnight", "Unknown period"),
        ("from=2020-01-01&to=2026-01-01", "A period may be at most three years long."),
    ],
)
def test_a_bad_period_shows_the_form_with_the_reason(
    demo: Demo, owner: TestClient, query: str, message: str
) -> None:
    for tail in ("", "/reports/keywords", "/reports/keywords.csv"):
        response = owner.get(demo.path(f"{tail}?{query}"))
        assert response.status_code == 400, tail
        assert message in response.text
        assert 'name="period"' in response.text


def test_the_sources_report_groups_by_the_choice(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"/reports/sources?{PERIOD}&by=medium")).text
    assert '<option value="medium" selected>' in page
    assert "cpc" in page


def test_the_profit_report_takes_the_attribution_model(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"/reports/profit?{PERIOD}&model=linear"))
    assert page.status_code == 200
    assert '<option value="linear" selected>' in page.text
    assert owner.get(demo.path(f"/reports/profit?{PERIOD}&model=magic")).status_code == 400


def test_quality_and_pool_health_say_what_to_aim_for(demo: Demo, owner: TestClient) -> None:
    quality = owner.get(demo.path(f"/reports/quality?{PERIOD}")).text
    assert "Goal: " in quality
    pools = owner.get(demo.path(f"/reports/pool_health?{PERIOD}")).text
    assert re.search(r"Pool .+(recommended|large enough)", pools)


def test_the_heatmap_is_a_shaded_table(demo: Demo, owner: TestClient) -> None:
    page = owner.get(demo.path(f"/reports/heatmap?{PERIOD}")).text
    assert 'class="heatmap"' in page
    assert 'class="heat-5"' in page
    assert 'style="' not in page


@pytest.mark.parametrize(("lang", "month"), [("ru", "мар."), ("uk", "бер.")])
def test_pages_speak_the_chosen_language(
    demo: Demo, owner: TestClient, lang: str, month: str
) -> None:
    for tail in ("", "/reports/profit", "/reports/heatmap"):
        page = owner.get(demo.path(f"{tail}?{PERIOD}&lang={lang}"))
        assert page.status_code == 200
        assert page.headers["content-language"] == lang
        assert f'<html lang="{lang}">' in page.text
        # Dates in the comparison line are in the language's own format.
        assert month in page.text
    money = owner.get(demo.path(f"/reports/profit?{PERIOD}&lang={lang}")).text
    assert "₴" in money
