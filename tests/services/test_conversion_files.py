"""Conversion files from a project's calls: Google Ads' import template and Metrica's calls
file hold exactly the calls the destination's rule counts and the platform can match, and
say why each other call is left out."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ringtrail.services.conversion_files import build_conversion_file, day_range
from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.services.errors import InvalidInput, NotFound
from tests.conftest import World
from tests.integrations.conversion_file_rows import GCLID, YM_UID, arrange


def test_the_google_file_holds_the_matchable_counted_calls(db: Session, world: World) -> None:
    project = world.ours.project
    files = arrange(db, project)
    made = build_conversion_file(db, project, files.google.id, files.day, files.day,
                                 datetime.now(UTC))  # fmt: skip
    lines = made.content.splitlines()
    assert lines[0] == "Parameters:TimeZone=Europe/Kyiv"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert [(r["Google Click ID"], r["GBRAID"]) for r in rows] == [(GCLID, ""), ("", "GB-ios-1")]
    assert rows[0]["Conversion Name"] == "Phone call"
    assert rows[0]["Conversion Time"] == f"{files.day.isoformat()} 12:00:00"  # Kyiv, UTC+2
    assert (rows[0]["Conversion Value"], rows[0]["Conversion Currency"]) == ("150.00", "UAH")
    assert (made.rows, made.calls_seen) == (2, 7)
    assert dict(made.reasons()) == {
        "no gclid: the visit was direct (no ad click)": 2,
        "no gclid: the visit came from organic search (google)": 1,
        "call was not answered": 1,
        "click older than 90 days": 1,
    }
    assert made.filename.startswith("google-ads-click-conversions-")
    assert "left out: no gclid: the visit was direct (no ad click) (2)" in made.summary()


def test_the_metrica_file_links_on_the_client_id(db: Session, world: World) -> None:
    project = world.ours.project
    files = arrange(db, project)
    made = build_conversion_file(db, project, files.yandex.id, files.day, files.day,
                                 datetime.now(UTC))  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(made.content)))
    assert [r["ClientId"] for r in rows] == [YM_UID, YM_UID]
    assert {r["PhoneNumber"] for r in rows} == {"+380671234567"}
    assert all(r["DateTime"].isdigit() and r["StaticCall"] == "0" for r in rows)
    reasons = dict(made.reasons())
    assert reasons["no Yandex ClientId or yclid on the visit"] == 3
    assert reasons["only a yclid on the visit: this file links calls by ClientId"] == 1
    assert reasons["call was not answered"] == 1


def test_a_yclid_destination_makes_a_yclid_file(db: Session, world: World) -> None:
    project = world.ours.project
    files = arrange(db, project)
    by_yclid = create_destination(db, project, kind="yandex_metrica", name="Metrica yclid",
                                  config={"upload": "file", "id_type": "YCLID"})  # fmt: skip
    made = build_conversion_file(db, project, by_yclid.id, files.day, files.day, datetime.now(UTC))
    assert made.content.splitlines()[0].startswith("Yclid,DateTime,")
    assert made.rows == 1


def test_days_without_calls_make_an_empty_file_that_says_so(db: Session, world: World) -> None:
    project = world.ours.project
    files = arrange(db, project)
    empty_day = files.day - timedelta(days=10)
    made = build_conversion_file(db, project, files.google.id, empty_day, empty_day,
                                 datetime.now(UTC))  # fmt: skip
    assert (made.rows, made.calls_seen, made.left_out) == (0, 0, [])
    assert made.content.count("\r\n") == 2  # the time zone row and the header
    assert made.summary() == "0 conversion(s) from 0 call(s)"


def test_bad_days_and_other_destinations_are_refused(db: Session, world: World) -> None:
    project = world.ours.project
    files = arrange(db, project)
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="before from"):
        build_conversion_file(
            db, project, files.google.id, files.day, files.day - timedelta(1), now
        )
    with pytest.raises(InvalidInput, match="at most 366 days"):
        build_conversion_file(
            db, project, files.google.id, files.day - timedelta(400), files.day, now
        )
    with pytest.raises(NotFound):
        build_conversion_file(
            db, world.outsider.project, files.google.id, files.day, files.day, now
        )
    with pytest.raises(InvalidInput, match="must be a day"):
        day_range(project, "yesterday", None, now)


def test_the_default_days_are_the_last_week(world: World) -> None:
    now = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # already the 8th in Kyiv
    first, last = day_range(world.ours.project, None, None, now)
    assert (first.isoformat(), last.isoformat()) == ("2026-12-02", "2026-12-08")
