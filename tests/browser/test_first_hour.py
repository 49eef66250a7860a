"""The first hour of a new user, in Chromium: from an empty install to a swapped number.

The database starts migrated and empty; a user and a project are made with the CLI, as the
README says, and everything after that goes through the dashboard only: sign in, follow the
set-up checklist to add numbers, a pool with its default number and its catch-all rule, copy
the tag the dashboard shows into a page of the site, see the number swapped there, see the
checklist tick, see a page on a host that is not allowed under "Refused visits" with its
origin, and read the installation check's findings about a missing tag and a wrong key.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner, Result

from ringtrail.cli.main import app
from ringtrail.settings import Settings
from tests.browser.conftest import LiveApp, Site, page_html, wait_for_numbers, watch
from tests.browser.dashboard_fixtures import log_in, open_visitor

EMAIL = "owner@first-hour.example"
PASSWORD = "first-hour-password"
MAIN = "+380441234567"
POOL = ["+380445550101", "+380445550102"]
DEFAULT = "+380445550199"
OFFLINE = "+380445550177"
REFUSALS_WAIT_SECONDS = 15


def cli(settings: Settings, tmp_path: Path, *args: str) -> Result:
    """`ringtrail ARGS` on the test database, in a thread (Playwright's loop owns this one)."""
    env = {
        "RINGTRAIL_DATABASE_URL": settings.database_url,
        "RINGTRAIL_DATA_DIR": str(tmp_path / "cli-data"),
        "RINGTRAIL_REDIS_URL": "",
        "RINGTRAIL_SECRET_KEY": settings.secret_key,
    }
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, app, list(args), env=env).result()
    assert result.exit_code == 0, result.output
    return result


def step_done(page: Page, step: str) -> bool:
    return page.get_attribute(f"[data-step='{step}']", "data-done") == "true"


def follow_step(page: Page, step: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-step='{step}'] a")


def run_check(page: Page, base: str, project_id: str, url: str) -> str:
    page.goto(f"{base}/p/{project_id}/setup")
    page.fill("#check-url", url)
    with page.expect_navigation():
        page.click("#install-check button[type=submit]")
    return page.inner_text(".check-findings")


def test_from_an_empty_install_to_a_swapped_number_with_the_dashboard_only(
    browser: Browser, live_app: LiveApp, site: Site, settings: Settings, tmp_path: Path
) -> None:
    cli(settings, tmp_path, "user", "create", "--email", EMAIL, "--password", PASSWORD)
    created = cli(
        settings, tmp_path, "project", "create", "--name", "First Hour", "--organization",
        "First Hour", "--owner-email", EMAIL, "--country", "UA", "--domain", "127.0.0.1",
        "--main-number", MAIN,
    )  # fmt: skip
    found = re.search(r"created project (\d+)", created.stdout)
    assert found is not None
    project_id, base = found.group(1), live_app.base

    owner = open_visitor(browser)
    page = owner.page
    try:
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/p/{project_id}")
        expect(page.locator("#setup-callout")).to_contain_text("0 of 5 steps done.")
        with page.expect_navigation():
            page.click("#setup-callout a")
        assert page.url.endswith(f"/p/{project_id}/setup")

        # 1. numbers: an offline number on the numbers page the checklist links to
        follow_step(page, "numbers")
        page.fill("#number", OFFLINE)
        page.check("input[name=placement][value=offline]")
        with page.expect_navigation():
            page.locator("form[action$='/settings/numbers'] button[type=submit]").click()
        expect(page.locator(".notice")).to_contain_text("The number was added.")

        # 2. a pool with its default number, then the catch-all rule it is offered
        page.goto(f"{base}/p/{project_id}/setup")
        assert step_done(page, "numbers") and not step_done(page, "pool_and_rule")
        follow_step(page, "pool_and_rule")
        page.fill("#pool-name", "Website")
        page.fill("#pool-numbers", "\n".join(POOL))
        page.fill("#default-number", DEFAULT)
        with page.expect_navigation():
            page.click("form[action$='/settings/pools'] button[type=submit]")
        expect(page.locator(".pool-without-rule")).to_contain_text("it swaps nothing yet")
        with page.expect_navigation():
            page.click(".pool-without-rule button[type=submit]")
        expect(page.locator(".notice")).to_contain_text("The rule was added.")
        expect(page.locator(".pool-without-rule")).to_have_count(0)

        # 3. the tag the dashboard shows, pasted into a page of the site
        page.goto(f"{base}/p/{project_id}/setup")
        assert step_done(page, "pool_and_rule") and not step_done(page, "tag_installed")
        snippet = page.input_value("#snippet")
        assert f'src="{base}/t.js"' in snippet
        landing = site.add(
            f"/first-hour-{project_id}",
            page_html("<p>Call us: <span id='phone'>044 123 45 67</span></p>", snippet),
        )
        visitor = open_visitor(browser)
        try:
            watched = watch(visitor.page)
            visitor.page.goto(landing)
            numbers = wait_for_numbers(visitor.page)
            assert numbers[0]["number"] in POOL
            national = numbers[0]["number"].removeprefix("+380")
            shown = visitor.page.inner_text("#phone")
            assert re.sub(r"\D", "", shown) == "0" + national, shown
            assert watched.errors == []
        finally:
            visitor.context.close()

        # 4. the checklist ticks: tag installed (where) and a number shown
        page.goto(f"{base}/p/{project_id}/setup")
        assert step_done(page, "tag_installed") and step_done(page, "number_shown")
        expect(page.locator("[data-step='tag_installed']")).to_contain_text(landing)
        assert not step_done(page, "first_call")

        # 5. the installation check, in words: the right page, a missing tag, a wrong key
        right = run_check(page, base, project_id, landing)
        assert "this project's key and this server's address" in right
        bare = site.add(f"/bare-{project_id}", page_html("<p>Call 044 123 45 67</p>"))
        missing = run_check(page, base, project_id, bare)
        assert "No tracking tag on this page" in missing
        old_tag = re.sub(r'data-key="[^"]+"', 'data-key="pk_from_another_project"', snippet)
        old = site.add(f"/old-{project_id}", page_html("<p>Call 044 123 45 67</p>", old_tag))
        wrong = run_check(page, base, project_id, old)
        assert "carries another key (pk_from_another_project)" in wrong

        # 6. a page on a host that is not allowed shows up under refused visits, origin as text
        elsewhere = site.url(f"/first-hour-{project_id}", host="localhost")
        stranger = open_visitor(browser)
        try:
            stranger.page.goto(elsewhere)
            stranger.page.wait_for_timeout(1500)
        finally:
            stranger.context.close()
        origin = f"http://localhost:{site.port}"
        deadline = time.monotonic() + REFUSALS_WAIT_SECONDS
        while True:
            page.goto(f"{base}/p/{project_id}/settings/refusals")
            if origin in page.inner_text("main") or time.monotonic() > deadline:
                break
            page.wait_for_timeout(500)
        expect(page.locator("main")).to_contain_text(origin)
        assert owner.console.errors == []
    finally:
        owner.context.close()
