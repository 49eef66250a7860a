"""A call's transcript on its page (speakers, times that seek the player, status, progress,
the error and another try), the calls log search by what was said, and the speech engine's
state on the set-up page; in English and Ukrainian."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.transcripts import ImportedTranscript, import_transcript, queue_transcript
from ringtrail.speech.engine import Segment
from ringtrail.storage.models import CallTranscript, Recording
from tests.call_rows import T0, add_call
from tests.conftest import World
from tests.web.dashboard.browser import csrf_of, log_in

SAID = (
    Segment("caller", 0.0, 2.0, "Do you fix roofs?"),
    Segment("business", 65.5, 67.0, "Yes, every weekday"),
)


def call_page(client: TestClient, world: World, call_id: int, **params: str) -> str:
    response = client.get(f"/p/{world.ours.project.id}/calls/{call_id}", params=params)
    assert response.status_code == 200, response.text
    return response.text


def test_the_transcript_is_shown_with_speakers_and_times_that_seek_the_player(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    db.add(Recording(call_id=call.id, status="stored", storage_key="k/1.wav"))
    db.commit()
    import_transcript(db, world.ours.project, call.id, ImportedTranscript(SAID, "en"), T0)
    log_in(client)

    page = call_page(client, world, call.id)

    assert "Do you fix roofs?" in page and "Yes, every weekday" in page
    assert re.search(r'<span class="transcript-speaker">Caller</span>', page)
    assert re.search(r'<span class="transcript-speaker">Business</span>', page)
    seek = re.search(r'href="(/recordings/[^"#]+)#t=65\.50" data-seek="65\.50"[^>]*>1:05<', page)
    assert seek, page
    assert "imported from provider" in page
    ukrainian = call_page(client, world, call.id, lang="uk")
    assert "Розшифровка" in ukrainian and "Компанія" in ukrainian
    assert "Слухати з 1:05" in ukrainian


def test_a_missing_model_shows_on_the_call_and_another_try_can_be_asked(
    client: TestClient, world: World, db: Session
) -> None:
    call = add_call(db, world.ours.project)
    recording = Recording(call_id=call.id, status="stored", storage_key="k/2.wav")
    db.add(recording)
    db.flush()
    queue_transcript(db, call.id, recording.id, T0)
    row = db.query(CallTranscript).one()
    row.attempts = 3
    row.error = "speech model 'small' is not installed: see docs/lead-quality.md"
    db.commit()
    log_in(client)

    page = call_page(client, world, call.id)
    assert "Waiting to be transcribed" in page
    assert "speech model &#39;small&#39; is not installed" in page
    retried = client.post(
        f"/p/{world.ours.project.id}/calls/{call.id}/transcript/retry",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )

    assert retried.status_code == 303
    assert retried.headers["location"].endswith(f"/calls/{call.id}#transcript")
    db.expire_all()
    assert (db.query(CallTranscript).one().attempts, db.query(CallTranscript).one().error) == (
        0,
        None,
    )


def test_the_calls_log_finds_a_call_by_what_was_said_in_ukrainian_too(
    client: TestClient, world: World, db: Session
) -> None:
    roofs, other = add_call(db, world.ours.project), add_call(db, world.ours.project)
    db.commit()
    import_transcript(db, world.ours.project, roofs.id, ImportedTranscript(SAID), T0)
    log_in(client)

    found = client.get(f"/p/{world.ours.project.id}/calls", params={"transcript": "roofs"}).text
    ukrainian = client.get(
        f"/p/{world.ours.project.id}/calls",
        params={"transcript": "roofs", "lang": "uk"},
    ).text

    assert f"/calls/{roofs.id}" in found and f"/calls/{other.id}" not in found
    assert "Said on the call" in found
    assert f"/calls/{roofs.id}" in ukrainian and "Сказано в розмові" in ukrainian


def test_the_set_up_page_says_whether_calls_are_transcribed_here(
    client: TestClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    runtime.settings.speech_model = "small"
    runtime.settings.speech_models_dir = tmp_path / "models"
    log_in(client)

    page = client.get(f"/p/{world.ours.project.id}/setup").text

    assert "Speech to text" in page
    assert "Call recordings are not transcribed on this server." in page
    assert "speech model &#39;small&#39; is not installed: see docs/lead-quality" in page
