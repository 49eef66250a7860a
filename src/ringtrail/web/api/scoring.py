"""/api/v1/projects/{id}/scoring: the target-call classifier.

Reading its state and suggestions needs VIEW_CALLS; training, switching, the threshold and
rollback need MANAGE_PROJECT (admins and owners), since the model's marks move every report,
and are audited. Errors say why nothing was done (too few labels, nothing switched on).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from ringtrail.domain.roles import Permission
from ringtrail.scoring.evaluation import DEFAULT_REPEATS
from ringtrail.services.scoring import (
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    ScoringStatus,
    activate,
    deactivate,
    evaluate_project,
    rollback,
    scoring_status,
    set_threshold,
    suggest,
    train,
)
from ringtrail.storage.models import ScoringModel
from ringtrail.storage.models.base import utcnow
from ringtrail.web.api.auth import Principal, load_project
from ringtrail.web.api.fields import ProjectId
from ringtrail.web.api.schemas import Output, StrictInput
from ringtrail.web.deps import DbSession

router = APIRouter(prefix="/projects/{project_id}/scoring", tags=["scoring"])
Repeats = Annotated[int, Query(ge=1, le=50, description="Random held-out splits.")]


class VersionOut(Output):
    version: int
    status: str
    created_at: datetime
    activated_at: datetime | None
    labels: int
    targets: int
    threshold: float
    expected_accuracy: float | None
    metrics: dict[str, Any] = Field(
        description="Held-out evaluation: accuracy, precision, recall, f1 (mean, low, high),"
        " confusion, learning curve, threshold table"
    )


class StatusOut(Output):
    on: bool
    targets_labelled: int
    non_targets_labelled: int
    new_labels: int
    labelled_by_model: int
    active: VersionOut | None
    versions: list[VersionOut]


class SuggestionOut(Output):
    call_id: int
    probability: float | None
    uncertainty: float


class ActivateIn(StrictInput):
    version: int | None = Field(default=None, ge=1, description="Default: the latest")


class ThresholdIn(StrictInput):
    threshold: float = Field(ge=MIN_THRESHOLD, le=MAX_THRESHOLD)
    version: int | None = Field(default=None, ge=1, description="Default: active, else latest")


def _version(model: ScoringModel) -> VersionOut:
    return VersionOut(
        version=model.version,
        status=model.status,
        created_at=model.created_at,
        activated_at=model.activated_at,
        labels=model.labels,
        targets=model.targets,
        threshold=model.threshold,
        expected_accuracy=model.expected_accuracy,
        metrics=model.metrics,
    )


def _status(state: ScoringStatus) -> StatusOut:
    return StatusOut(
        on=state.active is not None,
        targets_labelled=state.labels.targets,
        non_targets_labelled=state.labels.non_targets,
        new_labels=state.new_labels,
        labelled_by_model=state.labelled_by_model,
        active=_version(state.active) if state.active else None,
        versions=[_version(model) for model in state.versions],
    )


@router.get("", response_model=StatusOut)
def show(project_id: ProjectId, db: DbSession, principal: Principal) -> StatusOut:
    """Labels, whether the classifier is on, and every version with its figures."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return _status(scoring_status(db, project.id))


@router.get("/suggestions", response_model=list[SuggestionOut])
def suggestions(
    project_id: ProjectId,
    db: DbSession,
    principal: Principal,
    count: Annotated[int, Query(ge=1, le=200)] = 10,
) -> list[SuggestionOut]:
    """The calls to label next, most informative first."""
    project = load_project(db, principal, project_id, Permission.VIEW_CALLS)
    return [
        SuggestionOut(call_id=s.call_id, probability=s.probability, uncertainty=s.uncertainty)
        for s in suggest(db, project.id, count)
    ]


@router.post("/evaluation")
def evaluation(
    project_id: ProjectId, db: DbSession, principal: Principal, repeats: Repeats = DEFAULT_REPEATS
) -> dict[str, Any]:
    """Measure a model on the labels now, without keeping it."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return evaluate_project(db, project.id, repeats=repeats).to_json()


@router.post("/versions", response_model=VersionOut, status_code=201)
def train_version(
    project_id: ProjectId, db: DbSession, principal: Principal, repeats: Repeats = DEFAULT_REPEATS
) -> VersionOut:
    """Train and measure a new version (not switched on)."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _version(train(db, project.id, utcnow(), repeats=repeats))


@router.post("/activate", response_model=VersionOut)
def switch_on(
    project_id: ProjectId, body: ActivateIn, db: DbSession, principal: Principal
) -> VersionOut:
    """Switch a version on; the one on before is retired."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _version(activate(db, project.id, body.version, utcnow()))


@router.post("/deactivate", response_model=VersionOut)
def switch_off(project_id: ProjectId, db: DbSession, principal: Principal) -> VersionOut:
    """Switch the classifier off."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _version(deactivate(db, project.id))


@router.put("/threshold", response_model=VersionOut)
def threshold(
    project_id: ProjectId, body: ThresholdIn, db: DbSession, principal: Principal
) -> VersionOut:
    """Set the confidence a version needs to label a call."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _version(set_threshold(db, project.id, body.threshold, body.version))


@router.post("/rollback", response_model=VersionOut)
def roll_back(project_id: ProjectId, db: DbSession, principal: Principal) -> VersionOut:
    """Retire the active version and switch the one before it on."""
    project = load_project(db, principal, project_id, Permission.MANAGE_PROJECT)
    return _version(rollback(db, project.id, utcnow()))
