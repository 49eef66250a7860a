"""The calls log downloads as people open them in Excel: the reader's CSV style, translated
statuses, phones without an apostrophe, a name saying project and period, recording links
that open in a browser, and the visit's click and analytics ids."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.call_rows import add_call, add_stored_recording, add_visit
from tests.conftest import World
from tests.web.dashboard.browser import log_in

IDS = {
    "gclid": "Cj0KCQ-test-gclid",
    "gbraid": "0AAAA-gbraid",
    "ga_client_id": "1234567890.1700000000",
    "ga_session_id": "1700000123",
    "fbp": "fb.1.1700000000.42",
    "fbc": "fb.1.1700000000.IwAR-click",
    "ym_uid": "1700000000987654321",
}


def calls_url(world: World, tail: str = "") -> str:
    return f"/p/{world.ours.project.id}/calls{tail}"


def _calls(db: Session, world: World) -> tuple[int, int]:
    project = world.ours.project
    visit = add_visit(db, project, **IDS)
    tracked = add_call(db, project, visit_id=visit.id, visitor_id=visit.visitor_id)
    add_stored_recording(db, tracked)
    missed = add_call(db, project, status="missed", talk_seconds=0)
    db.commit()
    return tracked.id, missed.id


def _rows(content: bytes, delimiter: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter)
    return list(reader)


def test_a_russian_csv_uses_semicolons_and_translated_statuses_and_headers(
    client: TestClient, world: World, db: Session
) -> None:
    tracked, missed = _calls(db, world)
    log_in(client)
    response = client.get(calls_url(world, ".csv?lang=ru"))
    assert response.status_code == 200
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("ID звонка;")
    rows = {int(row["ID звонка"]): row for row in _rows(response.content, ";")}
    assert rows[missed]["Статус"] == "Пропущенный"
    assert rows[tracked]["Статус"] == "Принятый"
    assert rows[missed]["Атрибуция"] == "Без атрибуции"  # the kind in words, not its code
    english = _rows(client.get(calls_url(world, ".csv?lang=en")).content, ",")
    assert {row["Status"] for row in english} == {"Answered", "Missed"}


def test_phones_keep_their_plus_without_a_visible_apostrophe(
    client: TestClient, world: World, db: Session
) -> None:
    _calls(db, world)
    log_in(client)
    rows = _rows(client.get(calls_url(world, ".csv?lang=en")).content, ",")
    assert {row["Caller"] for row in rows} == {"+380671234567"}
    assert {row["Tracking number"] for row in rows} == {"+380441234567"}
    sheet = load_workbook(io.BytesIO(client.get(calls_url(world, ".xlsx")).content)).active
    assert sheet is not None
    assert sheet["D2"].value == "+380671234567" and sheet["D2"].data_type == "s"


def test_the_file_is_named_after_the_project_and_the_period(
    client: TestClient, world: World, db: Session
) -> None:
    _calls(db, world)
    log_in(client)
    response = client.get(calls_url(world, ".csv?from=2025-03-01&to=2025-04-01"))
    disposition = response.headers["content-disposition"]
    slug = world.ours.project.slug
    assert disposition == f'attachment; filename="calls-{slug}-2025-03-01-2025-04-01.csv"'
    open_ended = client.get(calls_url(world, ".xlsx")).headers["content-disposition"]
    assert f"calls-{slug}-start-now.xlsx" in open_ended


def test_the_recording_column_links_to_signed_audio_a_browser_opens(
    client: TestClient, world: World, db: Session
) -> None:
    tracked, missed = _calls(db, world)
    log_in(client)
    rows = {
        int(row["Call ID"]): row for row in _rows(client.get(calls_url(world, ".csv")).content, ",")
    }
    assert rows[missed]["Recording"] == "false"
    link = urlsplit(rows[tracked]["Recording"])
    assert link.scheme in ("http", "https") and link.path.startswith("/recordings/")
    # Without a session the link is accepted (its audio is not in this test's store: 404,
    # where the API path answers 401 and a forged token 403).
    client.cookies.clear()
    assert client.get(link.path).status_code == 404
    assert client.get(link.path[:-3] + "AAA").status_code == 403


def test_the_export_and_the_list_show_the_visits_click_and_analytics_ids(
    client: TestClient, world: World, db: Session
) -> None:
    tracked, _ = _calls(db, world)
    log_in(client)
    rows = {
        int(row["Call ID"]): row for row in _rows(client.get(calls_url(world, ".csv")).content, ",")
    }
    assert rows[tracked]["gclid"] == IDS["gclid"]
    assert rows[tracked]["gbraid"] == IDS["gbraid"]
    assert rows[tracked]["GA client ID"] == IDS["ga_client_id"]
    assert rows[tracked]["GA session ID"] == IDS["ga_session_id"]
    assert rows[tracked]["_fbp"] == IDS["fbp"] and rows[tracked]["_fbc"] == IDS["fbc"]
    assert rows[tracked]["_ym_uid"] == IDS["ym_uid"]
    page = client.get(calls_url(world)).text
    for value in IDS.values():
        assert value in page


def test_a_report_download_links_recordings_and_follows_the_readers_csv_style(
    client: TestClient, world: World, db: Session
) -> None:
    tracked, _ = _calls(db, world)
    log_in(client)
    period = "from=2025-03-01&to=2025-03-01"
    url = f"/p/{world.ours.project.id}/reports/duration.csv?{period}&table=longest"
    response = client.get(url + "&lang=uk")
    assert response.status_code == 200
    slug = world.ours.project.slug
    assert (
        f"ringtrail-{slug}-duration-longest-2025-03-01-2025-03-01.csv"
        in (response.headers["content-disposition"])
    )
    rows = _rows(response.content, ";")
    recorded = [row for row in rows if row.get("Дзвінок") == str(tracked)]
    assert len(recorded) == 1
    link = urlsplit(recorded[0]["Запис"])
    assert link.scheme in ("http", "https") and link.path.startswith("/recordings/")
    assert "/api/" not in response.content.decode("utf-8-sig")
