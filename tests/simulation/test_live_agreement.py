"""The simulator and the live system agree: a short trace replayed through the HTTP API (visit
starts, every heartbeat the tracking script would send, calls through the signed webhook) on
PostgreSQL with Redis leases gives, call by call, the attributions the simulator gives.

Time is compressed: the tracking API's clock is the replay's, and each call's start is the
webhook event's `occurred_at`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.pool_planning import HoldPolicy
from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from ringtrail.simulation import driver
from ringtrail.simulation.driver import simulate
from ringtrail.simulation.scenario import Scenario
from ringtrail.simulation.traffic import HUMAN_USER_AGENT, Call, Trace, Visit
from ringtrail.storage import migrate
from ringtrail.storage.models import Call as CallRow
from ringtrail.storage.models import Pool, SourceRule, TrackingNumber
from ringtrail.storage.models import Visit as VisitRow
from ringtrail.telephony.signed import sign
from ringtrail.web import tracking
from ringtrail.web.app import create_app
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    empty_all_tables,
    make_tenant,
    to_sqlalchemy_url,
)

SITE = "https://acme-realty.example"
LANDING = f"{SITE}/?utm_source=google&utm_medium=cpc"
SCENARIO = Scenario(
    name="live-mini",
    days=1,
    heartbeat_seconds=15,
    window_minutes=5,
    grace_minutes=2,
    sources={"google": 1.0},
)


def visit(visit_id: int, *segments: tuple[float, float]) -> Visit:
    return Visit(visit_id, "google", "google", segments, HUMAN_USER_AGENT, segments[0][0])


VISITS = (
    visit(1, (0, 100)),  # takes the first number
    visit(2, (20, 60)),  # the second
    visit(3, (40, 90)),  # the pool is full: the default number
    visit(4, (400, 700)),  # both free again: the least recently released (v2's)
    visit(5, (420, 480)),  # the other one
    visit(6, (800, 830), (1000, 1100)),  # hides the tab past grace: the hold ends
    visit(7, (1010, 1040)),  # v6's number is cooling, v4's is free again
)
CALLS = (
    Call(1, 50, 1, "+380501110001", False, True),  # during v1: live hold
    Call(2, 80, 3, "+380501110003", False, True),  # v3 saw the default: source only
    Call(3, 300, 2, "+380501110002", False, True),  # after v2 left: cooling
    Call(4, 650, 5, "+380501110005", False, True),  # after v5 left, v1 held it before
    Call(5, 1050, 6, "+380501110006", False, True),  # v6 back on the page, hold gone
    Call(6, 1200, 1, "+380501110001", True, False),  # v1's caller again: known caller
)
TRACE = Trace(SCENARIO, 1500.0, VISITS, CALLS)


class _Clock:
    now = datetime(2026, 1, 1, tzinfo=UTC)


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return _Clock.now


@pytest.fixture
def live(redis_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    url = create_postgres_database("ringtrail_sim")
    prefix = f"ringtrail-test-{uuid.uuid4().hex[:12]}"
    try:
        migrate.upgrade(to_sqlalchemy_url(url))
        runtime = bootstrap(
            Settings(
                database_url=url,
                redis_url=redis_url,
                redis_key_prefix=prefix,
                data_dir=tmp_path / "data",
                secret_key="test-secret-key-not-for-production",
            )
        )
        try:
            with TestClient(create_app(runtime)) as client:
                yield runtime, client
        finally:
            assert runtime.redis is not None
            keys = list(runtime.redis.scan_iter(match=f"{prefix}:*"))
            if keys:
                runtime.redis.delete(*keys)
            empty_all_tables(runtime)
            runtime.close()
    finally:
        drop_postgres_database(url)


def set_up(db: Session) -> tuple[str, str, str]:
    tenant = make_tenant(db, "Acme Realty")
    project = tenant.project
    project.main_number = "+380441234567"
    pool = Pool(project_id=project.id, name="Google", grace_minutes=2, cooldown_minutes=3)
    db.add(pool)
    db.flush()
    for e164 in ("+380445550001", "+380445550002"):
        db.add(TrackingNumber(project_id=project.id, e164=e164, kind="pool", pool_id=pool.id))
    db.add(
        TrackingNumber(
            project_id=project.id,
            e164="+380445559999",
            kind="pool",
            pool_id=pool.id,
            is_pool_default=True,
        )
    )
    db.add(
        SourceRule(
            project_id=project.id,
            name="Google",
            priority=10,
            conditions=[{"field": "utm_source", "op": "equals", "value": "google"}],
            pool_id=pool.id,
            source="google",
        )
    )
    db.commit()
    return project.public_key, project.webhook_secret, project.main_number


def replay(
    client: TestClient, key: str, secret: str, main: str, base: datetime, monkeypatch: Any
) -> dict[int, str]:
    """Every request of the trace at its moment; returns the number each caller dialled."""
    monkeypatch.setattr(tracking.api, "datetime", _FrozenDatetime)
    every = SCENARIO.heartbeat_seconds
    requests: list[tuple[float, int, str, int]] = []
    for v in VISITS:
        requests.append((v.start, 1, "visit", v.visit_id))
        for index, (a, b) in enumerate(v.segments):
            t = a if index else a + every
            while t <= b:
                requests.append((t, 0, "heartbeat", v.visit_id))
                t += every
    for call in CALLS:
        requests.append((call.at, 2, "call", call.call_id))
    requests.sort()
    tokens: dict[int, dict[str, str]] = {}
    shown: dict[int, str] = {}
    stopped: set[int] = set()
    dialled: dict[int, str] = {}
    headers = {"Origin": SITE, "User-Agent": HUMAN_USER_AGENT, "Content-Type": "text/plain"}
    for seconds, _, kind, ident in requests:
        _Clock.now = base + timedelta(seconds=seconds)
        if kind == "visit":
            body = {"key": key, "url": LANDING, "referrer": "https://www.google.com/"}
            # one browser per visitor: the same address and browser without cookies each
            # time would be taken for a bot
            browser = {**headers, "User-Agent": HUMAN_USER_AGENT.replace("124.0", f"124.{ident}")}
            answer = client.post("/t/v1/visit", content=json.dumps(body), headers=browser).json()
            assert "bot" not in answer, answer
            tokens[ident] = {"visitor": answer["visitor"], "visit": answer["visit"]}
            swapped = [n["number"] for n in answer["numbers"] if n["original"] == main]
            shown[ident] = swapped[0]
        elif kind == "heartbeat" and ident not in stopped:
            body = {"key": key, **tokens[ident]}
            response = client.post("/t/v1/heartbeat", content=json.dumps(body), headers=headers)
            if response.status_code in (404, 410):
                stopped.add(ident)  # what the tracking script does
            else:
                assert response.status_code == 200, response.text
        elif kind == "call":
            call = next(c for c in CALLS if c.call_id == ident)
            first = next(c for c in CALLS if c.caller == call.caller)
            number = dialled.get(first.call_id) or shown[call.visit_id]
            dialled[ident] = number
            event = {
                "event": "call.started",
                "call_id": f"sim-{ident}",
                "occurred_at": _Clock.now.isoformat(),
                "to": number,
                "from": call.caller,
            }
            raw = json.dumps({"events": [event]}).encode()
            sent = int(time.time())
            response = client.post(
                f"/hooks/v1/{key}/calls",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Ringtrail-Timestamp": str(sent),
                    "X-Ringtrail-Signature": sign(secret, sent, raw),
                },
            )
            assert response.status_code == 200, response.text
    return dialled


def test_a_trace_replayed_through_the_http_api_is_attributed_as_the_simulator_says(
    live: tuple[Runtime, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, client = live
    with runtime.sessions() as db:
        key, secret, main = set_up(db)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    dialled = replay(client, key, secret, main, base, monkeypatch)
    assert isinstance(client.app.state.lease_backend, RedisLeaseBackend) or runtime.redis

    monkeypatch.setattr(driver, "EPOCH", base)
    simulated = {c.call_id: c for c in simulate(TRACE, {"google": 2}, HoldPolicy.LRU).calls}
    with runtime.sessions() as db:
        visit_ids = list(db.scalars(select(VisitRow.id).order_by(VisitRow.started_at)))
        live_to_sim = {live_id: index + 1 for index, live_id in enumerate(visit_ids)}
        rows = {
            int(row.provider_call_id.rsplit("sim-", 1)[1]): row
            for row in db.scalars(select(CallRow))
        }
    assert len(visit_ids) == len(VISITS) and len(rows) == len(CALLS)
    kinds = set()
    for call_id, row in sorted(rows.items()):
        expected = simulated[call_id]
        got = (
            row.attribution_kind,
            live_to_sim.get(row.visit_id) if row.visit_id else None,
            row.source,
            round(float(row.confidence or 0), 4),
        )
        want = (expected.kind.value, expected.visit_id, expected.source, expected.confidence)
        assert got == want, (call_id, dialled[call_id], got, want)
        kinds.add(row.attribution_kind)
    # the trace covers a live hold, cooling, the default number and a known caller
    assert kinds == {"session", "pool_source"}
    assert sum(c.session_correct for c in simulated.values()) == 5
