"""Settings → source rules: the limits that keep rules cheap are refused in the user's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.domain.rule_patterns import MAX_PATTERN_LENGTH
from ringtrail.domain.source_rules import MAX_RULES_PER_PROJECT
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.source_rules import count_rules
from ringtrail.storage.models import Project, SourceRule
from ringtrail.web.dashboard.settings_rules import PATTERN_REFUSED, TOO_MANY_RULES
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in, page_token


@pytest.fixture
def admin(client: TestClient, db: Session, world: World) -> str:
    """Signed in as an admin of our project; returns the form token."""
    user = create_user(db, "admin@acme-realty.example", PASSWORD, name="An admin")
    set_membership(db, user, world.ours.project, Role.ADMIN)
    db.commit()
    assert log_in(client, email="admin@acme-realty.example").status_code == 303
    return page_token(client, "/")


def add(
    client: TestClient, token: str, project_id: int, pattern: str = "", lang: str = "en"
) -> Response:
    data = {"csrf_token": token, "name": "Ads", "source": "ads"}
    if pattern:
        data |= {"field": "landing_url", "op": "regex", "value": pattern}
    response: Response = client.post(
        f"/p/{project_id}/settings/rules?lang={lang}", data=data, follow_redirects=False
    )
    return response


def test_the_messages_name_the_limits_the_code_applies() -> None:
    assert str(MAX_RULES_PER_PROJECT) in TOO_MANY_RULES
    assert any(str(MAX_PATTERN_LENGTH) in message for message in PATTERN_REFUSED.values())


def test_a_rule_past_the_projects_limit_is_refused_in_the_users_language(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project_id = world.ours.project.id
    db.add_all(
        SourceRule(project_id=project_id, name=f"r{i}", priority=i, source="s")
        for i in range(MAX_RULES_PER_PROJECT)
    )
    db.commit()
    english = add(client, admin, project_id)
    assert english.status_code == 400
    assert str(escape(TOO_MANY_RULES)) in english.text
    russian = add(client, admin, project_id, lang="ru")
    assert russian.status_code == 400 and "Удалите одно" in russian.text
    project = db.get(Project, project_id)
    assert project is not None and count_rules(db, project) == MAX_RULES_PER_PROJECT


@pytest.mark.parametrize(
    ("pattern", "ukrainian"),
    [
        ("a" * (MAX_PATTERN_LENGTH + 1), "не довшим за 200 символів"),
        ("(a+)+", "експоненційний час"),
        ("(?:(a{100}){100}){100}", "завеликим"),
    ],
)
def test_a_long_or_costly_regex_is_refused_with_the_reason(
    client: TestClient, db: Session, world: World, admin: str, pattern: str, ukrainian: str
) -> None:
    refused = add(client, admin, world.ours.project.id, pattern, lang="uk")
    assert refused.status_code == 400
    assert ukrainian in refused.text
    project = db.get(Project, world.ours.project.id)
    assert project is not None and count_rules(db, project) == 0
