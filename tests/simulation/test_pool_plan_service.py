"""Pool plans from recorded traffic: visits through the tracking API, planned by the service,
and shown on the pool-health page with the expected accuracy and the monthly cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.pool_plan import (
    plan_pool,
    recorded_spans,
    save_plans,
    set_number_price,
    stored_plan,
)
from ringtrail.storage.models import Pool, Project
from tests.conftest import World
from tests.web.dashboard.test_settings_pages import join, signed_in
from tests.web.tracking.test_api import BROWSER, GOOGLE_ADS_URL, SITE, set_up_site


def test_recorded_visits_are_planned_and_the_plan_shows_on_the_pools_page(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=3)
    for i in range(5):  # one browser each, else the same address without cookies is a bot
        body = {"key": site.key, "url": GOOGLE_ADS_URL, "referrer": "https://www.google.com/"}
        answer = client.post(
            "/t/v1/visit",
            content=json.dumps(body),
            headers={"Origin": SITE, "User-Agent": BROWSER.replace("124.0", f"124.{i}")},
        )
        assert answer.status_code == 200, answer.text
    now = datetime.now(UTC)
    project = db.get(Project, world.ours.project.id)
    pool = db.get(Pool, site.pool_id)
    assert project is not None and pool is not None
    db.expire_all()
    since = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert len(recorded_spans(db, pool.id, since)) == 5  # three holds and two overflows
    plan = plan_pool(db, project, pool, now, price=3.0)
    assert plan is not None
    assert plan.visits == 5 and plan.give_everyone_bound == 5  # all at once
    assert plan.expected_accuracy >= 0.99 and 1 <= plan.size <= 6
    assert plan.monthly_cost == plan.size * 3.0
    save_plans(project, {pool.id: plan}, now)
    set_number_price(project, 3.0)
    db.commit()
    kept = stored_plan(project, pool.id)
    assert kept is not None and kept.size == plan.size and kept.monthly_cost == plan.size * 3.0

    signed_in(client, join(db, world, Role.ADMIN))
    page = client.get(f"/p/{project.id}/settings/pools").text
    assert "Planned size" in page
    assert f"<strong>{plan.size}</strong>" in page or 'settings-warning">' + str(plan.size) in page
    assert "of calls attributed to the right visit" in page
    assert f"{plan.size * 3.0:.2f} {project.currency} a month" in page
