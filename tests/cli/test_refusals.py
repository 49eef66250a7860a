"""`ringtrail project refusals`: the project's refused visits, as on its dashboard page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.refusals import NoNumber, RefusalLog
from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World


def test_the_command_lists_refusals_in_words_with_the_origin_and_a_hint(
    backend_invoke: Invoke, runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    empty = backend_invoke("project", "refusals", str(project.id))
    assert empty.exit_code == 0 and "no refused visits yet" in empty.output
    log = RefusalLog(runtime.engine)
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    for _ in range(2):
        log.note(
            project.id,
            NoNumber.ORIGIN_NOT_ALLOWED,
            "http://localhost:8000",
            "http://localhost:8000/",
            "UA",
            now,
        )
    log.note(project.id, NoNumber.BOT, "headless_browser", "https://acme.example/", "UA", now)
    log.close()
    shown = backend_invoke("project", "refusals", str(project.id))
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split()[:3] == ["LAST", "SEEN", "(UTC)"]
    origin = next(line for line in lines if "http://localhost:8000" in line)
    assert "2026-12-01 09:30" in origin and " 2 " in origin
    assert "Site not in the allowed domains" in origin and "Add this domain" in origin
    bot = next(line for line in lines if "headless browser" in line)
    assert "Bot or testing tool" in bot and "test with a normal browser" in bot


def test_an_unknown_project_is_one_error_line(backend_invoke: Invoke, world: World) -> None:
    assert_one_error_line(backend_invoke("project", "refusals", "999999"), 1)
