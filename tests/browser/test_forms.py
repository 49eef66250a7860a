"""Form tracking in Chromium: /t.js loads /f.js for a project that tracks forms, and an
ordinary form, an AJAX form and a form an SPA renders late each become one lead with the
visit's source; a password is never sent; a double submit (and the back button) make one lead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.storage.models import Lead, Project, Visit
from ringtrail.web.app import create_app
from tests.browser.conftest import (
    LiveApp,
    Site,
    SlowVisits,
    page_html,
    set_up_site,
    tag,
    watch,
)

LANDING = "?utm_source=newsletter&utm_medium=email&utm_campaign=may"
FIELDS = (
    "<input name='name' value='Olena'>"
    "<input name='phone' value='(067) 123-45-67'>"
    "<input name='email' value='olena@example.com'>"
    "<input type='password' name='secret_word' value='hunter2-never-sent'>"
    "<input type='hidden' name='session_ref' value='hidden-never-sent'>"
    "<textarea name='message'>Call me after six</textarea>"
    "<button type='submit'>Send</button>"
)


class FormRecorder:
    """ASGI wrapper: the real app, keeping the raw body of every POST /t/v1/form."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/t/v1/form":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.bodies.append(b"".join(chunks))
            return message

        await self.app(scope, recording_receive, send)


@pytest.fixture
def forms_app(runtime: Runtime) -> Iterator[tuple[LiveApp, FormRecorder]]:
    """The real app under uvicorn, with the form posts it received."""
    recording = FormRecorder(create_app(runtime))
    server = LiveApp(recording)
    server.start()
    yield server, recording
    server.stop()


def tracked_project(db: Session, name: str) -> Project:
    tracked = set_up_site(db, name=name)
    project = db.scalars(select(Project).where(Project.public_key == tracked.key)).one()
    project.extra = {"forms": {"enabled": True, "allowed_fields": ["message"]}}
    db.commit()
    return project


def leads_of(db: Session, project: Project, count: int, timeout: float = 8.0) -> list[Lead]:
    """The project's leads once there are `count` (then a little longer, to catch extras)."""
    deadline = time.monotonic() + timeout
    while True:
        db.expire_all()
        rows = list(db.scalars(select(Lead).where(Lead.project_id == project.id)))
        if len(rows) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(0.7)
    db.expire_all()
    return list(db.scalars(select(Lead).where(Lead.project_id == project.id)))


def open_tracked(page: Page, url: str) -> None:
    page.goto(url + LANDING)
    page.wait_for_function("() => window.ringtrail && typeof window.ringtrail.form === 'function'")


def assert_one_lead_from_the_visit(db: Session, project: Project, recording: FormRecorder) -> Lead:
    leads = leads_of(db, project, 1)
    assert len(leads) == 1, [(lead.kind, lead.phone_e164) for lead in leads]
    lead = leads[0]
    visit = db.get(Visit, lead.visit_id)
    assert visit is not None
    assert (lead.kind, lead.phone_e164, lead.email, lead.name) == (
        "form",
        "+380671234567",
        "olena@example.com",
        "Olena",
    )
    assert (lead.source, lead.medium, lead.campaign) == ("newsletter", "email", "may")
    assert (lead.source, lead.medium, lead.campaign) == (visit.source, visit.medium, visit.campaign)
    assert lead.payload["fields"] == {"message": "Call me after six"}
    sent = b"".join(recording.bodies).decode()
    assert recording.bodies and "hunter2-never-sent" not in sent and "secret_word" not in sent
    assert "hidden-never-sent" not in sent
    assert "hunter2-never-sent" not in json.dumps(lead.payload)
    return lead


