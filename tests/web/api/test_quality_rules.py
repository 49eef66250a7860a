"""/api/v1/projects/{id}/quality-rules: rules kept, ordered and checked, applied to past calls
with a count, why a rule did nothing; the call schema says who set the mark and each tag."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.call_rows import add_call
from tests.conftest import World


def test_rules_through_the_api(client: TestClient, db: Session, world: World) -> None:
    project = world.ours.project
    call = add_call(db, project, source="google", talk_seconds=90)
    add_call(db, project, source="flyer", talk_seconds=90)
    db.commit()
    url, auth = f"/api/v1/projects/{project.id}/quality-rules", world.ours.project_auth
    created = client.post(
        url,
        json={
            "name": "Google leads",
            "conditions": {
                "talk_at_least": 30,
                "text": [{"field": "source", "op": "equals", "value": "google"}],
            },
            "add_tags": ["ads"],
            "mark": "target",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["conditions"]["talk_at_least"] == 30 and rule["position"] == 1
    refused = client.post(url, json={"name": "Idle"}, headers=auth)
    assert refused.status_code == 422 and "neither adds a tag nor marks" in refused.text
    applied = client.post(
        url + "/apply", json={"from": "2025-03-01", "to": "2025-03-01"}, headers=auth
    )
    assert applied.json() == {
        "calls": 2, "changed_calls": 1, "tags_added": 1, "marks_set": 1, "kept_by_person": 0,
    }  # fmt: skip
    why = client.get(f"{url}/{rule['id']}/explain?from=2025-03-01&to=2025-03-01", headers=auth)
    assert why.json()["matched"] == 1 and why.json()["reasons"] == [["source", 1]]
    detail = client.get(f"/api/v1/projects/{project.id}/calls/{call.id}", headers=auth).json()
    assert (detail["is_target"], detail["target_set_by"]) == (True, "rule")
    assert detail["target_set_at"] is not None
    assert detail["scores"][-1]["detail"] == f"rule:{rule['id']} Google leads"
    assert detail["tag_sources"][0]["set_by"] == "rule"
    other = f"/api/v1/projects/{world.outsider.project.id}/quality-rules/{rule['id']}"
    assert client.get(other, headers=world.outsider.project_auth).status_code == 404
    assert client.delete(f"{url}/{rule['id']}", headers=auth).status_code == 204
    assert client.get(url, headers=auth).json() == []
