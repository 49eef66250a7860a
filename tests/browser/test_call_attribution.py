"""End to end: a Google Ads visitor in Chromium takes a pool number, then that number rings.

The call arrives through the generic signed webhook of the live app a few seconds after the
visit, and must land on that visitor's session with its campaign and keyword; the same caller
ringing again is a repeat caller.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import BrowserContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.storage.models import Call, Project, Visit
from ringtrail.telephony.signed import sign
from tests.browser.conftest import LiveApp, Site, page_html, set_up_site, tag, wait_for_numbers

POOL = ("+380445550001", "+380445550002")
CALLER = "+380671234567"
AD_CLICK = (
    "/flats?gclid=Cj0KCQiA-test-click&utm_source=google&utm_medium=cpc"
    "&utm_campaign=winter_flats&utm_term=buy%20flat%20kyiv"
)


def ring(live_app: LiveApp, project: Project, number: str, call_id: str, talk: int) -> None:
    """The PBX reports a call to `number`: started now, answered, ended `talk` s later."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now))
    later = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now + talk + 5))
    payload: dict[str, Any] = {
        "events": [
            {"event": "call.started", "call_id": call_id, "occurred_at": stamp, "to": number,
             "from": CALLER},
            {"event": "call.ended", "call_id": call_id, "occurred_at": later,
             "outcome": "answered", "total_seconds": talk + 5, "talk_seconds": talk},
        ]
    }  # fmt: skip
    body = json.dumps(payload).encode()
    sent_at = int(now)
    response = httpx.post(
        f"{live_app.base}/hooks/v1/{project.public_key}/calls",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Ringtrail-Timestamp": str(sent_at),
            "X-Ringtrail-Signature": sign(project.webhook_secret, sent_at, body),
        },
    )
    assert response.status_code == 200, response.text


def test_a_call_after_an_ad_click_lands_on_the_visitors_session(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL)
    site.add("/flats", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key)))
    page = new_context().new_page()
    page.goto(site.url(AD_CLICK))
    shown = wait_for_numbers(page)[0]["number"]
    assert shown in POOL
    assert page.inner_text("#phone") == shown

    project = db.scalars(select(Project).where(Project.public_key == tracked.key)).one()
    time.sleep(2)
    ring(live_app, project, shown, "pbx-call-1", talk=40)

    db.expire_all()
    call = db.scalars(select(Call).where(Call.provider_call_id.endswith("pbx-call-1"))).one()
    visit = db.scalars(select(Visit).where(Visit.project_id == project.id)).one()
    assert call.attribution_kind == "session"
    assert call.confidence == 1.0
    assert call.visit_id == visit.id and call.visitor_id == visit.visitor_id
    assert (call.source, call.medium, call.campaign, call.keyword) == (
        "google",
        "cpc",
        "winter_flats",
        "buy flat kyiv",
    )
    assert call.snapshot["click_ids"]["gclid"] == "Cj0KCQiA-test-click"
    assert call.landing_page == "/flats"
    assert (call.status, call.talk_seconds, call.is_first_time) == ("answered", 40, True)

    ring(live_app, project, shown, "pbx-call-2", talk=10)
    db.expire_all()
    again = db.scalars(select(Call).where(Call.provider_call_id.endswith("pbx-call-2"))).one()
    assert again.is_first_time is False and again.is_unique is False
    assert again.first_call_id == call.id
    assert again.lead_id == call.lead_id
    assert again.visitor_id == visit.visitor_id
    assert again.campaign == "winter_flats"