def test_an_ordinary_form_becomes_one_lead_with_the_visits_source(
    db: Session,
    forms_app: tuple[LiveApp, FormRecorder],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    app, recording = forms_app
    project = tracked_project(db, "Forms Ordinary")
    site.add("/thanks", page_html("<p>Thanks</p>"))
    html = f"<form action='/thanks' method='get'>{FIELDS}</form>"
    url = site.add("/ordinary", page_html(html + tag(app, project.public_key)))
    watched = watch(new_context().new_page())
    page = watched.page

    open_tracked(page, url)
    with page.expect_navigation():
        page.click("button[type=submit]")

    assert_one_lead_from_the_visit(db, project, recording)
    assert watched.errors == []


def test_an_ajax_form_becomes_one_lead_and_a_double_submit_makes_one(
    db: Session,
    forms_app: tuple[LiveApp, FormRecorder],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    app, recording = forms_app
    project = tracked_project(db, "Forms Ajax")
    script = (
        "<script>document.getElementById('f').addEventListener('submit', function (e) {"
        " e.preventDefault(); e.stopPropagation();"
        " fetch('/thanks').then(function () {"
        "  document.getElementById('done').textContent = 'sent'; });"
        "});</script>"
    )
    html = f"<form id='f' action='/nowhere' method='post'>{FIELDS}</form><p id='done'></p>"
    site.add("/thanks", page_html("<p>Thanks</p>"))
    url = site.add("/ajax", page_html(html + script + tag(app, project.public_key)))
    watched = watch(new_context().new_page())
    page = watched.page

    open_tracked(page, url)
    page.dblclick("button[type=submit]")
    page.click("button[type=submit]")
    page.wait_for_function("() => document.getElementById('done').textContent === 'sent'")

    assert page.url.endswith("/ajax" + LANDING)  # the page stayed: the site's handler ran
    assert_one_lead_from_the_visit(db, project, recording)
    assert len(recording.bodies) == 1  # the second and third submits were never sent
    assert watched.errors == []


def test_a_form_an_spa_renders_late_becomes_one_lead(
    db: Session,
    forms_app: tuple[LiveApp, FormRecorder],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    app, recording = forms_app
    project = tracked_project(db, "Forms SPA")
    spa = (
        "<a id='nav' href='#contact'>Contact</a><div id='app'></div><script>"
        "document.getElementById('nav').addEventListener('click', function () {"
        " var form = document.createElement('form');"
        f" form.innerHTML = {json.dumps(FIELDS)};"
        " form.addEventListener('submit', function (e) {"
        "  e.preventDefault(); form.remove();"
        "  document.getElementById('app').textContent = 'Thank you';"
        " });"
        " setTimeout(function () { document.getElementById('app').appendChild(form); }, 300);"
        "});</script>"
    )
    url = site.add("/spa", page_html(spa + tag(app, project.public_key)))
    watched = watch(new_context().new_page())
    page = watched.page

    open_tracked(page, url)
    assert page.locator("form").count() == 0  # f.js was there before the form
    page.click("#nav")  # the SPA's route change renders the form
    page.wait_for_selector("form button")
    page.wait_for_selector("form [data-rt-hp]", state="attached")  # the late form's honeypot
    page.click("form button")
    page.wait_for_function("() => document.getElementById('app').textContent === 'Thank you'")

    assert_one_lead_from_the_visit(db, project, recording)
    assert watched.errors == []


def test_the_back_button_and_a_second_submit_make_one_lead(
    db: Session,
    forms_app: tuple[LiveApp, FormRecorder],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    app, recording = forms_app
    project = tracked_project(db, "Forms Back")
    site.add("/done", page_html("<p>Thanks</p>"))
    html = f"<form action='/done' method='get'>{FIELDS}</form>"
    url = site.add("/back", page_html(html + tag(app, project.public_key)))
    page = watch(new_context().new_page()).page

    open_tracked(page, url)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.go_back()
    page.wait_for_function("() => window.ringtrail && typeof window.ringtrail.form === 'function'")
    with page.expect_navigation():
        page.click("button[type=submit]")

    leads_of(db, project, 2, timeout=3.0)
    assert len(recording.bodies) == 2  # both reached the server, which made one lead
    assert_one_lead_from_the_visit(db, project, recording)


def test_a_project_without_forms_loads_no_forms_script(
    db: Session,
    forms_app: tuple[LiveApp, FormRecorder],
    site: Site,
    new_context: Callable[[], BrowserContext],
) -> None:
    app, _ = forms_app
    tracked = set_up_site(db, name="No Forms")
    url = site.add(
        "/plain", page_html(f"<form action='/plain'>{FIELDS}</form>" + tag(app, tracked.key))
    )
    page = watch(new_context().new_page()).page
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url))

    page.goto(url)
    page.wait_for_function("() => window.ringtrail && window.ringtrail.numbers.length > 0")
    page.wait_for_timeout(300)

    assert not any(u.endswith("/f.js") for u in scripts)
    assert page.evaluate("typeof window.ringtrail.form") == "undefined"
    assert page.locator("[data-rt-hp]").count() == 0


def test_a_visit_answer_too_late_to_swap_numbers_still_loads_the_forms_script(
    db: Session, runtime: Runtime, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    recording = FormRecorder(SlowVisits(create_app(runtime), delay=3.5))
    server = LiveApp(recording)
    server.start()
    try:
        project = tracked_project(db, "Forms Slow")
        html = f"<form id='f' action='/nowhere'>{FIELDS}</form>" + (
            "<script>document.getElementById('f').addEventListener('submit',"
            " function (e) { e.preventDefault(); });</script>"
        )
        url = site.add(
            "/slow-forms", page_html(html + tag(server, project.public_key, wait_ms=None))
        )
        page = watch(new_context().new_page()).page

        page.goto(url + LANDING)
        page.wait_for_function(
            "() => window.ringtrail && typeof window.ringtrail.form === 'function'",
            timeout=15000,
        )
        assert page.evaluate("window.ringtrail.numbers") == []  # too late to swap
        page.click("button[type=submit]")

        assert_one_lead_from_the_visit(db, project, recording)
    finally:
        server.stop()
