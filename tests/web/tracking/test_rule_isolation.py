"""/t/v1/visit: one project's slow source rules cost that project, never another's visits.

Timings are generous bounds (the machine may be small and busy): without a time budget, each
slow visit below takes 100 rules x 50 ms = 5 s and fills every visit-start thread.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.source_rules import MAX_RULES_PER_PROJECT
from ringtrail.storage.models import Project, SourceRule, Visit
from tests.conftest import Tenant, World

SLOW_PATTERN = r"(a|aa)+b"  # backtracks exponentially on a run of a's without a b
SLOW_URL_TAIL = "/?q=" + "a" * 1800 + "!"
GENEROUS_SECONDS = 1.5
# One slow visit's whole request, budget (100 ms) included, on a machine busy with the suite's
# other workers; 100 rules each stopped only at the 50 ms regex cap would take 5 s, and the
# trace below shows the budget itself was what stopped them.
BUDGETED_VISIT_SECONDS = 3.0


def give_slow_rules(db: Session, tenant: Tenant) -> None:
    """The most rules a project may hold, each a catastrophic regex on the landing URL."""
    db.add_all(
        SourceRule(
            project_id=tenant.project.id,
            name=f"slow {i}",
            priority=i,
            conditions=[{"field": "landing_url", "op": "regex", "value": SLOW_PATTERN}],
            source="never",
        )
        for i in range(MAX_RULES_PER_PROJECT)
    )
    db.commit()


def site(db: Session, tenant: Tenant) -> tuple[str, str]:
    project = db.get(Project, tenant.project.id)
    assert project is not None
    return project.public_key, f"https://{project.allowed_domains[0]}"


def start_visit(client: TestClient, key: str, origin: str, url: str) -> httpx.Response:
    body = {"key": key, "url": url, "referrer": "", "cookies": {}, "visible": True}
    return client.post(
        "/t/v1/visit",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": "Mozilla/5.0"},
    )


def timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def test_a_visit_of_a_project_with_slow_rules_stops_at_its_budget_and_says_why(
    client: TestClient, db: Session, world: World
) -> None:
    give_slow_rules(db, world.outsider)
    key, origin = site(db, world.outsider)
    our_key, our_origin = site(db, world.ours)
    assert start_visit(client, our_key, our_origin, our_origin + "/").status_code == 200
    elapsed, response = timed(lambda: start_visit(client, key, origin, origin + SLOW_URL_TAIL))
    assert response.status_code == 200, response.text
    assert elapsed < BUDGETED_VISIT_SECONDS
    trace = db.scalars(
        select(Visit.source_trace).where(Visit.project_id == world.outsider.project.id)
    ).one()
    assert any("time budget of 100 ms" in step for step in trace), trace


def test_slow_rules_of_one_project_do_not_stall_another_projects_visit_starts(
    client: TestClient, db: Session, world: World
) -> None:
    give_slow_rules(db, world.outsider)
    slow_key, slow_origin = site(db, world.outsider)
    our_key, our_origin = site(db, world.ours)
    assert start_visit(client, our_key, our_origin, our_origin + "/").status_code == 200
    with ThreadPoolExecutor(12) as flood:
        slow = [
            flood.submit(start_visit, client, slow_key, slow_origin, slow_origin + SLOW_URL_TAIL)
            for _ in range(12)
        ]
        time.sleep(0.2)  # the slow visits hold the visit-start threads
        elapsed, ours = timed(lambda: start_visit(client, our_key, our_origin, our_origin + "/"))
        assert all(future.result().status_code == 200 for future in slow)
    assert ours.status_code == 200, ours.text
    assert elapsed < GENEROUS_SECONDS
