"""Allocation on intent in Chromium: the page first shows the pool's default number; once the
phone number is scrolled into view (or a phone link is tapped) `/i.js` takes a pool number and
the page shows it, and a call to that number lands on the visit. A visitor who never scrolls
to a number never takes one."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.storage.models import Call, NumberLease, Project, Visit
from tests.browser.conftest import (
    SWAP_TIMEOUT_MS,
    LiveApp,
    Site,
    TrackedSite,
    page_html,
    set_up_site,
    tag,
    wait_for_numbers,
)
from tests.browser.test_call_attribution import ring

POOL = ("+380445550001", "+380445550002")
AD_CLICK = "/clinic?utm_source=google&utm_medium=cpc&utm_campaign=dentist"
SPACER = "<div style='height:3000px'>Our clinic, our doctors, our prices.</div>"
FOOTER = (
    "<footer><p id='phone'>+380441234567</p>"
    "<a id='call' href='tel:+380441234567'>Call us</a></footer>"
)


def intent_site(db: Session) -> tuple[TrackedSite, Project]:
    tracked = set_up_site(db, pool=POOL)
    project = db.scalars(select(Project).where(Project.public_key == tracked.key)).one()
    project.number_allocation = "intent"
    db.commit()
    return tracked, project


def leases(db: Session, project: Project) -> int:
    db.expire_all()
    query = (
        select(func.count()).select_from(NumberLease).where(NumberLease.project_id == project.id)
    )
    return int(db.scalar(query) or 0)


def wait_for_pool_number(page: Page) -> str:
    page.wait_for_function(
        "() => window.ringtrail.numbers.some(n => n.kind === 'pool')", timeout=SWAP_TIMEOUT_MS
    )
    number: str = page.evaluate("window.ringtrail.numbers.find(n => n.kind === 'pool').number")
    return number


def test_the_default_number_shows_until_the_number_is_scrolled_into_view(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked, project = intent_site(db)
    site.add("/clinic", page_html(SPACER + FOOTER + tag(live_app, tracked.key)))
    page = new_context().new_page()
    page.goto(site.url(AD_CLICK))

    numbers = wait_for_numbers(page)
    assert {(n["number"], n["kind"]) for n in numbers} == {(tracked.default, "default")}
    page.wait_for_function("() => window.ringtrail.intent === 1", timeout=SWAP_TIMEOUT_MS)
    assert page.inner_text("#phone") == tracked.default
    time.sleep(1)  # the footer is below the fold: nothing is taken while it stays there
    assert leases(db, project) == 0
    assert page.inner_text("#phone") == tracked.default

    page.locator("#phone").scroll_into_view_if_needed()
    number = wait_for_pool_number(page)

    assert number in POOL
    page.wait_for_function(f"() => document.querySelector('#phone').textContent === '{number}'")
    assert page.get_attribute("#call", "href") == f"tel:{number}"
    assert leases(db, project) == 1

    time.sleep(1)
    ring(live_app, project, number, "intent-call-1", talk=30)
    db.expire_all()
    call = db.scalars(select(Call).where(Call.provider_call_id.endswith("intent-call-1"))).one()
    visit = db.scalars(select(Visit).where(Visit.project_id == project.id)).one()
    assert call.attribution_kind == "session"
    assert call.visit_id == visit.id
    assert (call.source, call.campaign) == ("google", "dentist")

    # The next page of the visit keeps the number without waiting for intent again.
    page.goto(site.url("/clinic"))
    again = wait_for_numbers(page)
    assert {(n["number"], n["kind"]) for n in again} == {(number, "pool")}
    assert leases(db, project) == 1


def test_a_number_visible_on_load_is_taken_at_once_and_a_tap_takes_one_too(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked, project = intent_site(db)
    site.add("/top", page_html(FOOTER + SPACER + tag(live_app, tracked.key)))
    page = new_context().new_page()
    page.goto(site.url("/top"))
    number = wait_for_pool_number(page)
    assert number in POOL and page.inner_text("#phone") == number

    # A phone link in a hidden menu: never in view, but tapping it takes the number.
    menu = (
        "<nav style='display:none' id='menu'><a id='menu-call' href='tel:+380441234567'>"
        "Call</a></nav>"
    )
    site.add("/menu", page_html(menu + tag(live_app, tracked.key)))
    other = new_context().new_page()
    other.goto(site.url("/menu"))
    other.wait_for_function("() => window.ringtrail.intent === 1", timeout=SWAP_TIMEOUT_MS)
    other.evaluate(
        "document.getElementById('menu-call')"
        ".dispatchEvent(new Event('touchstart', {bubbles: true}))"
    )
    tapped = wait_for_pool_number(other)
    assert tapped in POOL and tapped != number
    assert other.get_attribute("#menu-call", "href") == f"tel:{tapped}"
    assert leases(db, project) == 2


def test_a_visitor_who_never_scrolls_to_a_number_never_takes_one(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked, project = intent_site(db)
    site.add("/long", page_html(SPACER + FOOTER + tag(live_app, tracked.key)))
    page = new_context().new_page()
    page.goto(site.url(AD_CLICK.replace("/clinic", "/long")))
    wait_for_numbers(page)
    page.wait_for_function("() => window.ringtrail.intent === 1", timeout=SWAP_TIMEOUT_MS)
    page.mouse.wheel(0, 300)  # reads the top of the page only
    time.sleep(2)

    assert leases(db, project) == 0
    assert page.evaluate("window.ringtrail.numbers.map(n => n.kind)") == ["default", "default"]
    assert page.inner_text("#phone") == tracked.default
