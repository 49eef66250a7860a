"""The route walk: every API and dashboard route, without credentials, as another tenant, per role.

The routes come from the app itself (`app.routes`), so a new route is walked without a line
here; one the walk cannot classify fails the first test (see `route_walk.py` for the map).
Path parameters are filled with real objects of our tenant: a project with a number, a pool,
a source rule, a call with a stored recording, a member, an API key, a telephony account, an
ad cost and a deal.

What each caller must get:

- Nobody (no key, no session): the API answers 401; the dashboard sends the browser to the
  login form (or answers 401/403). Dashboard writes carry a valid form token of that anonymous
  browser, so it is the missing sign-in that stops them, not CSRF.
- Another tenant (an organisation-wide owner key of another organisation, and that
  organisation's signed-in owner): every route naming our project, in its path or its query,
  answers 404 (or 403), and so does every route naming one of our rows (number, pool, rule,
  call, member, key) through the other tenant's own project. Routes that only show the
  caller's own organisation (`GET /projects`, the dashboard's home) answer, but never with
  anything of ours.
- Each role of our project (a project key and a signed-in member per role; an
  organisation-wide key for organisation routes): the permission a route needs comes from the
  resource it serves (`route_walk.py`) and the roles that have it from `domain/roles.py`.
  A role without it gets 403; a role with it gets 200 for a read, and for a write an answer
  past authorisation: neither 401, 403 nor 404, nor a redirect to the login form (a dashboard
  form shown again with the reason, 400, is past it: pages check the role first).

Bodies. Writes send the smallest valid body, because FastAPI validates a body before the
handler checks the role: a 422 for the body is accepted only from a role that may write (it
proves the request got past sign-in, not that the role check exists), and never in place of
the 403 a refused role must get. Another tenant sends the same valid bodies and must get 404;
a 422 would reveal only the shape of the request body, never data of ours, but the walk does
not need to accept one. Nothing answers 5xx, and no answer to nobody or to another tenant
contains our organisation's name.

Writes by a role that may make them act on objects made for that request (a new number, pool,
rule, member, key, provider account), so every write really succeeds or fails on its own, and
deleting the project comes last.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role, can
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.services.accounts import issue_api_key, set_membership
from ringtrail.services.call_marking import add_comment, set_tags
from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.services.money.costs import CostRow, import_costs
from ringtrail.services.money.deals import DealRow, upsert_deals
from ringtrail.services.pools import create_pool
from ringtrail.services.projects import create_project
from ringtrail.services.quality_rules import RuleInput, save_rule
from ringtrail.services.reports.catalog import report_titles
from ringtrail.services.source_rules import add_rule
from ringtrail.services.telephony_accounts import account_of_project, set_account
from ringtrail.services.tracking import add_number
from ringtrail.services.transcripts import queue_transcript
from ringtrail.settings import Settings
from ringtrail.storage.models import (
    CallbackRequest,
    Lead,
    Organization,
    OutboundDelivery,
    Project,
    User,
)
from ringtrail.web.app import create_app
from ringtrail.web.dashboard.routing import dashboard_router
from tests.conftest import empty_all_tables, make_tenant
from tests.recordings.rows import AUDIO, T0, add_call, add_recording
from tests.web.dashboard.browser import log_in, page_token
from tests.web.route_walk import (
    COLLEAGUES,
    Body,
    Scope,
    Surface,
    WalkedRoute,
    body_for,
    classify,
    fill,
    number,
)

OUR_NAME = "Acme Realty"
MARKERS = ("acme realty", "acme-realty")  # in our names, e-mails and slugs; nowhere else
PROVIDER = "binotel"
NO_LOGIN = "not-a-password-hash"  # members the walk never signs in as
REFUSED = frozenset({401, 403, 404})
# Path parameters naming one of our rows (a provider, report or format names none).
OBJECTS = frozenset(
    {"number_id", "pool_id", "rule_id", "call_id", "user_id", "key_id", "lead_id", "callback_id"}
    | {"destination_id", "delivery_id", "quality_rule_id"}
)
# A destination whose test fails fast, without the network: its endpoints are a closed port.
WALK_DESTINATION = {
    "upload": "file",
    "token_url": "http://127.0.0.1:9/token",
    "api_base_url": "http://127.0.0.1:9",
}


@dataclass
class Caller:
    """One side of the walk: a browser with its own cookies and form token, and API keys."""

    name: str
    browser: TestClient
    csrf: str
    project_key: dict[str, str] = field(default_factory=dict)
    org_key: dict[str, str] = field(default_factory=dict)


@dataclass
class Walk:
    """The app, our tenant's objects (by path parameter), and everyone who walks it."""

    runtime: Runtime
    routes: list[WalkedRoute]
    public: dict[str, str]
    problems: list[str]
    ids: dict[str, str]
    their_project_id: str
    anonymous: Caller
    outsider: Caller
    roles: dict[Role, Caller]
    api: TestClient  # without cookies: the API knows callers by their keys alone
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, caller: Caller, route: WalkedRoute, ids: dict[str, str]) -> Response:
        """Make `route`'s request as `caller`, with its body when it is a write."""
        url = fill(route.path, ids)
        body = (body_for(route, next(self.serial)) if route.is_write else None) or Body()
        response: Response
        if route.surface is Surface.DASHBOARD:
            form = {**(body.form or {}), "csrf_token": caller.csrf} if route.is_write else None
            response = caller.browser.request(route.method, url, data=form, follow_redirects=False)
            return response
        headers = dict(caller.org_key if route.scope is Scope.OWN else caller.project_key)
        if body.content_type is not None:
            headers["Content-Type"] = body.content_type
        query = {"project_id": ids["project_id"]} if route.scope is Scope.PROJECT_QUERY else None
        response = self.api.request(
            route.method, url, headers=headers, params=query, json=body.json, content=body.content
        )
        return response

    def fresh_ids(self, route: WalkedRoute) -> dict[str, str]:
        """Our ids, with a new object of our project for each object the route names."""
        ids = dict(self.ids)
        with self.runtime.sessions() as db:
            project = db.get(Project, int(self.ids["project_id"]))
            if project is None:  # deleted by a request that should have been refused
                return ids
            for name in route.params:
                if name in FRESH:
                    ids[name] = FRESH[name](db, project, next(self.serial))
            db.commit()
        return ids


