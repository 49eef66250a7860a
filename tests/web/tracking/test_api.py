"""/t/v1: the tracking script's calls end to end, on both databases (and with Redis leases)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.leases.redis import RedisLeaseBackend
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from ringtrail.storage.models import (
    NumberLease,
    Pool,
    PoolOverflow,
    SourceRule,
    TrackingNumber,
    Visit,
)
from ringtrail.web.app import create_app
from ringtrail.web.tracking.api import lease_backend
from tests.conftest import World

MAIN = "+380441234567"
EXTRA = "+380447654321"
SITE = "https://acme-realty.example"
GOOGLE_ADS_URL = (
    f"{SITE}/flats?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    "&utm_term=flat+kyiv&gclid=Cj0KCQiA-test-gclid"
)
COOKIES = {
    "_ga": "GA1.1.123456789.1700000000",
    "_ga_ABC123": "GS1.1.1700000000.1.1.1700000100.0.0.0",
    "_fbp": "fb.1.1700000000000.1234567890",
    "_ym_uid": "1700000000123456789",
}
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass
class Site:
    """Our project set up for swapping: a Google Ads pool, a default number, a static number."""

    key: str
    pool_id: int
    pool_numbers: list[str]
    default: str
    static: str


def set_up_site(db: Session, world: World, pool_size: int = 3) -> Site:
    project = world.ours.project
    project.main_number = MAIN
    project.replace_numbers = [EXTRA]
    project.swap_selectors = [".phone"]
    pool = Pool(project_id=project.id, name="Google Ads")
    db.add(pool)
    db.flush()
    numbers = [f"+38044555{i:04d}" for i in range(pool_size)]
    for e164 in numbers:
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
    static = TrackingNumber(
        project_id=project.id, e164="+380445550777", kind="static", source="facebook"
    )
    offline = TrackingNumber(
        project_id=project.id, e164="+380445550888", kind="static", offline_only=True
    )
    db.add_all([static, offline])
    db.flush()
    db.add_all(
        [
            SourceRule(
                project_id=project.id,
                name="Google Ads",
                priority=10,
                conditions=[{"field": "utm_source", "op": "equals", "value": "google"}],
                pool_id=pool.id,
            ),
            SourceRule(
                project_id=project.id,
                name="Facebook",
                priority=20,
                conditions=[{"field": "utm_source", "op": "equals", "value": "facebook"}],
                static_number_id=static.id,
            ),
            SourceRule(
                project_id=project.id,
                name="Flyer",
                priority=30,
                conditions=[{"field": "utm_source", "op": "equals", "value": "flyer"}],
                static_number_id=offline.id,
            ),
        ]
    )
    db.commit()
    return Site(project.public_key, pool.id, numbers, "+380445559999", "+380445550777")


def visit(
    client: TestClient,
    site: Site,
    *,
    url: str = GOOGLE_ADS_URL,
    visitor: str | None = None,
    referrer: str = "https://www.google.com/",
    user_agent: str = BROWSER,
    origin: str = SITE,
    plain: bool = True,
    **extra: Any,
) -> Any:
    body = {
        "key": site.key,
        "visitor": visitor,
        "url": url,
        "referrer": referrer,
        "cookies": COOKIES,
        "visible": True,
        **extra,
    }
    return client.post(
        "/t/v1/visit",
        content=json.dumps(body),
        headers={
            "Content-Type": "text/plain" if plain else "application/json",
            "Origin": origin,
            "User-Agent": user_agent,
        },
    )


def shown(response: Any) -> set[tuple[str, str, str]]:
    return {(n["original"], n["number"], n["kind"]) for n in response.json()["numbers"]}


def lease_rows(db: Session) -> list[NumberLease]:
    db.expire_all()
    return list(db.scalars(select(NumberLease).order_by(NumberLease.id)))


def overflows(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.coalesce(func.sum(PoolOverflow.count), 0))) or 0)


def test_a_google_ads_click_takes_a_pool_number_and_records_its_attribution(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    response = visit(client, site)
    assert response.status_code == 200, response.text
    body = response.json()
    number = site.pool_numbers[0]
    assert shown(response) == {(MAIN, number, "pool"), (EXTRA, number, "pool")}
    assert body["cookie_domain"] == "acme-realty.example"
    assert body["heartbeat_seconds"] == 30 and body["selectors"] == [".phone"]
    assert response.headers["access-control-allow-origin"] == SITE
    assert "Origin" in response.headers["vary"]
    (lease,) = lease_rows(db)
    snapshot = lease.snapshot
    assert snapshot["click_ids"]["gclid"] == "Cj0KCQiA-test-gclid"
    assert (snapshot["campaign"], snapshot["keyword"]) == ("spring", "flat kyiv")
    assert (snapshot["source"], snapshot["medium"]) == ("google", "cpc")
    assert snapshot["landing_page"] == "/flats"
    assert snapshot["analytics"]["ga_client_id"] == "123456789.1700000000"
    assert snapshot["analytics"]["fbp"] == COOKIES["_fbp"]
    stored = db.get(Visit, lease.visit_id)
    assert stored is not None and stored.gclid == "Cj0KCQiA-test-gclid"
    assert stored.visitor_id == lease.visitor_id and stored.utm_campaign == "spring"


def test_a_returning_visitor_keeps_the_number_on_every_page_without_new_leases(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    first = visit(client, site)
    token = first.json()["visitor"]
    for page in ("/flats/1", "/flats/2", "/contacts"):
        again = visit(client, site, url=f"{SITE}{page}", referrer=f"{SITE}/flats", visitor=token)
        assert again.status_code == 200, again.text
        assert shown(again) == shown(first)
        assert again.json()["visitor"] == token
    assert len(lease_rows(db)) == 1
    assert db.scalar(select(func.count()).select_from(Visit)) == 1


def test_a_second_visitor_gets_another_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    one, two = visit(client, site), visit(client, site)
    assert one.json()["visitor"] != two.json()["visitor"]
    assert {n["number"] for n in one.json()["numbers"]} == {site.pool_numbers[0]}
    assert {n["number"] for n in two.json()["numbers"]} == {site.pool_numbers[1]}


def test_an_exhausted_pool_shows_the_default_number_and_counts_the_overflow(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=1)
    visit(client, site)
    response = visit(client, site)
    assert shown(response) == {(MAIN, site.default, "default"), (EXTRA, site.default, "default")}
    assert overflows(db) == 1 and len(lease_rows(db)) == 1


def test_a_bot_sees_the_default_number_and_never_takes_a_pool_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    response = visit(client, site, user_agent=GOOGLEBOT)
    assert response.status_code == 200
    assert {n["kind"] for n in response.json()["numbers"]} == {"default"}
    assert lease_rows(db) == []
    (stored,) = db.scalars(select(Visit))
    assert stored.is_bot


def test_static_numbers_are_shown_but_offline_only_ones_never(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    facebook = visit(client, site, url=f"{SITE}/?utm_source=facebook&utm_medium=paid_social")
    assert shown(facebook) == {(MAIN, site.static, "static"), (EXTRA, site.static, "static")}
    flyer = visit(client, site, url=f"{SITE}/?utm_source=flyer&utm_medium=offline")
    assert flyer.json()["numbers"] == []
    organic = visit(client, site, url=f"{SITE}/", referrer="")
    assert organic.status_code == 200 and organic.json()["numbers"] == []


def test_a_forged_visitor_token_is_refused_and_takes_no_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    response = visit(client, site, visitor="abcdefghijklmnopqrstuv.forged-signature")
    assert response.status_code == 400
    assert response.json()["reason"] == "forged_token"
    assert lease_rows(db) == []


def test_an_unknown_key_is_404(client: TestClient, db: Session, world: World) -> None:
    site = set_up_site(db, world)
    site.key = "no-such-key"
    response = visit(client, site)
    assert response.status_code == 404 and response.json()["reason"] == "unknown_project"
    # The refusal carries nothing of any project, so the page may read it (no CORS noise).
    assert response.headers["access-control-allow-origin"] == SITE
    assert lease_rows(db) == []


def test_another_sites_origin_is_refused_readably_with_no_project_data_and_takes_no_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    response = visit(client, site, origin="https://evil.example")
    assert response.status_code == 403
    # The page may read why (CORS for its origin, never credentials), and nothing else.
    assert response.headers["access-control-allow-origin"] == "https://evil.example"
    assert "access-control-allow-credentials" not in response.headers
    assert response.json() == {
        "detail": "this site is not in the project's allowed domains",
        "reason": "origin_not_allowed",
    }
    assert lease_rows(db) == []
    sub = visit(client, site, origin="https://shop.acme-realty.example")
    assert sub.status_code == 200
    assert sub.headers["access-control-allow-origin"] == "https://shop.acme-realty.example"
    lookalike = visit(client, site, origin="https://notacme-realty.example")
    assert lookalike.status_code == 403


def test_garbage_bodies_are_refused_with_a_reason(
    client: TestClient, db: Session, world: World
) -> None:
    set_up_site(db, world)
    garbage = client.post("/t/v1/visit", content=b"{not json", headers={"Origin": SITE})
    assert garbage.status_code == 400 and "JSON" in garbage.json()["detail"]
    assert garbage.json()["reason"] == "bad_json"
    wrong = client.post("/t/v1/visit", content=b'{"key": 5}', headers={"Origin": SITE})
    assert wrong.status_code == 422 and wrong.json()["reason"] == "invalid_body"
    assert wrong.json()["detail"][0]["loc"] == ["body", "key"]
    array = client.post("/t/v1/visit", content=b"[]", headers={"Origin": SITE})
    assert array.status_code == 400 and array.json()["reason"] == "bad_json"
    big = client.post("/t/v1/visit", content=b" " * 20_000, headers={"Origin": SITE})
    assert big.status_code == 413 and big.json()["reason"] == "too_large"
    assert lease_rows(db) == []


def test_a_huge_url_is_refused_as_too_large_and_takes_no_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    long_url = GOOGLE_ADS_URL + "&pad=" + "x" * 5000
    assert visit(client, site, url=long_url).status_code == 413
    huge = visit(client, site, referrer="https://a.example/?" + "y" * 20_000)
    assert huge.status_code == 413
    assert lease_rows(db) == []


def test_too_many_visit_starts_from_one_address_are_429_with_retry_after(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world, pool_size=1)
    statuses = [visit(client, site, user_agent=GOOGLEBOT).status_code for _ in range(30)]
    assert set(statuses) == {200}
    refused = visit(client, site)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert lease_rows(db) == []


def test_too_many_visit_starts_of_one_visitor_are_429(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    token = visit(client, site).json()["visitor"]
    statuses = [visit(client, site, visitor=token).status_code for _ in range(10)]
    assert statuses[:9] == [200] * 9 and statuses[9] == 429


def test_json_content_type_and_preflight_work(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    preflight = client.options(
        "/t/v1/visit",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert visit(client, site, plain=False).status_code == 200


def test_heartbeat_extends_the_hold_and_a_gone_hold_is_410(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = visit(client, site).json()
    body = {"key": site.key, "visitor": started["visitor"], "visit": started["visit"]}
    beat = client.post("/t/v1/heartbeat", content=json.dumps(body), headers={"Origin": SITE})
    assert beat.status_code == 200, beat.text
    (lease,) = lease_rows(db)
    assert lease.hold_until.isoformat() == beat.json()["hold_until"]
    db.query(NumberLease).update({NumberLease.hold_until: lease.leased_at})
    db.query(Pool).update({Pool.cooldown_minutes: 0})
    db.commit()
    gone = client.post("/t/v1/heartbeat", content=json.dumps(body), headers={"Origin": SITE})
    assert gone.status_code in (404, 410)


def test_a_forged_visit_token_heartbeat_is_400(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = visit(client, site).json()
    body = {"key": site.key, "visitor": started["visitor"], "visit": "1.1.1.1.forged"}
    response = client.post("/t/v1/heartbeat", content=json.dumps(body))
    assert response.status_code == 400


def test_ping_answers_ok(client: TestClient) -> None:
    assert client.get("/t/v1/ping").json() == {"ok": True}


@pytest.fixture
def redis_client(runtime: Runtime, redis_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test database with redis_url set (and a key prefix of its own)."""
    prefix = f"ringtrail-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        database_url=runtime.settings.database_url,
        redis_url=redis_url,
        redis_key_prefix=prefix,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
    )
    with_redis = bootstrap(settings)
    try:
        with TestClient(create_app(with_redis)) as test_client:
            yield test_client
    finally:
        assert with_redis.redis is not None
        keys = list(with_redis.redis.scan_iter(match=f"{prefix}:*"))
        if keys:
            with_redis.redis.delete(*keys)
        with_redis.close()


