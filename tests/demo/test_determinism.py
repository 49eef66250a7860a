"""The demo is reproducible: the same seed and clock give the same data, another seed does not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ringtrail.demo.generator import generate_demo
from ringtrail.runtime import bootstrap
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.storage.models import AdCost, Call, Visit

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def _fingerprint(directory: Path, seed: int) -> list[Any]:
    settings = Settings(database_url=f"sqlite:///{directory / 'demo.db'}", data_dir=directory)
    migrate.upgrade(settings.sqlalchemy_url)
    runtime = bootstrap(settings)
    try:
        with runtime.sessions() as db:
            generate_demo(db, NOW, days=14, seed=seed)
            db.commit()
            calls = db.execute(
                select(Call.caller_e164, Call.started_at, Call.status, Call.source).order_by(
                    Call.id
                )
            )
            visits = db.execute(select(Visit.started_at, Visit.source).order_by(Visit.id))
            costs = db.execute(select(AdCost.day, AdCost.cost).order_by(AdCost.id))
            return [list(calls), list(visits), list(costs)]
    finally:
        runtime.close()


def test_same_seed_and_clock_give_the_same_demo(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _fingerprint(tmp_path / "a", 5) == _fingerprint(tmp_path / "b", 5)


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _fingerprint(tmp_path / "a", 5) != _fingerprint(tmp_path / "b", 6)