def _member(db: Session, project: Project, email: str, role: Role, password_hash: str) -> User:
    """A user with `role` in the project, stored with a ready hash (argon2 costs a second)."""
    user = User(email=email, name=email.split("@")[0], password_hash=password_hash)
    db.add(user)
    db.flush()
    set_membership(db, user, project, role)
    return user


def _fresh_member(db: Session, project: Project, n: int) -> str:
    return str(_member(db, project, f"fresh{n}@acme-realty.example", Role.VIEWER, NO_LOGIN).id)


def _fresh_key(db: Session, project: Project, n: int) -> str:
    organization = db.get(Organization, project.organization_id)
    assert organization is not None
    return str(issue_api_key(db, organization, f"fresh {n}", Role.VIEWER, project=project).key.id)


def _fresh_account(db: Session, project: Project, _n: int) -> str:
    if account_of_project(db, project, PROVIDER) is None:
        set_account(db, project, PROVIDER, {})
    return PROVIDER


def _fresh_destination(db: Session, project: Project, n: int) -> str:
    return str(
        create_destination(
            db, project, kind="google_ads", name=f"Fresh {n}", config=WALK_DESTINATION
        ).id
    )


FRESH: dict[str, Callable[[Session, Project, int], str]] = {
    "number_id": lambda db, project, n: str(add_number(db, project, {"number": number(n)}).id),
    "pool_id": lambda db, project, n: str(create_pool(db, project, {"name": f"Fresh {n}"}).id),
    "rule_id": lambda db, project, n: str(
        add_rule(db, project, {"name": f"Fresh {n}", "source": "fresh"}).id
    ),
    "user_id": _fresh_member,
    "key_id": _fresh_key,
    "provider": _fresh_account,
    "destination_id": _fresh_destination,
    "quality_rule_id": lambda db, project, n: str(
        save_rule(db, project.id, RuleInput(f"Fresh {n}", add_tags=["fresh"]), T0).id
    ),
}


