"""The dashboard's browser tests' world: the demo project in its own database, served live.

`demo_world` builds one database per backend (SQLite file or a fresh PostgreSQL database),
fills it with `generate_demo` at a fixed `NOW`, rebuilds the rollups as after a bulk load
(so later changes go through the stale-day path), stores the demo recording and serves the
real app under uvicorn. Pages are opened with an explicit period around `NOW`, so the
figures never depend on the day the suite runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from ringtrail.demo import catalog
from ringtrail.demo.audio import DEMO_RECORDING_KEY, demo_recording_wav
from ringtrail.demo.generator import generate_demo
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.settings import Settings
from ringtrail.storage import migrate
from ringtrail.web.app import create_app
from tests.browser.conftest import DESKTOP_CHROME, LiveApp
from tests.conftest import create_postgres_database, drop_postgres_database, to_sqlalchemy_url

NOW = datetime(2025, 5, 20, 9, 30, tzinfo=UTC)
DAYS = 30
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SALES_EMAIL = next(p.email for p in catalog.PEOPLE if p.role == "sales")
VIEWER_EMAIL = next(p.email for p in catalog.PEOPLE if p.role == "viewer")


@dataclass
class DemoWorld:
    """The live app on the demo database and what the tests need to find their way."""

    app: LiveApp
    runtime: Runtime
    project_id: int

    @property
    def base(self) -> str:
        return self.app.base

    @property
    def period(self) -> dict[str, str]:
        """The last DAYS local days up to NOW, as the report form's `from` / `to`."""
        today = NOW.astimezone(ZoneInfo(catalog.TIMEZONE)).date()
        start = today - timedelta(days=DAYS - 1)
        return {"from": start.isoformat(), "to": today.isoformat()}

    def url(self, path: str, **params: str | list[str]) -> str:
        """An absolute URL of a page of the demo project (`path` after /p/{id}), with the
        period and `params` in its query."""
        query = urlencode({**self.period, **params}, doseq=True)
        return f"{self.base}/p/{self.project_id}{path}?{query}"


def _database(backend: str, directory: Path) -> tuple[str, str | None]:
    """A migrated empty database for `backend`: its URL and the PostgreSQL one to drop."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'dashboard.db'}"
        migrate.upgrade(to_sqlalchemy_url(url))
        return url, None
    url = create_postgres_database("ringtrail_dashboard")
    migrate.upgrade(to_sqlalchemy_url(url))
    return url, url


@contextmanager
def demo_world(backend: str, directory: Path) -> Iterator[DemoWorld]:
    """The demo served live on `backend`; everything is removed afterwards."""
    url, to_drop = _database(backend, directory)
    try:
        settings = Settings(
            database_url=url,
            data_dir=directory / "data",
            secret_key="test-secret-key-not-for-production",
        )
        runtime = bootstrap(settings)
        try:
            with runtime.sessions() as db:
                summary = generate_demo(db, NOW, days=DAYS)
                db.commit()
                rebuild_project(db, summary.project_id, now=NOW)
            make_store(settings).put(DEMO_RECORDING_KEY, demo_recording_wav(), "audio/wav")
            app = LiveApp(create_app(runtime))
            app.start()
            try:
                yield DemoWorld(app, runtime, summary.project_id)
            finally:
                app.stop()
        finally:
            runtime.close()
    finally:
        if to_drop is not None:
            drop_postgres_database(to_drop)


@dataclass
class Console:
    """What a page's scripts and the browser logged as errors (CSP violations included)."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "assert"):
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        if not any(pattern.search(text) for pattern in self.allowed):
            self.errors.append(text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def allow(self, pattern: str) -> None:
        """Expect a logged error matching `pattern` (a 403 page logs its own status)."""
        self.allowed.append(re.compile(pattern))


@dataclass
class Visitor:
    """One signed-in browser context and its console."""

    context: BrowserContext
    page: Page
    console: Console


def open_visitor(browser: Browser, viewport: dict[str, int] = DESKTOP) -> Visitor:
    """A fresh browser context with one page whose console errors are collected."""
    context = browser.new_context(
        user_agent=DESKTOP_CHROME,
        viewport={"width": viewport["width"], "height": viewport["height"]},
        accept_downloads=True,
    )
    # Generous waits: the suite shares a busy machine, and a slow page is not a wrong page.
    context.set_default_timeout(60_000)
    page = context.new_page()
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    return Visitor(context, page, console)


def log_in(page: Page, base: str, email: str, password: str = catalog.DEMO_PASSWORD) -> None:
    """Sign in through the login form, the way a person does."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    assert "/login" not in page.url, f"sign-in as {email} failed: {page.url}"