def test_with_redis_configured_leases_go_through_redis(
    redis_client: TestClient, db: Session, world: World
) -> None:
    client = redis_client
    site = set_up_site(db, world, pool_size=1)
    first = visit(client, site)
    token = first.json()["visitor"]
    assert isinstance(lease_backend_of(client), RedisLeaseBackend)
    again = visit(client, site, url=f"{SITE}/contacts", referrer=SITE, visitor=token)
    assert (
        shown(again)
        == shown(first)
        == {
            (MAIN, site.pool_numbers[0], "pool"),
            (EXTRA, site.pool_numbers[0], "pool"),
        }
    )
    other = visit(client, site)
    assert {n["kind"] for n in other.json()["numbers"]} == {"default"}
    assert len(lease_rows(db)) == 1 and overflows(db) == 1


def lease_backend_of(client: TestClient) -> object:
    class _Request:
        app = client.app

    return lease_backend(_Request())  # type: ignore[arg-type]


def test_oversized_or_malformed_cookie_jars_are_refused_and_take_no_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    many = {f"c{i}": "1" for i in range(51)}
    refused = visit(client, site, cookies=many)
    assert refused.status_code == 413 and refused.json()["reason"] == "too_large"
    long_value = visit(client, site, cookies={"_ga": "GA1.1." + "9" * 2000})
    assert long_value.status_code == 413 and long_value.json()["reason"] == "too_large"
    not_text = visit(client, site, cookies={"_ga": {"nested": 1}})
    assert not_text.status_code == 422
    assert not_text.json()["detail"][0]["loc"][:2] == ["body", "cookies"]
    assert lease_rows(db) == []