def _our_objects(db: Session, settings: Settings, project: Project) -> dict[str, str]:
    """One of each thing our project has, by the path parameter that names it."""
    tracked = add_number(db, project, {"number": "+380441110001", "source": "print"})
    pool = create_pool(db, project, {"name": "Site"}, numbers=["+380441110002"])
    rule = add_rule(db, project, {"name": "Print", "source": "print"})
    quality_rule = save_rule(db, project.id, RuleInput("Long calls", mark="target"), T0)
    call = add_call(db, project)
    recording = add_recording(
        db, call, status="stored", content_type="audio/mpeg", size_bytes=len(AUDIO)
    )
    recording.storage_key = f"p{project.id}/c{call.id}/r{recording.id}-1.mp3"
    make_store(settings).put(recording.storage_key, AUDIO, "audio/mpeg")
    queue_transcript(db, call.id, recording.id, T0)
    set_tags(db, project.id, call.id, ["hot"])
    add_comment(db, project.id, call.id, None, "Called back")
    organization = db.get(Organization, project.organization_id)
    assert organization is not None
    member = _member(db, project, "member@acme-realty.example", Role.VIEWER, NO_LOGIN)
    branch = create_project(db, organization, "Acme Realty branch")
    for email in COLLEAGUES:
        _member(db, branch, email, Role.VIEWER, NO_LOGIN)
    key = issue_api_key(db, organization, "Acme Realty CRM", Role.VIEWER, project=project)
    set_account(db, project, PROVIDER, {"account_ref": "acme-realty-1", "secret": "s3cret"})
    import_costs(db, project, [CostRow(day=date(2025, 3, 1), source="google", cost=Decimal(9))])
    upsert_deals(db, project, [DealRow(deal_id="ACME-1", call_id=call.id, revenue=Decimal(5))])
    lead = Lead(project_id=project.id, kind="form", phone_e164="+380671110003", name="Acme lead")
    db.add(lead)
    db.flush()
    callback = CallbackRequest(
        project_id=project.id, lead_id=lead.id, phone_e164="+380671110003", language="en",
        requested_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC), status="unreached",
        scheduled=False, attempts=1, payload={},
    )  # fmt: skip
    db.add(callback)
    db.flush()
    destination = create_destination(
        db, project, kind="google_ads", name="Acme Realty Ads", config=WALK_DESTINATION
    )
    delivery = OutboundDelivery(
        project_id=project.id, destination=str(destination.id), destination_id=destination.id,
        subject_kind="call", subject_id=call.id, event_name="conversion", status="dead",
    )  # fmt: skip
    db.add(delivery)
    db.flush()
    return {
        "project_id": str(project.id),
        "number_id": str(tracked.id),
        "pool_id": str(pool.id),
        "rule_id": str(rule.id),
        "quality_rule_id": str(quality_rule.id),
        "call_id": str(call.id),
        "lead_id": str(lead.id),
        "callback_id": str(callback.id),
        "destination_id": str(destination.id),
        "delivery_id": str(delivery.id),
        "user_id": str(member.id),
        "key_id": str(key.key.id),
        "provider": PROVIDER,
        "report_id": report_titles()[0][0],
        "fmt": "csv",
    }


def _email(role: Role) -> str:
    return f"walk-{role.value}@acme-realty.example"


def _signed_in(app: FastAPI, name: str, email: str) -> Caller:
    browser = TestClient(app, raise_server_exceptions=False)
    assert log_in(browser, email=email).status_code == 303, f"{name} could not sign in"
    return Caller(name, browser, page_token(browser, "/"))


def _build(runtime: Runtime) -> Walk:
    app = create_app(runtime)
    with runtime.sessions() as db:
        ours = make_tenant(db, OUR_NAME)
        theirs = make_tenant(db, "Other Clinic")
        project = db.get(Project, ours.project.id)
        organization = db.get(Organization, ours.organization_id)
        assert project is not None and organization is not None
        ids = _our_objects(db, runtime.settings, project)
        keys: dict[Role, tuple[str, str]] = {}
        for role in Role:
            _member(db, project, _email(role), role, ours.owner.password_hash)
            scoped = issue_api_key(db, organization, f"{role.value} key", role, project=project)
            wide = issue_api_key(db, organization, f"{role.value} org key", role)
            keys[role] = (scoped.secret, wide.secret)
        db.commit()
    routes, public, problems = classify(app, ids)
    anonymous = TestClient(app, raise_server_exceptions=False)
    outsider = _signed_in(app, "another tenant", theirs.owner.email)
    outsider.project_key = outsider.org_key = theirs.org_auth
    roles: dict[Role, Caller] = {}
    for role, (scoped_key, wide_key) in keys.items():
        caller = _signed_in(app, role.value, _email(role))
        caller.project_key = {"Authorization": f"Bearer {scoped_key}"}
        caller.org_key = {"Authorization": f"Bearer {wide_key}"}
        roles[role] = caller
    return Walk(
        runtime=runtime,
        routes=routes,
        public=public,
        problems=problems,
        ids=ids,
        their_project_id=str(theirs.project.id),
        anonymous=Caller("nobody", anonymous, page_token(anonymous, "/login")),
        outsider=outsider,
        roles=roles,
        api=TestClient(app, raise_server_exceptions=False),
    )


