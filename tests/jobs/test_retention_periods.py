"""Per-project retention of calls, visits, transcripts and recordings, on both backends.

Old rows go in bounded batches, newer ones stay, recording files go with their calls, and
reports are unchanged: rollups of the deleted days are kept (counts, no personal data).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.jobs.retention import enforce_retention
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime
from ringtrail.services.accounts import issue_api_key
from ringtrail.services.projects import update_project
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage.models import Call, Organization, Project, Recording, Visit, Visitor
from tests.recordings.rows import AUDIO, T0, add_call, add_recording
from tests.services.reports.hand_fixture import build_hand_world

NOW = datetime(2025, 1, 20, tzinfo=UTC)


def _count(db: Session, model: Any, project: Project) -> int:
    return int(
        db.scalar(select(func.count()).select_from(model).where(model.project_id == project.id))
        or 0
    )


def _report(
    client: TestClient, auth: dict[str, str], project: Project, first: str, last: str
) -> Any:
    answer = client.get(
        "/api/v1/reports/campaigns",
        params={"project_id": project.id, "from": first, "to": last},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["headlines"], body["tables"][0]["rows"]


def test_old_calls_and_visits_go_and_reports_stay_as_they_were(
    runtime: Runtime, db: Session, client: TestClient
) -> None:
    hand = build_hand_world(db)
    project = hand.project
    organization = db.get(Organization, project.organization_id)
    assert organization is not None
    auth = {"Authorization": f"Bearer {issue_api_key(db, organization, 'k', Role.VIEWER).secret}"}
    rebuild_project(db, project.id, now=NOW)
    db.commit()
    cutoff = NOW - timedelta(days=11)
    old_calls = db.scalar(
        select(func.count(Call.id)).where(Call.project_id == project.id, Call.started_at < cutoff)
    )
    assert old_calls and old_calls < _count(db, Call, project)
    kept_before = _report(client, auth, project, "2025-01-10", "2025-01-11")
    old_before = _report(client, auth, project, "2025-01-01", "2025-01-08")

    update_project(db, project, {"call_retention_days": 11, "visit_retention_days": 11})
    db.commit()
    report = enforce_retention(runtime.engine, make_store(runtime.settings), NOW)

    db.expire_all()
    assert report.calls == old_calls
    assert (
        db.scalar(
            select(func.count(Call.id)).where(
                Call.project_id == project.id, Call.started_at < cutoff
            )
        )
        == 0
    )
    assert (
        db.scalar(
            select(func.count(Visit.id)).where(
                Visit.project_id == project.id, Visit.started_at < cutoff
            )
        )
        == 0
    )
    assert _count(db, Call, project) > 0 and _count(db, Visit, project) > 0
    assert _report(client, auth, project, "2025-01-10", "2025-01-11") == kept_before
    assert _report(client, auth, project, "2025-01-01", "2025-01-08") == old_before
    again = enforce_retention(runtime.engine, make_store(runtime.settings), NOW)
    assert (again.calls, again.visits, again.visitors) == (0, 0, 0)


def test_a_deleted_call_takes_its_recording_file_and_newer_ones_stay(
    runtime: Runtime, db: Session, project: Project
) -> None:
    store = make_store(runtime.settings)
    files = {}
    for days_ago in (40, 5):
        call = add_call(db, project, started_at=T0 - timedelta(days=days_ago))
        recording = add_recording(db, call, status="stored", storage_key=f"r/{days_ago}.mp3")
        recording.transcript = "hello"
        store.put(f"r/{days_ago}.mp3", AUDIO, "audio/mpeg")
        files[days_ago] = (call.id, recording.storage_key)
    project.recording_retention_days = None
    update_project(db, project, {"call_retention_days": 30})
    db.commit()

    report = enforce_retention(runtime.engine, store, T0)

    db.expire_all()
    assert report.calls == 1
    assert db.get(Call, files[40][0]) is None and not store.exists(files[40][1])
    assert db.get(Call, files[5][0]) is not None and store.exists(files[5][1])
    assert db.scalar(select(func.count(Recording.id))) == 1


def test_transcripts_go_before_the_calls_when_kept_shorter(
    runtime: Runtime, db: Session, project: Project
) -> None:
    call = add_call(db, project, started_at=T0 - timedelta(days=10))
    recording = add_recording(db, call, transcript="my number is five five five")
    update_project(db, project, {"transcript_retention_days": 7, "recording_retention_days": None})
    db.commit()
    report = enforce_retention(runtime.engine, make_store(runtime.settings), T0)
    db.expire_all()
    kept = db.get(Recording, recording.id)
    assert report.transcripts == 1 and kept is not None and kept.transcript is None
    assert db.get(Call, call.id) is not None


def test_retention_deletes_in_bounded_batches(
    runtime: Runtime, db: Session, project: Project
) -> None:
    for n in range(5):
        add_call(db, project, started_at=T0 - timedelta(days=60, minutes=n))
    update_project(db, project, {"call_retention_days": 30})
    db.commit()
    store = make_store(runtime.settings)
    first = enforce_retention(runtime.engine, store, T0, limit=3)
    assert (first.calls, first.busy) == (3, True)
    second = enforce_retention(runtime.engine, store, T0, limit=3)
    assert (second.calls, second.busy) == (2, False)


def test_shortening_recording_retention_applies_to_audio_already_stored(
    runtime: Runtime, db: Session, project: Project
) -> None:
    store = make_store(runtime.settings)
    call = add_call(db, project, started_at=T0 - timedelta(days=20))
    add_recording(db, call, status="stored", storage_key="r/20.mp3")
    store.put("r/20.mp3", AUDIO, "audio/mpeg")
    db.commit()  # queued under 30 days: due in 10 days
    update_project(db, project, {"recording_retention_days": 14})
    db.commit()
    report = enforce_retention(runtime.engine, store, T0)
    assert (report.rescheduled, report.recordings) == (1, 1)
    assert not store.exists("r/20.mp3")


def test_kept_forever_means_nothing_is_deleted(
    runtime: Runtime, db: Session, project: Project
) -> None:
    add_call(db, project, started_at=T0 - timedelta(days=3000))
    db.add(Visitor(project_id=project.id, public_id="v", first_seen_at=T0, last_seen_at=T0))
    db.commit()
    report = enforce_retention(runtime.engine, make_store(runtime.settings), T0)
    assert report.total == 0 and _count(db, Call, project) == 1
