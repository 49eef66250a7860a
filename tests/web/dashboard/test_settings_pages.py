"""Settings pages: admins change tracking, members and keys; sales and viewers see none of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, resolve_api_key, set_membership
from ringtrail.services.pools import create_pool
from ringtrail.services.projects import create_project
from ringtrail.services.source_rules import add_rule, list_rules
from ringtrail.services.tracking import add_number, list_numbers
from ringtrail.storage.models import (
    ApiKey,
    Membership,
    Organization,
    Pool,
    Project,
    TrackingNumber,
)
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in, page_token

SECTIONS = ("", "/numbers", "/pools", "/rules", "/users", "/api-keys")


def settings(project_id: int, section: str = "") -> str:
    return f"/p/{project_id}/settings{section}"


def join(db: Session, world: World, role: Role, email: str | None = None) -> str:
    """A user with `role` in our project; returns their e-mail."""
    email = email or f"{role.value}@acme-realty.example"
    user = create_user(db, email, PASSWORD, name=f"A {role.value}")
    set_membership(db, user, world.ours.project, role)
    db.commit()
    return email


def signed_in(client: TestClient, email: str) -> str:
    """Sign in as `email` and return the session's form token."""
    assert log_in(client, email=email).status_code == 303
    return page_token(client, "/")


def post(client: TestClient, token: str, path: str, data: dict[str, str] | None = None) -> Response:
    response: Response = client.post(
        path, data={**(data or {}), "csrf_token": token}, follow_redirects=False
    )
    return response


@dataclass
class Things:
    """One of each thing the settings pages change, in our project."""

    number_id: int
    pool_id: int
    rule_id: int


@pytest.fixture
def things(db: Session, world: World) -> Things:
    project = db.get(Project, world.ours.project.id)
    assert project is not None
    number = add_number(db, project, {"number": "+380441110001", "source": "print"})
    pool = create_pool(db, project, {"name": "Site"}, numbers=["+380441110002"])
    rule = add_rule(db, project, {"name": "Print", "source": "print"})
    db.commit()
    return Things(number.id, pool.id, rule.id)


@pytest.fixture
def admin(client: TestClient, db: Session, world: World) -> str:
    """Signed in as an admin of our project; returns the form token."""
    return signed_in(client, join(db, world, Role.ADMIN))


def test_each_settings_page_renders_for_an_admin(
    client: TestClient, world: World, admin: str, things: Things
) -> None:
    project_id = world.ours.project.id
    for section in SECTIONS:
        page = client.get(settings(project_id, section))
        assert page.status_code == 200, section
        assert 'aria-current="page">Settings<' in page.text
        for link in ("/numbers", "/pools", "/rules", "/users", "/api-keys"):
            assert f'href="{settings(project_id, link)}"' in page.text
        # On a phone each row is a card whose cells are labelled by their column.
        assert "<td>" not in page.text and "<td class" not in page.text, section
        for locale in ("ru", "uk"):
            assert client.get(settings(project_id, section) + f"?lang={locale}").status_code == 200
    tag = client.get(settings(project_id)).text
    assert str(escape(f'data-key="{world.ours.project.public_key}"')) in tag
    assert "+380441110001" in client.get(settings(project_id, "/numbers")).text
    pools = client.get(settings(project_id, "/pools")).text
    assert "Site" in pools and "+380441110002" in pools
    assert "Print" in client.get(settings(project_id, "/rules")).text
    assert world.ours.owner.email in client.get(settings(project_id, "/users")).text
    keys = client.get(settings(project_id, "/api-keys")).text
    prefix = world.ours.project_key.removeprefix("rt_").partition("_")[0]
    assert prefix in keys  # the prefix, never the secret
    assert world.ours.project_key not in keys


