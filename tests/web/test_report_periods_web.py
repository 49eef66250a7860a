"""Report periods on the web: a calendar month is compared with the calendar month before
(or, when asked, with the same month a year earlier) in the API and the dashboard, and the
picker shows the active preset."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.web.dashboard.browser import log_in

NOVEMBER = "from=2026-11-01&to=2026-11-30"


def _report(client: TestClient, world: World, query: str) -> dict[str, object]:
    response = client.get(
        f"/api/v1/reports/overview?project_id={world.ours.project.id}&{query}",
        headers=world.ours.project_auth,
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_api_compares_november_with_october_or_with_last_november(
    client: TestClient, world: World
) -> None:
    previous = _report(client, world, NOVEMBER)["previous_period"]
    assert previous == {"from": "2026-10-01", "to": "2026-10-31"}
    last_year = _report(client, world, f"{NOVEMBER}&compare=previous_year")["previous_period"]
    assert last_year == {"from": "2025-11-01", "to": "2025-11-30"}
    bad = client.get(
        f"/api/v1/reports/overview?project_id={world.ours.project.id}&compare=week",
        headers=world.ours.project_auth,
    )
    assert bad.status_code == 422


def _comparison(html: str) -> str:
    found = re.search(r'<p class="comparison">(.*?)</p>', html, re.S)
    assert found, "no comparison line"
    return " ".join(found.group(1).split())


def test_the_dashboard_compares_calendar_months_and_keeps_the_choice(
    client: TestClient, world: World
) -> None:
    log_in(client)
    path = f"/p/{world.ours.project.id}/reports/missed"
    november = client.get(f"{path}?{NOVEMBER}")
    assert november.status_code == 200
    assert _comparison(november.text).endswith("compared with Oct 1, 2026 \u2013 Oct 31, 2026")
    last_year = client.get(f"{path}?{NOVEMBER}&compare=previous_year")
    assert last_year.status_code == 200
    assert _comparison(last_year.text).endswith("compared with Nov 1, 2025 \u2013 Nov 30, 2025")
    assert '<option value="previous_year" selected>' in last_year.text
    # the export links keep the comparison
    assert "compare=previous_year" in last_year.text
    assert client.get(f"{path}?compare=week").status_code == 400


def test_the_picker_shows_the_active_preset(client: TestClient, world: World) -> None:
    log_in(client)
    path = f"/p/{world.ours.project.id}"
    default = client.get(path).text
    assert '<option value="last_30_days" selected' in default
    assert '<option value="custom" selected' not in default
    assert 'aria-current="true">Last 30 days<' in default
    chosen = client.get(f"{path}?period=last_month").text
    assert '<option value="last_month" selected' in chosen
    assert 'aria-current="true">Last month<' in chosen
    dates = client.get(f"{path}?{NOVEMBER}").text
    assert '<option value="custom" selected' in dates
    assert 'aria-current="true"' not in dates
