"""/api/v1/projects/{id}/scoring: train, read the figures, switch on, threshold, suggestions,
rollback; refusals say why; another tenant sees nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import World
from tests.scoring_data import add_labelled_calls, add_transcribed_call


def test_the_classifier_through_the_api(client: TestClient, world: World, db: Session) -> None:
    project = world.ours.project
    url, auth = f"/api/v1/projects/{project.id}/scoring", world.ours.project_auth
    assert client.get(url, headers=auth).json()["on"] is False
    refused = client.post(f"{url}/versions", headers=auth)
    assert refused.status_code == 422 and "0 target and 0 non-target" in refused.text
    add_labelled_calls(db, project, 24)
    add_transcribed_call(db, project, "скільки коштує квартира")
    db.commit()
    trained = client.post(f"{url}/versions?repeats=2", headers=auth)
    assert trained.status_code == 201, trained.text
    body = trained.json()
    assert body["version"] == 1 and body["status"] == "trained" and body["labels"] == 24
    assert {"accuracy", "precision", "recall", "f1", "curve", "thresholds"} <= set(body["metrics"])
    assert client.post(f"{url}/activate", json={}, headers=auth).json()["status"] == "active"
    threshold = client.put(f"{url}/threshold", json={"threshold": 0.75}, headers=auth).json()
    assert threshold["threshold"] == 0.75 and threshold["expected_accuracy"] is not None
    assert client.put(f"{url}/threshold", json={"threshold": 2}, headers=auth).status_code == 422
    suggestions = client.get(f"{url}/suggestions?count=1", headers=auth).json()
    assert len(suggestions) == 1 and suggestions[0]["probability"] is not None
    rollback = client.post(f"{url}/rollback", headers=auth)
    assert rollback.status_code == 409 and "first version" in rollback.text
    status = client.get(url, headers=auth).json()
    assert status["on"] is True and status["targets_labelled"] == 8
    other = f"/api/v1/projects/{project.id}/scoring"
    assert client.get(other, headers=world.outsider.project_auth).status_code in (403, 404)