def test_project_settings_are_saved_and_a_bad_time_zone_is_shown(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    form = {
        "name": "Acme Realty main site",
        "timezone": "Europe/Warsaw",
        "currency": "eur",
        "unique_call_window_days": "14",
        "grace_minutes": "10",
        "cooldown_minutes": "20",
        "target_call_goal_percent": "65",
    }
    response = post(client, admin, settings(project_id), form)
    assert response.status_code == 303
    assert response.headers["location"] == settings(project_id) + "?done=project_saved"
    assert "The project settings were saved." in client.get(response.headers["location"]).text
    db.expire_all()
    project = db.get(Project, project_id)
    assert project is not None
    assert (project.name, project.timezone, project.currency) == (
        "Acme Realty main site",
        "Europe/Warsaw",
        "EUR",
    )
    assert (project.grace_minutes, project.cooldown_minutes) == (10, 20)
    assert (project.unique_call_window_days, project.target_call_goal_percent) == (14, 65)

    refused = post(client, admin, settings(project_id), {**form, "timezone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert "The project settings could not be saved." in refused.text
    assert "Mars/Olympus" in refused.text
    out_of_range = post(client, admin, settings(project_id), {**form, "grace_minutes": "9999"})
    assert out_of_range.status_code == 400
    assert "The grace period is 0 to 1440 minutes." in out_of_range.text
    db.expire_all()
    assert db.get(Project, project_id).timezone == "Europe/Warsaw"  # type: ignore[union-attr]


def test_a_static_number_is_added_relabelled_switched_off_and_removed(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project = world.ours.project
    numbers_page = settings(project.id, "/numbers")
    added = post(
        client,
        admin,
        numbers_page,
        {
            "number": "044 123 45 67",
            "label": "Billboard",
            "source": "billboard",
            "placement": "offline",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == numbers_page + "?done=number_added"
    page = client.get(added.headers["location"]).text
    assert "The number was added." in page
    assert "+380441234567" in page and "Billboard" in page and "Offline only" in page
    number = db.scalar(select(TrackingNumber).where(TrackingNumber.e164 == "+380441234567"))
    assert number is not None
    assert (number.kind, number.source, number.offline_only) == ("static", "billboard", True)

    twice = post(client, admin, numbers_page, {"number": "+380441234567"})
    assert twice.status_code == 400
    assert "The number could not be added." in twice.text
    assert "already tracked" in twice.text
    garbage = post(client, admin, numbers_page, {"number": "call me"})
    assert garbage.status_code == 400

    number_id = number.id
    base = f"{numbers_page}/{number_id}"
    assert post(client, admin, f"{base}/label", {"label": "Metro"}).status_code == 303
    assert post(client, admin, f"{base}/active", {"active": "false"}).status_code == 303
    db.expire_all()
    number = db.get(TrackingNumber, number_id)
    assert number is not None
    assert (number.label, number.is_active) == ("Metro", False)
    assert "Switched off" in client.get(numbers_page).text
    removed = post(client, admin, f"{base}/remove")
    assert removed.headers["location"] == numbers_page + "?done=number_removed"
    db.expunge_all()
    assert db.get(TrackingNumber, number_id) is None


def test_a_pool_is_created_with_numbers_and_shows_its_health(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project = world.ours.project
    pools_page = settings(project.id, "/pools")
    created = post(
        client,
        admin,
        pools_page,
        {
            "name": "Google Ads",
            "numbers": "+380441230001\n\n+380441230002\n",
            "default_number": "+380441230009",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == pools_page + "?done=pool_created"
    pool = db.scalar(select(Pool).where(Pool.name == "Google Ads"))
    assert pool is not None
    assert len(list_numbers(db, db.get(Project, project.id), pool_id=pool.id)) == 3  # type: ignore[arg-type]

    more = post(client, admin, f"{pools_page}/{pool.id}/numbers", {"numbers": "+380441230003"})
    assert more.headers["location"] == pools_page + "?done=pool_numbers_added"
    page = client.get(more.headers["location"]).text
    assert "The numbers were added to the pool." in page
    assert "Google Ads" in page and "+380441230009" in page
    assert "0 / 3" in page  # in use now: none of the three numbers besides the default
    assert "Recommended size" in page

    duplicate = post(
        client,
        admin,
        f"{pools_page}/{pool.id}/numbers",
        {"numbers": "+380441230004\n+380441230001"},
    )
    assert duplicate.status_code == 400
    assert "The numbers could not be added to the pool." in duplicate.text
    db.expire_all()
    assert db.scalar(select(TrackingNumber).where(TrackingNumber.e164 == "+380441230004")) is None
    nameless = post(client, admin, pools_page, {"name": " "})
    assert nameless.status_code == 400
    assert "Give the pool a name." in nameless.text


def test_rules_are_added_in_order_moved_switched_and_deleted(
    client: TestClient, db: Session, world: World, admin: str, things: Things
) -> None:
    project_id = world.ours.project.id
    rules_page = settings(project_id, "/rules")
    added = client.post(
        rules_page,
        data={
            "csrf_token": admin,
            "name": "Google CPC",
            "field": ["utm_source", "utm_medium", ""],
            "op": ["equals", "equals", "equals"],
            "value": ["google", "cpc", ""],
            "source": "google",
            "medium": "cpc",
            "target": f"pool:{things.pool_id}",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == rules_page + "?done=rule_added"
    project = db.get(Project, project_id)
    assert project is not None
    names = [rule.name for rule in list_rules(db, project)]
    assert names == ["Print", "Google CPC"]
    new = list_rules(db, project)[1]
    assert new.pool_id == things.pool_id
    assert new.conditions == [
        {"field": "utm_source", "op": "equals", "value": "google"},
        {"field": "utm_medium", "op": "equals", "value": "cpc"},
    ]
    page = client.get(added.headers["location"]).text
    assert "Google CPC" in page and "The rule was added." in page

    moved = post(client, admin, f"{rules_page}/{new.id}/move", {"direction": "up"})
    assert moved.headers["location"] == rules_page + "?done=rule_moved"
    db.expire_all()
    assert [rule.name for rule in list_rules(db, project)] == ["Google CPC", "Print"]
    post(client, admin, f"{rules_page}/{new.id}/move", {"direction": "down"})
    db.expire_all()
    assert [rule.name for rule in list_rules(db, project)] == ["Print", "Google CPC"]

    assert (
        post(client, admin, f"{rules_page}/{new.id}/active", {"active": "false"}).status_code == 303
    )
    db.expire_all()
    assert list_rules(db, project)[1].is_active is False

    empty = post(client, admin, rules_page, {"name": "Nothing"})
    assert empty.status_code == 400
    assert "The rule could not be added." in empty.text
    bad_regex = client.post(
        rules_page,
        data={
            "csrf_token": admin,
            "name": "Bad",
            "field": "utm_source",
            "op": "regex",
            "value": "(",
            "source": "x",
        },
        follow_redirects=False,
    )
    assert bad_regex.status_code == 400

    deleted = post(client, admin, f"{rules_page}/{new.id}/remove")
    assert deleted.headers["location"] == rules_page + "?done=rule_removed"
    db.expire_all()
    assert [rule.name for rule in list_rules(db, project)] == ["Print"]


def test_members_are_added_by_e_mail_changed_and_removed(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    users_page = settings(project_id, "/users")
    newcomer = create_user(db, "analyst@acme-realty.example", PASSWORD)
    organization = db.get(Organization, world.ours.organization_id)
    assert organization is not None
    second = create_project(db, organization, "Second site", default_country="UA")
    set_membership(db, newcomer, second, Role.VIEWER)  # of the organisation, not the project
    db.commit()
    added = post(
        client, admin, users_page, {"email": "Analyst@acme-realty.example", "role": "viewer"}
    )
    assert added.status_code == 303
    assert added.headers["location"] == users_page + "?done=member_added"
    page = client.get(added.headers["location"]).text
    assert "analyst@acme-realty.example" in page and "The member was added." in page

    unknown = post(
        client, admin, users_page, {"email": "nobody@acme-realty.example", "role": "viewer"}
    )
    assert unknown.status_code == 400
    assert "Nobody in this organisation has this e-mail address." in unknown.text

    again = post(
        client, admin, users_page, {"email": "analyst@acme-realty.example", "role": "sales"}
    )
    assert again.status_code == 400
    assert "already a member" in again.text

    changed = post(client, admin, f"{users_page}/{newcomer.id}/role", {"role": "marketer"})
    assert changed.headers["location"] == users_page + "?done=member_saved"
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == newcomer.id, Membership.project_id == project_id
        )
    )
    assert membership is not None and membership.role == "marketer"

    membership_id = membership.id
    removed = post(client, admin, f"{users_page}/{newcomer.id}/remove")
    assert removed.headers["location"] == users_page + "?done=member_removed"
    db.expunge_all()
    assert db.get(Membership, membership_id) is None


def test_nobody_grants_more_than_they_hold_and_the_page_says_so(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    users_page = settings(project_id, "/users")
    create_user(db, "partner@acme-realty.example", PASSWORD)
    db.commit()
    page = client.get(users_page).text
    assert 'value="owner"' not in page  # an admin is not offered the owner role
    promoted = post(
        client, admin, users_page, {"email": "partner@acme-realty.example", "role": "owner"}
    )
    assert promoted.status_code == 403
    assert "Nobody can grant a role above their own" in promoted.text
    demoted = post(client, admin, f"{users_page}/{world.ours.owner.id}/role", {"role": "viewer"})
    assert demoted.status_code == 403
    assert "Nobody can grant a role above their own" in demoted.text
    removed = post(client, admin, f"{users_page}/{world.ours.owner.id}/remove")
    assert removed.status_code == 403
    owner_key = post(
        client, admin, settings(project_id, "/api-keys"), {"name": "x", "role": "owner"}
    )
    assert owner_key.status_code == 403
    assert db.scalar(
        select(Membership).where(Membership.role == "owner", Membership.project_id == project_id)
    )


def test_an_api_key_is_shown_once_and_can_be_revoked(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    keys_page = settings(project_id, "/api-keys")
    issued = post(client, admin, keys_page, {"name": "CRM", "role": "marketer"})
    assert issued.status_code == 200
    assert "Your new API key" in issued.text
    match = re.search(r'id="issued-key"[^>]*>([^<]+)</textarea>', issued.text)
    assert match, issued.text
    secret = match.group(1).strip()
    key = resolve_api_key(db, secret)
    assert key is not None
    assert (key.name, key.role, key.project_id) == ("CRM", "marketer", project_id)
    listing = client.get(keys_page).text
    assert secret not in listing
    assert key.prefix in listing and "CRM" in listing

    revoked = post(client, admin, f"{keys_page}/{key.id}/revoke")
    assert revoked.headers["location"] == keys_page + "?done=key_revoked"
    db.expire_all()
    assert db.get(ApiKey, key.id).revoked_at is not None  # type: ignore[union-attr]
    assert "Revoked" in client.get(keys_page).text
    nameless = post(client, admin, keys_page, {"name": "", "role": "viewer"})
    assert nameless.status_code == 400


def writes(project_id: int, things: Things, owner_id: int) -> list[tuple[str, dict[str, str]]]:
    """Every settings form, with values that would be accepted from an admin."""
    base = settings(project_id)
    project_form = {
        "name": "Hijacked",
        "timezone": "UTC",
        "currency": "USD",
        "unique_call_window_days": "30",
        "grace_minutes": "15",
        "cooldown_minutes": "30",
        "target_call_goal_percent": "80",
    }
    return [
        (base, project_form),
        (f"{base}/numbers", {"number": "+380449990001"}),
        (f"{base}/numbers/{things.number_id}/label", {"label": "x"}),
        (f"{base}/numbers/{things.number_id}/active", {"active": "false"}),
        (f"{base}/numbers/{things.number_id}/remove", {}),
        (f"{base}/pools", {"name": "Stolen", "numbers": "+380449990002"}),
        (f"{base}/pools/{things.pool_id}/numbers", {"numbers": "+380449990003"}),
        (f"{base}/pools/{things.pool_id}/remove", {}),
        (f"{base}/rules", {"name": "Stolen", "source": "x"}),
        (f"{base}/rules/{things.rule_id}/move", {"direction": "down"}),
        (f"{base}/rules/{things.rule_id}/active", {"active": "false"}),
        (f"{base}/rules/{things.rule_id}/remove", {}),
        (f"{base}/users", {"email": "owner@other-clinic.example", "role": "viewer"}),
        (f"{base}/users/{owner_id}/role", {"role": "viewer"}),
        (f"{base}/users/{owner_id}/remove", {}),
        (f"{base}/api-keys", {"name": "Stolen", "role": "viewer"}),
        (f"{base}/api-keys/1/revoke", {}),
    ]


def assert_nothing_changed(db: Session, world: World, things: Things) -> None:
    db.expire_all()
    project = db.get(Project, world.ours.project.id)
    assert project is not None and project.name == "Acme Realty site"
    number = db.get(TrackingNumber, things.number_id)
    assert number is not None and number.label == "" and number.is_active
    assert db.get(Pool, things.pool_id) is not None
    assert [rule.name for rule in list_rules(db, project)] == ["Print"]
    keys = db.scalars(select(ApiKey).where(ApiKey.project_id == project.id)).all()
    assert [key.name for key in keys] == ["project"]


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_sales_and_viewers_get_403_on_every_settings_page_and_form(
    client: TestClient, db: Session, world: World, things: Things, role: Role
) -> None:
    token = signed_in(client, join(db, world, role))
    project_id = world.ours.project.id
    overview = client.get(f"/p/{project_id}").text
    assert f'href="{settings(project_id)}"' not in overview
    for section in SECTIONS:
        assert client.get(settings(project_id, section)).status_code == 403, section
    for path, data in writes(project_id, things, world.ours.owner.id):
        assert post(client, token, path, data).status_code == 403, path
    assert_nothing_changed(db, world, things)


def test_a_marketer_manages_tracking_but_not_people_or_the_project(
    client: TestClient, db: Session, world: World, things: Things
) -> None:
    token = signed_in(client, join(db, world, Role.MARKETER))
    project_id = world.ours.project.id
    for section in ("", "/numbers", "/pools", "/rules"):
        page = client.get(settings(project_id, section))
        assert page.status_code == 200, section
        assert f'href="{settings(project_id, "/users")}"' not in page.text
    assert 'name="timezone"' not in client.get(settings(project_id)).text
    for section in ("/users", "/api-keys"):
        assert client.get(settings(project_id, section)).status_code == 403
    for path, data in writes(project_id, things, world.ours.owner.id):
        if path == settings(project_id) or "/users" in path or "/api-keys" in path:
            assert post(client, token, path, data).status_code == 403, path


def test_a_non_member_gets_404_on_every_settings_page_and_form(
    client: TestClient, db: Session, world: World, things: Things
) -> None:
    token = signed_in(client, world.outsider.owner.email)
    project_id = world.ours.project.id
    for section in SECTIONS:
        response = client.get(settings(project_id, section))
        assert response.status_code == 404, section
        assert world.ours.project.public_key not in response.text
    for path, data in writes(project_id, things, world.ours.owner.id):
        assert post(client, token, path, data).status_code == 404, path
    assert_nothing_changed(db, world, things)


def test_another_projects_numbers_pools_rules_and_keys_are_refused_with_404(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    theirs = db.get(Project, world.outsider.project.id)
    assert theirs is not None
    number = add_number(db, theirs, {"number": "+380447770001", "source": "radio"})
    pool = create_pool(db, theirs, {"name": "Theirs"}, numbers=["+380447770002"])
    rule = add_rule(db, theirs, {"name": "Theirs", "source": "radio"})
    their_key = db.scalar(select(ApiKey).where(ApiKey.project_id == theirs.id))
    assert their_key is not None
    db.commit()
    base = settings(world.ours.project.id)
    refused = [
        (f"{base}/numbers/{number.id}/label", {"label": "mine now"}),
        (f"{base}/numbers/{number.id}/active", {"active": "false"}),
        (f"{base}/numbers/{number.id}/remove", {}),
        (f"{base}/pools/{pool.id}/numbers", {"numbers": "+380447770003"}),
        (f"{base}/pools/{pool.id}/remove", {}),
        (f"{base}/rules", {"name": "Sneaky", "target": f"number:{number.id}"}),
        (f"{base}/rules", {"name": "Sneaky", "target": f"pool:{pool.id}"}),
        (f"{base}/rules/{rule.id}/move", {"direction": "up"}),
        (f"{base}/rules/{rule.id}/remove", {}),
        (f"{base}/users/{world.outsider.owner.id}/role", {"role": "viewer"}),
        (f"{base}/api-keys/{their_key.id}/revoke", {}),
    ]
    for path, data in refused:
        response = post(client, admin, path, data)
        assert response.status_code == 404, path
        assert "+380447770001" not in response.text
    db.expire_all()
    kept = db.get(TrackingNumber, number.id)
    assert kept is not None and kept.label == "" and kept.is_active
    assert db.get(Pool, pool.id) is not None
    assert [r.name for r in list_rules(db, theirs)] == ["Theirs"]
    assert db.get(ApiKey, their_key.id).revoked_at is None  # type: ignore[union-attr]
    assert db.scalar(select(TrackingNumber).where(TrackingNumber.e164 == "+380447770003")) is None


def test_settings_forms_need_the_csrf_token(client: TestClient, world: World, admin: str) -> None:
    response = client.post(
        settings(world.ours.project.id, "/numbers"),
        data={"number": "+380441239999"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_adding_another_organisations_user_answers_as_for_an_e_mail_nobody_has(
    client: TestClient, world: World, admin: str
) -> None:
    users_page = settings(world.ours.project.id, "/users")
    elsewhere = post(
        client, admin, users_page, {"email": world.outsider.owner.email, "role": "viewer"}
    )
    nowhere = post(client, admin, users_page, {"email": "nobody@nowhere.example", "role": "viewer"})
    assert elsewhere.status_code == nowhere.status_code == 400

    def refusal(response: Response) -> str:
        found = re.search(r'role="alert">(.*?)</div>', response.text, re.S)
        assert found is not None, response.text
        return found.group(1)

    assert refusal(elsewhere) == refusal(nowhere)
    assert world.outsider.owner.name not in client.get(users_page).text
