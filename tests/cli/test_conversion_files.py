"""`ringtrail conversions export` on SQLite and PostgreSQL: the file on standard output or in a
file, and on standard error how many conversions it holds and why the rest are left out."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from tests.cli.conftest import Invoke, assert_one_error_line
from tests.conftest import World
from tests.integrations.conversion_file_rows import GCLID, YM_UID, arrange


def test_the_export_command(
    backend_invoke: Invoke, db: Session, world: World, tmp_path: Path
) -> None:
    project = world.ours.project
    files = arrange(db, project)
    day = files.day.isoformat()
    args = ["conversions", "export", "--project", str(project.id), "--from", day, "--to", day]
    google = backend_invoke(*args, "--destination", str(files.google.id))
    assert google.exit_code == 0, google.output
    assert google.stdout_bytes.startswith(b"Parameters:TimeZone=Europe/Kyiv\r\nGoogle Click ID,")
    assert GCLID in google.stdout
    assert "2 conversion(s) from 7 call(s); left out: " in google.stderr
    assert "click older than 90 days (1)" in google.stderr
    target = tmp_path / "calls.csv"
    yandex = backend_invoke(*args, "--destination", str(files.yandex.id), "-o", str(target))
    assert yandex.exit_code == 0, yandex.output
    assert target.read_text(encoding="utf-8").startswith("ClientId,DateTime,")
    assert YM_UID in target.read_text(encoding="utf-8")
    bad = backend_invoke(*args[:4], "--from", "2026-12-09", "--to", "2026-12-01",
                         "--destination", str(files.google.id))  # fmt: skip
    assert "must not be before from" in assert_one_error_line(bad, 2)
    theirs = backend_invoke(
        "conversions", "export", "--project", str(world.outsider.project.id),
        "--destination", str(files.google.id),
    )  # fmt: skip
    assert "no destination" in assert_one_error_line(theirs, 1)
