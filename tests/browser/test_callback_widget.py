# ruff: noqa: RUF001  (the widget speaks Ukrainian here on purpose)
"""The callback widget in Chromium: loaded by t.js, offered after its delay, a bad number
refused in the page's language, a countdown inside the working hours, "we will call you ..."
outside them, and a burst of requests from one page bounded by the limits."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.storage.models import CallbackRequest, Lead, Project
from tests.browser.conftest import LiveApp, Site, page_html, screenshot, set_up_site, tag, watch
from tests.callback_fixtures import (  # noqa: F401 (fixtures)
    BUSINESS,
    add_twilio_account,
    closed_today,
    enable_widget,
    settings_fixture,
    twilio_stub_fixture,
)
from tests.twilio_stub import TwilioStub

PANEL = "[data-ringtrail-widget] .p"
MESSAGE = "[data-ringtrail-widget] .m"
OFFER_SECONDS = 2


def widget_site(db: Session, name: str, **changes: object) -> Project:
    tracked = set_up_site(db, name=name)
    project = db.scalars(select(Project).where(Project.public_key == tracked.key)).one()
    add_twilio_account(db, project)
    enable_widget(db, project, **{"delay": {"seconds": OFFER_SECONDS}, **changes})
    return project


def open_page(
    page: Page, site: Site, path: str, html: str, live_app: LiveApp, project: Project
) -> float:
    """Open the page once the app has answered a first visit (its first request builds the
    tracking service, which on a busy machine may pass the script's 3-second wait)."""
    body = {"key": project.public_key, "url": site.url("/warm-up")}
    httpx.post(f"{live_app.base}/t/v1/visit", json=body, timeout=30).raise_for_status()
    page.goto(site.add(path, html))
    return time.monotonic()


def submit(page: Page, phone: str) -> None:
    page.locator("[data-ringtrail-widget] input[name=phone]").fill(phone)
    page.locator("[data-ringtrail-widget] button[type=submit]").click()


def test_offered_after_its_delay_refuses_a_bad_number_in_the_pages_language_then_counts_down(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
    twilio_stub: TwilioStub,
) -> None:
    project = widget_site(db, "Widget Shop")
    page = new_context().new_page()
    watched = watch(page)
    html = page_html("<h1>Квартири</h1>", tag(live_app, project.public_key)).replace(
        "<html>", "<html lang='uk'>"
    )
    opened = open_page(page, site, "/widget-uk.html", html, live_app, project)

    page.wait_for_selector("[data-ringtrail-widget]", state="attached", timeout=5000)
    assert not page.locator(PANEL).is_visible()
    page.locator(PANEL).wait_for(state="visible", timeout=10_000)
    assert time.monotonic() - opened >= OFFER_SECONDS - 0.3
    assert page.locator("[data-ringtrail-widget] h2").inner_text() == "Ми вам передзвонимо"

    submit(page, "12")  # refused in the page before any request
    assert page.locator(MESSAGE).inner_text() == "Введіть правильний номер телефону."
    submit(page, "000 111 22 33")  # looks like a number; the server refuses it
    page.wait_for_function(
        "() => document.querySelector('[data-ringtrail-widget]').shadowRoot"
        ".querySelector('.m').textContent.includes('правильний')"
    )
    assert page.locator(MESSAGE).inner_text() == "Введіть правильний номер телефону."
    assert not twilio_stub.calls

    submit(page, "050 123 4567")
    page.wait_for_function(
        "() => /Телефонуємо вам за \\d+ с/.test(document.querySelector("
        "'[data-ringtrail-widget]').shadowRoot.querySelector('.m').textContent)"
    )
    first = page.locator(MESSAGE).inner_text()
    page.wait_for_timeout(1500)
    assert page.locator(MESSAGE).inner_text() != first  # the countdown moves
    screenshot(page, "callback-widget-countdown")
    deadline = time.monotonic() + 5
    while not twilio_stub.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    [call] = twilio_stub.calls
    assert call.field("To") == BUSINESS and "+380501234567" in call.field("Twiml")
    db.expire_all()
    lead = db.scalars(select(Lead).where(Lead.project_id == project.id)).one()
    assert lead.kind == "callback" and lead.visitor_id is not None  # attributed to the visit
    assert not watched.errors


def test_outside_working_hours_it_says_when_it_will_call(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
    twilio_stub: TwilioStub,
) -> None:
    project = widget_site(
        db, "Closed Shop", delay={"seconds": 0}, hours=closed_today("Europe/Kyiv")
    )
    page = new_context().new_page()
    html = page_html("<h1>Flats</h1>", tag(live_app, project.public_key)).replace(
        "<html>", "<html lang='en'>"
    )
    open_page(page, site, "/widget-closed.html", html, live_app, project)
    page.locator(PANEL).wait_for(state="visible", timeout=10_000)
    submit(page, "+380 50 123 4567")
    page.wait_for_function(
        "() => document.querySelector('[data-ringtrail-widget]').shadowRoot"
        ".querySelector('.m').textContent.includes('We will call you')"
    )
    assert page.locator(MESSAGE).inner_text() == (
        "We are closed now. We will call you tomorrow at 09:00."
    )
    screenshot(page, "callback-widget-scheduled")
    assert not twilio_stub.calls
    db.expire_all()
    request = db.scalars(select(CallbackRequest)).one()
    assert request.scheduled and request.status == "waiting"


def test_a_burst_of_50_requests_from_one_page_makes_at_most_the_configured_leads_and_calls(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
    twilio_stub: TwilioStub,
) -> None:
    project = widget_site(
        db, "Burst Shop", limits={"per_address_per_hour": 3, "per_visitor_per_day": 100}
    )
    page = new_context().new_page()
    html = page_html("<h1>Burst</h1>", tag(live_app, project.public_key))
    open_page(page, site, "/burst.html", html, live_app, project)
    page.wait_for_function("() => window.ringtrail && window.ringtrail.visitor")
    statuses: list[int] = page.evaluate(
        """async (base) => {
            const r = window.ringtrail;
            const one = (i) => fetch(base + '/w/v1/callback', {
                method: 'POST', headers: {'Content-Type': 'text/plain'},
                body: JSON.stringify({key: r.key, visitor: r.visitor, lang: 'en',
                                      phone: '+38050' + String(2000000 + i)})
            }).then((res) => res.status);
            return Promise.all(Array.from({length: 50}, (_, i) => one(i)));
        }""",
        live_app.base,
    )
    assert statuses.count(200) == 3
    assert set(statuses) == {200, 429}
    deadline = time.monotonic() + 5
    while len(twilio_stub.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    db.expire_all()
    leads = db.scalar(select(func.count()).select_from(Lead).where(Lead.project_id == project.id))
    assert leads == 3
    assert len(twilio_stub.calls) == 3


def test_it_is_offered_on_scrolling_down_or_when_the_pointer_leaves_the_page(
    db: Session,
    live_app: LiveApp,
    site: Site,
    new_context: Callable[[], BrowserContext],
    twilio_stub: TwilioStub,
) -> None:
    project = widget_site(
        db, "Scroll Shop", delay={"seconds": 600, "scroll_percent": 60, "exit_intent": True}
    )
    tall = "<h1>Long page</h1><div style='height:4000px'></div><p>end</p>"
    html = page_html(tall, tag(live_app, project.public_key))
    page = new_context().new_page()
    open_page(page, site, "/scroll.html", html, live_app, project)
    page.wait_for_selector("[data-ringtrail-widget]", state="attached", timeout=5000)
    page.wait_for_timeout(500)
    assert not page.locator(PANEL).is_visible()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator(PANEL).wait_for(state="visible", timeout=5000)

    other = new_context().new_page()
    open_page(other, site, "/exit.html", html, live_app, project)
    other.wait_for_selector("[data-ringtrail-widget]", state="attached", timeout=5000)
    other.wait_for_timeout(500)
    assert not other.locator(PANEL).is_visible()
    other.evaluate(
        "document.dispatchEvent(new MouseEvent('mouseout', {clientX: 300, clientY: 0,"
        " relatedTarget: null, bubbles: true}))"
    )
    other.locator(PANEL).wait_for(state="visible", timeout=5000)