@pytest.fixture(scope="module")
def walk(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """One world per backend for the whole module: building it and signing in cost seconds."""
    data_dir: Path = tmp_path_factory.mktemp("walk") / "data"
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-key-not-for-production",
    )
    runtime = bootstrap(settings)
    try:
        built = _build(runtime)
        yield built
        for caller in (built.anonymous, built.outsider, *built.roles.values()):
            caller.browser.close()
        built.api.close()
    finally:
        empty_all_tables(runtime)
        runtime.close()


def _leaks(response: Response) -> bool:
    if "spreadsheet" in response.headers.get("content-type", ""):
        return False  # zipped XML: nothing to search
    text = response.text.lower()
    return any(marker in text for marker in MARKERS)


def _to_login(response: Response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and urlsplit(location).path == "/login"


def _problem(route: WalkedRoute, who: str, response: Response, expected: str) -> str:
    return f"{route} as {who}: {response.status_code}, expected {expected}: {response.text[:160]}"


def test_every_route_is_public_with_a_reason_or_walked(walk: Walk) -> None:
    assert not walk.problems, "routes the walk cannot classify:\n" + "\n".join(walk.problems)
    surfaces = {route.surface for route in walk.routes}
    assert surfaces == {Surface.API, Surface.DASHBOARD}
    assert all(walk.public.values())


def test_the_walk_fails_a_route_it_cannot_classify() -> None:
    app = FastAPI()
    app.get("/admin")(lambda: None)
    app.get("/api/v1/projects/{project_id}/secrets")(lambda project_id: None)
    app.get("/api/v1/projects/{project_id}/numbers/{widget_id}")(lambda project_id: None)
    pages = dashboard_router()
    pages.get("/p/{project_id}/audit")(lambda project_id: None)
    app.include_router(pages)
    routes, _public, problems = classify(app, {"project_id", "number_id"})
    assert routes == []
    assert len(problems) == 4, problems
    assert any("widget_id" in problem for problem in problems)


def test_without_credentials_no_route_answers(walk: Walk) -> None:
    problems = []
    for route in walk.routes:
        response = walk.send(walk.anonymous, route, walk.ids)
        if route.surface is Surface.API:
            ok, expected = response.status_code == 401, "401"
        else:
            ok = _to_login(response) or response.status_code in (401, 403)
            expected = "a redirect to /login, 401 or 403"
        if not ok or _leaks(response):
            problems.append(_problem(route, "nobody", response, expected))
    assert not problems, "\n".join(problems)


def test_another_tenant_reaches_nothing_of_ours(walk: Walk) -> None:
    problems = []
    for route in walk.routes:
        response = walk.send(walk.outsider, route, walk.ids)
        if route.scope is Scope.OWN:
            ok, expected = response.status_code < 400, "its own data only"
        else:
            ok, expected = response.status_code in (403, 404), "404 or 403"
        if not ok or _leaks(response):
            problems.append(_problem(route, "another tenant", response, expected))
    assert not problems, "\n".join(problems)


def test_another_tenant_reaches_nothing_of_ours_through_its_own_project(walk: Walk) -> None:
    through_theirs = {**walk.ids, "project_id": walk.their_project_id}
    problems = []
    for route in walk.routes:
        if route.scope is not Scope.PROJECT or not OBJECTS.intersection(route.params):
            continue
        response = walk.send(walk.outsider, route, through_theirs)
        if response.status_code not in (403, 404) or _leaks(response):
            problems.append(_problem(route, "another tenant", response, "404 or 403"))
    assert not problems, "\n".join(problems)


def _role_problem(walk: Walk, role: Role, route: WalkedRoute) -> str | None:
    allowed = can(role, route.permission)
    ids = walk.fresh_ids(route) if allowed and route.is_write else walk.ids
    response = walk.send(walk.roles[role], route, ids)
    status = response.status_code
    if not allowed:
        ok, expected = status == 403, f"403 (needs {route.permission.value})"
    elif not route.is_write:
        ok, expected = status == 200, "200"
    else:
        ok = status not in REFUSED and status < 500 and not _to_login(response)
        expected = "an answer past authorisation"
    return None if ok else _problem(route, role.value, response, expected)


def test_each_role_may_do_what_its_permissions_grant_and_nothing_more(walk: Walk) -> None:
    steps = [(route, role) for route in walk.routes for role in Role]
    # Deleting the project ends the walk: refused attempts first, then the owner's.
    steps.sort(key=lambda step: (step[0].deletes_the_project, can(step[1], step[0].permission)))
    problems = [problem for route, role in steps if (problem := _role_problem(walk, role, route))]
    assert not problems, "\n".join(problems)
