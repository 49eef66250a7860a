"""Settings → Call quality rules: add, edit, order, switch and delete rules, apply them to past
calls with a count, see why a rule did nothing, refusals in the user's language; and the call
page shows who set the target mark and each tag."""

# ruff: noqa: RUF001  (Ukrainian text on purpose)
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, set_membership
from ringtrail.services.call_marking import mark_target
from ringtrail.services.quality_rules import RuleInput, apply_quality_rules, list_rules, save_rule
from tests.call_rows import T0, add_call
from tests.conftest import PASSWORD, World
from tests.web.dashboard.browser import log_in, page_token


@pytest.fixture
def admin(client: TestClient, db: Session, world: World) -> str:
    user = create_user(db, "admin@acme-realty.example", PASSWORD, name="An admin")
    set_membership(db, user, world.ours.project, Role.ADMIN)
    db.commit()
    assert log_in(client, email="admin@acme-realty.example").status_code == 303
    return page_token(client, "/")


def test_a_rule_is_added_edited_and_applied_to_past_calls(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project = world.ours.project
    add_call(db, project, source="google", talk_seconds=90)
    add_call(db, project, source="google", talk_seconds=5)
    db.commit()
    page = f"/p/{project.id}/settings/quality-rules"
    empty = client.get(page)
    assert empty.status_code == 200 and "No quality rules yet" in empty.text
    added = client.post(
        page,
        data={
            "csrf_token": admin,
            "name": "Long calls",
            "enabled": "true",
            "talk_at_least": "30",
            "text_field": ["source", "", ""],
            "text_op": ["equals", "equals", "equals"],
            "text_value": ["Google", "", ""],
            "phrases_any": "ціна\nдоставка",
            "working_days": ["0", "1", "2", "3", "4"],
            "add_tags": "long, ads",
            "mark": "target",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    (rule,) = list_rules(db, project.id)
    assert rule.conditions["phrases_any"] == ["ціна", "доставка"]
    assert rule.add_tags == ["long", "ads"] and rule.mark == "target"
    edit = client.get(f"{page}?edit={rule.id}")
    assert 'value="Long calls"' in edit.text and "доставка" in edit.text
    saved = client.post(
        page,
        data={"csrf_token": admin, "rule_id": str(rule.id), "name": "Long calls",
              "enabled": "true", "talk_at_least": "30", "add_tags": "long", "mark": "target"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    applied = client.post(
        f"{page}/apply", data={"csrf_token": admin, "from": "2025-03-01", "to": "2025-03-01"}
    )
    assert applied.status_code == 200
    assert "Looked at 2 ended calls: 1 changed, 1 tags added, 1 marks set" in applied.text
    why = client.get(f"{page}?why={rule.id}")
    assert why.status_code == 200


def test_a_bad_rule_is_refused_with_the_reason_in_the_users_language(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    page = f"/p/{world.ours.project.id}/settings/quality-rules"
    refused = client.post(
        f"{page}?lang=uk", data={"csrf_token": admin, "name": "Nothing", "answered": "yes"}
    )
    assert refused.status_code == 400
    assert "Не вдалося зберегти правило якості." in refused.text
    assert "neither adds a tag nor marks" in refused.text
    assert list_rules(db, world.ours.project.id) == []


def test_the_call_page_says_who_set_the_mark_and_the_tags(
    client: TestClient, db: Session, world: World, admin: str
) -> None:
    project = world.ours.project
    rule = save_rule(db, project.id, RuleInput("Long calls", {}, ["long"], "target"), T0)
    call = add_call(db, project)
    apply_quality_rules(db, call, T0)
    db.commit()
    page = client.get(f"/p/{project.id}/calls/{call.id}")
    assert page.status_code == 200
    assert "(by a rule, " in page.text
    assert f"rule:{rule.id} Long calls" in page.text
    mark_target(db, project.id, call.id, world.ours.owner.id, False)
    db.commit()
    page = client.get(f"/p/{project.id}/calls/{call.id}")
    assert "marked by a person" in page.text and "Acme Realty owner" in page.text
