"""Migrations: they run both ways on SQLite and PostgreSQL and build exactly the models."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from ringtrail.storage import migrate
from ringtrail.storage.db import make_engine
from ringtrail.storage.encryption import Keyring, bind_keyring
from ringtrail.storage.models import Base, Organization, Project
from tests.conftest import (
    BACKENDS,
    create_postgres_database,
    drop_postgres_database,
    to_sqlalchemy_url,
)

MIGRATION_KEY = "a key for the projects these tests write, 32+ characters"


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An SQLAlchemy URL of a database with no tables yet."""
    if request.param == "sqlite":
        yield to_sqlalchemy_url(f"sqlite:///{tmp_path / 'migrations.db'}")
        return
    url = create_postgres_database("ringtrail_migrations")
    try:
        yield to_sqlalchemy_url(url)
    finally:
        drop_postgres_database(url)


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_upgrade_downgrade_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) == set()
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)


def test_migrated_schema_matches_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert _differences(empty_database) == []


def test_the_alembic_command_runs_up_down_and_up(empty_database: str, tmp_path: Path) -> None:
    """The documented operator path: `alembic upgrade head`, `downgrade base`, `upgrade head`."""
    root = Path(__file__).parents[2]
    alembic = Path(sys.executable).with_name("alembic")
    url = empty_database.replace("postgresql+psycopg://", "postgresql://")
    environment = {
        **os.environ,
        "RINGTRAIL_DATABASE_URL": url,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "data"),
    }
    for step in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
        done = subprocess.run(
            [str(alembic), *step], cwd=root, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, (step, done.stderr)
    assert _tables(empty_database) == set(Base.metadata.tables)
    assert _differences(empty_database) == []


def test_rebuilding_the_calls_table_keeps_the_rows_that_point_at_it(empty_database: str) -> None:
    """0003 rebuilds `calls` on SQLite (batch mode): the cascade must not empty its children."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0002")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO calls (id, provider, provider_call_id, direction, dialled_e164,"
                    " started_at, status, needs_callback, attribution_kind, attribution_reason,"
                    " confidence, candidates, snapshot, created_at) VALUES (1, 'test', 'c1',"
                    " 'inbound', '+380441234567', '2026-11-23 10:00:00+00:00', 'answered', false,"
                    " 'static', '', 1.0, '[]', '{}', '2026-11-23 10:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO call_events (id, call_id, provider, dedupe_key, event_type,"
                    " occurred_at, received_at, payload) VALUES (1, 1, 'test', 'k1', 'started',"
                    " '2026-11-23 10:00:00+00:00', '2026-11-23 10:00:00+00:00', '{}')"
                )
            )
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM call_events")).scalar() == 1
            assert connection.execute(text("SELECT lead_id FROM calls")).scalar() is None
    finally:
        engine.dispose()


def _project(db: Session) -> SimpleNamespace:
    """A project in a database migrated to an older revision (its tables are unchanged)."""
    bind_keyring(db.get_bind(), Keyring.from_materials(MIGRATION_KEY))
    organization = Organization(name="Org", slug="org")
    db.add(organization)
    db.flush()
    # A Core insert names only the columns given (and those with defaults), so it works on a
    # `projects` table that lacks columns added by later revisions.
    project_id = db.execute(
        insert(Project)
        .values(
            organization_id=organization.id,
            name="Site",
            slug="site",
            public_key="pk_migration",
            webhook_secret="secret",
        )
        .returning(Project.id)
    ).scalar_one()
    return SimpleNamespace(id=project_id)


def test_0005_keeps_the_rollups_of_an_existing_database(empty_database: str) -> None:
    """Visit rollups without the page are summed from the existing ones; built days are
    marked stale so the job builds their money rollups."""
    from datetime import date

    from sqlalchemy import text

    from ringtrail.storage.models import RollupDay, VisitRollup

    migrate.upgrade(empty_database, "0004")
    engine = make_engine(empty_database)
    try:
        with Session(engine) as db:
            project = _project(db)
            day = date(2026, 11, 1)
            for page, visits in (("/a", 3), ("/b", 4)):
                db.add(
                    VisitRollup(
                        project_id=project.id,
                        day=day,
                        source="google",
                        medium="cpc",
                        campaign="spring",
                        landing_page=page,
                        visits=visits,
                    )
                )
            db.add(RollupDay(project_id=project.id, day=day))
            db.commit()
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT source, medium, campaign, visits FROM visit_source_rollups")
            ).all() == [("google", "cpc", "spring", 7)]
            assert connection.execute(text("SELECT generation FROM rollup_dirty")).all() == [(1,)]
    finally:
        engine.dispose()


def test_0006_sums_the_existing_call_rollups_by_source(empty_database: str) -> None:
    """Every built day gets its source rows: status and first-time summed over, the campaign
    too except for the total."""
    from datetime import date

    from sqlalchemy import column as sql_column
    from sqlalchemy import insert, text
    from sqlalchemy import table as sql_table

    from ringtrail.domain.reports.counts import MEASURES

    migrate.upgrade(empty_database, "0005")
    engine = make_engine(empty_database)
    try:
        with Session(engine) as db:
            project = _project(db)
            rows = [
                ("total", "", "spring", "answered", True, 2, 100),
                ("total", "", "spring", "missed", False, 1, 0),
                ("total", "", "autumn", "answered", False, 4, 30),
                ("keyword", "flats", "spring", "answered", True, 2, 100),
                ("keyword", "flats", "autumn", "missed", False, 5, 0),
            ]
            # Only the columns revision 0005 has (the model has grown since).
            columns = ("dimension", "value", "campaign", "status", "is_first_time", "calls")
            old_measures = [c for c in MEASURES if c not in ("calls", "talk_seconds")]
            old_measures = [c for c in old_measures if not c.startswith("target_by_")]
            for row in rows:
                values = dict(zip(columns, row[:6], strict=True))
                values.update(project_id=project.id, day=date(2026, 11, 1), source="google")
                values.update(dict.fromkeys(old_measures, 0), talk_seconds=row[6])
                table = sql_table("call_rollups", *(sql_column(name) for name in values))
                db.execute(insert(table).values(**values))
            db.commit()
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            assert sorted(
                connection.execute(
                    text(
                        "SELECT dimension, value, source, campaign, calls, talk_seconds"
                        " FROM call_source_rollups"
                    )
                ).all()
            ) == [
                ("keyword", "flats", "google", "", 7, 100),
                ("total", "", "google", "autumn", 4, 30),
                ("total", "", "google", "spring", 3, 100),
            ]
    finally:
        engine.dispose()


def test_0008_keeps_plaintext_webhook_secrets_readable_both_ways(empty_database: str) -> None:
    """Values written before 0008 are plaintext: kept as they are, up and down again."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0007")
    engine = make_engine(empty_database)
    bind_keyring(engine, Keyring.from_materials(MIGRATION_KEY))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organizations (id, name, slug, created_at) "
                    "VALUES (1, 'Org', 'org', '2026-12-01 00:00:00+00:00')"
                )
            )
            connection.execute(text(
                "INSERT INTO projects (id, organization_id, name, slug, public_key, timezone,"
                " currency, default_country, allowed_domains, replace_numbers, swap_selectors,"
                " attribution_touch, grace_minutes, cooldown_minutes, unique_call_window_days,"
                " recording_retention_days, target_call_goal_percent, attribution_model,"
                " webhook_secret, extra, created_at) VALUES (1, 1, 'Site', 'site', 'pk', 'UTC',"
                " 'USD', 'US', '[]', '[]', '[]', 'last', 15, 30, 30, 365, 80, 'last_non_direct',"
                " 'legacy-plain-secret', '{}', '2026-12-01 00:00:00+00:00')"
            ))  # fmt: skip
        migrate.upgrade(empty_database, "0008")
        with Session(engine) as db:
            secret = db.scalar(select(Project.webhook_secret).where(Project.id == 1))
            assert secret == "legacy-plain-secret"
        migrate.downgrade(empty_database, "0007")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT webhook_secret FROM projects")).scalar() == (
                "legacy-plain-secret"
            )
    finally:
        engine.dispose()


def test_0013_clears_the_never_checked_secrets_of_sip_accounts_only(empty_database: str) -> None:
    from sqlalchemy import text

    from ringtrail.storage.models import TelephonyAccount

    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    bind_keyring(engine, Keyring.from_materials(MIGRATION_KEY))
    try:
        with Session(engine) as db:
            org = Organization(name="Org", slug="org")
            db.add(org)
            db.flush()
            project = Project(
                organization_id=org.id, name="Site", slug="site", public_key="pk",
                webhook_secret="current",
            )  # fmt: skip
            db.add(project)
            db.flush()
            for provider in ("sip", "twilio"):
                db.add(TelephonyAccount(project_id=project.id, provider=provider, secret="s"))
            db.commit()
        migrate.downgrade(empty_database, "0012")
        migrate.upgrade(empty_database, "0013")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT provider, secret IS NULL FROM telephony_accounts ORDER BY provider")
            ).all()
        assert [(provider, bool(cleared)) for provider, cleared in rows] == [
            ("sip", True),
            ("twilio", False),
        ]
    finally:
        engine.dispose()