def test_an_overlong_visitor_id_or_missing_url_is_422_and_takes_no_number(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    overlong = visit(client, site, visitor="v" * 500)
    assert overlong.status_code == 422
    assert overlong.json()["detail"][0]["loc"] == ["body", "visitor"]
    no_url = client.post(
        "/t/v1/visit", content=json.dumps({"key": site.key}), headers={"Origin": SITE}
    )
    assert no_url.status_code == 422 and no_url.json()["detail"][0]["loc"] == ["body", "url"]
    assert lease_rows(db) == []


def test_a_visitor_id_made_up_by_the_page_is_refused(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    genuine = visit(client, site).json()["visitor"]
    public_id, _, signature = genuine.partition(".")
    for forged in (uuid.uuid4().hex, f"{uuid.uuid4().hex}.{signature}", f"{public_id}."):
        response = visit(client, site, visitor=forged)
        assert response.status_code == 400, forged
        assert response.json()["reason"] == "forged_token"
    assert len(lease_rows(db)) == 1


def test_a_heartbeat_with_another_projects_visit_or_from_another_site_is_refused(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    started = visit(client, site).json()
    other_key = world.outsider.project.public_key
    body = {"key": other_key, "visitor": started["visitor"], "visit": started["visit"]}
    other = client.post(
        "/t/v1/heartbeat",
        content=json.dumps(body),
        headers={"Origin": "https://other-clinic.example"},
    )
    assert other.status_code == 400 and other.json()["reason"] == "forged_token"
    ours = {"key": site.key, "visitor": started["visitor"], "visit": started["visit"]}
    evil = client.post(
        "/t/v1/heartbeat", content=json.dumps(ours), headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and evil.json()["reason"] == "origin_not_allowed"
    assert set(evil.json()) == {"detail", "reason"}
    garbage = client.post("/t/v1/heartbeat", content=b"\xff\xfe", headers={"Origin": SITE})
    assert garbage.status_code == 400


def test_a_visit_stores_why_its_source_was_chosen(
    client: TestClient, db: Session, world: World
) -> None:
    site = set_up_site(db, world)
    visit(client, site)
    visit(client, site, url=f"{SITE}/", referrer="https://www.bing.com/")
    db.expire_all()
    ads, organic = db.scalars(select(Visit).order_by(Visit.id))
    assert ads.source_trace and organic.source_trace
    assert any("Google Ads" in line for line in ads.source_trace)
    assert (organic.source, organic.medium) == ("bing", "organic")
    assert any("bing" in line.lower() for line in organic.source_trace)
