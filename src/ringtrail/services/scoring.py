"""A project's target-call classifier: train it on people's marks, measure it, switch it on.

Labels are the calls a person marked (`target_set_by == "user"`); rules' and the model's own
marks never teach the model. Training measures a model on held-out labels first
(scoring/evaluation.py), then fits it on every label and keeps it as a new version. A
switched-on ("active") version labels a call only when it is at least as sure as the owner's
threshold, through `judge_call(by="model")`, so a person's mark always wins; below the
threshold its opinion is kept in the call's history as "unsure" and the call is left for
people. Versions are never deleted: switching a bad one off or rolling back to the previous
one is one step. Each function works in the caller's transaction (the caller commits).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.scoring.active import suggest_rows
from ringtrail.scoring.evaluation import DEFAULT_REPEATS, Evaluation, Progress, evaluate
from ringtrail.scoring.features import CallSample
from ringtrail.scoring.model import NotEnoughLabels, TargetModel, confidence_of
from ringtrail.services.audit import record
from ringtrail.services.call_judgement import judge_call
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.storage.models import (
    Call,
    CallScore,
    CallTag,
    CallTranscript,
    Project,
    Recording,
    ScoringModel,
    Tag,
)

DEFAULT_THRESHOLD = 0.9
MIN_THRESHOLD, MAX_THRESHOLD = 0.5, 0.99
RETRAIN_AFTER = 20
"""New labels since the latest version that make the job train the next one."""
SUGGEST_CANDIDATES = 2000
"""Most recent unlabelled calls a suggestion chooses from."""
UNSURE = "unsure"
"""The CallScore label of a model's opinion below the threshold (no mark made)."""


class ModelUnavailable(Conflict):
    """There is no model to do this with; the message says why."""


@dataclass(frozen=True)
class LabelCounts:
    """People's marks in a project: the model's training labels."""

    targets: int
    non_targets: int

    @property
    def total(self) -> int:
        return self.targets + self.non_targets


@dataclass(frozen=True)
class ScoringStatus:
    """Where a project's classifier stands."""

    labels: LabelCounts
    active: ScoringModel | None
    latest: ScoringModel | None
    versions: list[ScoringModel]
    new_labels: int  # people's marks since the latest version was trained
    labelled_by_model: int  # calls whose current mark is the model's


@dataclass(frozen=True)
class Suggestion:
    """A call worth labelling next; `probability` is None before any model exists."""

    call_id: int
    probability: float | None
    uncertainty: float


def version_name(model: ScoringModel) -> str:
    """How a version is named in the call's history and the interfaces: "v3"."""
    return f"v{model.version}"


# -- reading calls as samples -------------------------------------------------------------


def transcript_text_of(db: Session, call_ids: Sequence[int]) -> dict[int, str]:
    """The transcript text of each call that has one (the one place that reads transcripts):
    the call's transcripts (local or imported), else the text kept on its recordings."""
    texts: dict[int, str] = {}
    for start in range(0, len(call_ids), 500):
        chunk = list(call_ids[start : start + 500])
        found: dict[int, list[str]] = {}
        for call_id, text in db.execute(
            select(CallTranscript.call_id, CallTranscript.text)
            .where(CallTranscript.call_id.in_(chunk), CallTranscript.text.is_not(None))
            .order_by(CallTranscript.id)
        ):
            found.setdefault(call_id, []).append(str(text))
        rest = [call_id for call_id in chunk if call_id not in found]
        if rest:
            for call_id, text in db.execute(
                select(Recording.call_id, Recording.transcript)
                .where(Recording.call_id.in_(rest), Recording.transcript.is_not(None))
                .order_by(Recording.id)
            ):
                found.setdefault(call_id, []).append(str(text))
        texts.update({call_id: "\n".join(parts) for call_id, parts in found.items()})
    return texts


def _tags_of(db: Session, call_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for start in range(0, len(call_ids), 500):
        chunk = list(call_ids[start : start + 500])
        rows = db.execute(
            select(CallTag.call_id, Tag.name)
            .join(Tag, Tag.id == CallTag.tag_id)
            .where(CallTag.call_id.in_(chunk))
        )
        for call_id, name in rows:
            tags.setdefault(call_id, []).append(name)
    return tags


def samples_of(db: Session, calls: Sequence[Call]) -> list[CallSample]:
    """Each call as the classifier sees it: transcript, talk time, first-time, source, hour
    (in the project's time zone), tags."""
    ids = [call.id for call in calls]
    texts = transcript_text_of(db, ids)
    tags = _tags_of(db, ids)
    zones: dict[int | None, ZoneInfo] = {}
    samples = []
    for call in calls:
        if call.project_id not in zones:
            project = db.get(Project, call.project_id) if call.project_id is not None else None
            zones[call.project_id] = ZoneInfo(project.timezone if project else "UTC")
        samples.append(
            CallSample(
                text=texts.get(call.id, ""),
                talk_seconds=call.talk_seconds,
                is_first_time=call.is_first_time,
                source=call.source,
                medium=call.medium,
                hour=call.started_at.astimezone(zones[call.project_id]).hour,
                tags=tuple(sorted(tags.get(call.id, []))),
            )
        )
    return samples


def labelled_calls(db: Session, project_id: int) -> list[Call]:
    """The calls a person marked target or not, oldest first."""
    return list(
        db.scalars(
            select(Call)
            .where(
                Call.project_id == project_id,
                Call.target_set_by == "user",
                Call.is_target.is_not(None),
            )
            .order_by(Call.id)
        )
    )


def label_counts(db: Session, project_id: int) -> LabelCounts:
    """How many calls people marked target and not target."""
    rows = dict(
        db.execute(
            select(Call.is_target, func.count())
            .where(
                Call.project_id == project_id,
                Call.target_set_by == "user",
                Call.is_target.is_not(None),
            )
            .group_by(Call.is_target)
        ).all()
    )
    return LabelCounts(targets=int(rows.get(True, 0)), non_targets=int(rows.get(False, 0)))


# -- versions ------------------------------------------------------------------------------


def versions(db: Session, project_id: int) -> list[ScoringModel]:
    """Every version of the project's model, newest first."""
    return list(
        db.scalars(
            select(ScoringModel)
            .where(ScoringModel.project_id == project_id)
            .order_by(ScoringModel.version.desc())
        )
    )


def active_model(db: Session, project_id: int) -> ScoringModel | None:
    """The switched-on version, if any."""
    return db.scalars(
        select(ScoringModel).where(
            ScoringModel.project_id == project_id, ScoringModel.status == "active"
        )
    ).first()


def get_version(db: Session, project_id: int, version: int | None) -> ScoringModel:
    """The named version (the latest when None); NotFound / ModelUnavailable say why."""
    if version is None:
        found = db.scalars(
            select(ScoringModel)
            .where(ScoringModel.project_id == project_id)
            .order_by(ScoringModel.version.desc())
        ).first()
        if found is None:
            raise ModelUnavailable("no model is trained yet; label calls, then train one")
        return found
    found = db.scalars(
        select(ScoringModel).where(
            ScoringModel.project_id == project_id, ScoringModel.version == version
        )
    ).first()
    if found is None:
        raise NotFound(f"no model version {version}")
    return found


def _audit(db: Session, model: ScoringModel, action: str, **changes: object) -> None:
    project = db.get(Project, model.project_id)
    if project is not None:
        record(
            db,
            organization_id=project.organization_id,
            project_id=project.id,
            action=action,
            object_type="scoring_model",
            object_id=model.version,
            changes=changes,
        )


def evaluation_of(model: ScoringModel) -> Evaluation:
    """The held-out figures measured when the version was trained."""
    return Evaluation.from_json(model.metrics)


def expected_accuracy_at(model: ScoringModel, threshold: float) -> float | None:
    """The accuracy measured on held-out labels for calls at or above `threshold`."""
    row = evaluation_of(model).at_threshold(threshold)
    return row.expected_accuracy if row else None


_LOADED: OrderedDict[bytes, TargetModel] = OrderedDict()
_LOADED_MAX = 8


def load_model(model: ScoringModel) -> TargetModel:
    """The fitted model of a version (kept loaded for the next call).

    Kept by a digest of the stored bytes, not the row id: a row id may name another model in
    another database served by the same process."""
    key = hashlib.blake2b(model.blob, digest_size=16).digest()
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = TargetModel.from_bytes(model.blob)
        _LOADED[key] = loaded
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    _LOADED.move_to_end(key)
    return loaded


def _labels_or_reason(db: Session, project_id: int) -> tuple[list[CallSample], list[bool]]:
    calls = labelled_calls(db, project_id)
    return samples_of(db, calls), [bool(call.is_target) for call in calls]


def evaluate_project(
    db: Session,
    project_id: int,
    *,
    repeats: int = DEFAULT_REPEATS,
    progress: Progress | None = None,
) -> Evaluation:
    """Measure a model on the project's labels (held-out splits) without keeping it."""
    samples, labels = _labels_or_reason(db, project_id)
    try:
        return evaluate(samples, labels, repeats=repeats, progress=progress)
    except NotEnoughLabels as exc:
        raise InvalidInput("labels", str(exc)) from exc


def train(
    db: Session,
    project_id: int,
    now: datetime,
    *,
    repeats: int = DEFAULT_REPEATS,
    progress: Progress | None = None,
) -> ScoringModel:
    """Measure, then fit on every label, and keep the result as the next version ("trained").

    It takes the threshold of the version switched on (or 0.9), with the accuracy measured at
    it. InvalidInput when the labels cannot train a model (too few, or only one kind).
    """
    samples, labels = _labels_or_reason(db, project_id)
    try:
        evaluation = evaluate(samples, labels, repeats=repeats, progress=progress)
        fitted = TargetModel().fit(samples, labels)
    except NotEnoughLabels as exc:
        raise InvalidInput("labels", str(exc)) from exc
    current = active_model(db, project_id)
    threshold = current.threshold if current else DEFAULT_THRESHOLD
    latest = db.scalar(
        select(func.max(ScoringModel.version)).where(ScoringModel.project_id == project_id)
    )
    row = evaluation.at_threshold(threshold)
    model = ScoringModel(
        project_id=project_id,
        version=(latest or 0) + 1,
        status="trained",
        labels=len(labels),
        targets=sum(labels),
        metrics=evaluation.to_json(),
        blob=fitted.to_bytes(),
        threshold=threshold,
        expected_accuracy=row.expected_accuracy if row else None,
        created_at=now,
    )
    db.add(model)
    db.flush()
    _audit(db, model, "scoring_model.train", labels=model.labels)
    return model


def activate(db: Session, project_id: int, version: int | None, now: datetime) -> ScoringModel:
    """Switch a version on (the latest when None); the one on before is retired."""
    model = get_version(db, project_id, version)
    current = active_model(db, project_id)
    if current is not None and current.id != model.id:
        current.status = "retired"
        db.flush()
    model.status = "active"
    model.activated_at = now
    db.flush()
    _audit(db, model, "scoring_model.activate", threshold=model.threshold)
    return model


def deactivate(db: Session, project_id: int) -> ScoringModel:
    """Switch the model off: it labels no more calls (its marks so far stay, as the history
    of each call shows). ModelUnavailable when nothing is switched on."""
    current = active_model(db, project_id)
    if current is None:
        raise ModelUnavailable("the classifier is already off")
    current.status = "trained"
    db.flush()
    _audit(db, current, "scoring_model.deactivate")
    return current


def set_threshold(
    db: Session, project_id: int, threshold: float, version: int | None = None
) -> ScoringModel:
    """Set the confidence a version needs to label a call (the active one, else the latest);
    returns it with the accuracy measured at that threshold."""
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            "threshold", f"the threshold is between {MIN_THRESHOLD} and {MAX_THRESHOLD}"
        )
    if version is None:
        model = active_model(db, project_id) or get_version(db, project_id, None)
    else:
        model = get_version(db, project_id, version)
    model.threshold = round(threshold, 2)
    model.expected_accuracy = expected_accuracy_at(model, model.threshold)
    db.flush()
    _audit(db, model, "scoring_model.threshold", threshold=model.threshold)
    return model


def rollback(db: Session, project_id: int, now: datetime) -> ScoringModel:
    """Switch the active version off for good and the version before it on."""
    current = active_model(db, project_id)
    if current is None:
        raise ModelUnavailable("no version is switched on, so there is nothing to roll back")
    previous = db.scalars(
        select(ScoringModel)
        .where(ScoringModel.project_id == project_id, ScoringModel.version < current.version)
        .order_by(ScoringModel.version.desc())
    ).first()
    if previous is None:
        raise ModelUnavailable(f"{version_name(current)} is the first version; switch it off")
    return activate(db, project_id, previous.version, now)


def scoring_status(db: Session, project_id: int) -> ScoringStatus:
    """Labels, versions and what the model has labelled."""
    counts = label_counts(db, project_id)
    every = versions(db, project_id)
    latest = every[0] if every else None
    by_model = db.scalar(
        select(func.count())
        .select_from(Call)
        .where(Call.project_id == project_id, Call.target_set_by == "model")
    )
    return ScoringStatus(
        labels=counts,
        active=next((m for m in every if m.status == "active"), None),
        latest=latest,
        versions=every,
        new_labels=max(0, counts.total - latest.labels) if latest else counts.total,
        labelled_by_model=int(by_model or 0),
    )


# -- labelling calls -------------------------------------------------------------------------


def score_calls(db: Session, calls: Sequence[Call], model: ScoringModel) -> int:
    """Let `model` judge each call; returns how many it marked.

    A call a person marked is left alone. At or above the threshold the model's mark goes
    through judge_call (a rule's mark still wins); below it the opinion is kept as "unsure".
    """
    todo = [call for call in calls if call.target_set_by != "user"]
    if not todo:
        return 0
    probabilities = load_model(model).probabilities(samples_of(db, todo))
    marked = 0
    for call, probability in zip(todo, probabilities, strict=True):
        confidence = confidence_of(float(probability))
        if confidence >= model.threshold:
            judge_call(
                db,
                call,
                bool(probability >= 0.5),
                by="model",
                confidence=round(confidence, 4),
                detail=version_name(model),
            )
            marked += 1
        else:
            db.add(
                CallScore(
                    call_id=call.id,
                    scored_by="model",
                    label=UNSURE,
                    score=round(confidence, 4),
                    model_version=version_name(model),
                )
            )
    db.flush()
    return marked


def score_call(db: Session, call: Call, now: datetime) -> bool:
    """Let the project's switched-on model judge one ended call; True when it marked it."""
    if call.project_id is None or call.ended_at is None:
        return False
    model = active_model(db, call.project_id)
    if model is None:
        return False
    return score_calls(db, [call], model) > 0


def unscored_calls(db: Session, model: ScoringModel, limit: int) -> list[Call]:
    """Ended calls of the model's project that no person or rule marked and this version has
    not judged yet, or judged before their transcript arrived; newest first."""
    judged_at = (
        select(func.max(CallScore.created_at))
        .where(
            CallScore.call_id == Call.id,
            CallScore.scored_by == "model",
            CallScore.model_version == version_name(model),
        )
        .correlate(Call)
        .scalar_subquery()
    )
    # A transcript that arrived after the judgement: judge again with the words.
    transcribed_since = (
        select(CallTranscript.id)
        .where(
            CallTranscript.call_id == Call.id,
            CallTranscript.text.is_not(None),
            func.coalesce(CallTranscript.updated_at, CallTranscript.created_at) > judged_at,
        )
        .correlate(Call)
        .exists()
    )
    return list(
        db.scalars(
            select(Call)
            .where(
                Call.project_id == model.project_id,
                Call.ended_at.is_not(None),
                Call.target_set_by.is_(None) | (Call.target_set_by == "model"),
                judged_at.is_(None) | transcribed_since,
            )
            .order_by(Call.id.desc())
            .limit(limit)
        )
    )


def retrain_due(db: Session, project_id: int) -> bool:
    """Whether RETRAIN_AFTER people's marks arrived since the latest version."""
    latest = db.scalars(
        select(ScoringModel)
        .where(ScoringModel.project_id == project_id)
        .order_by(ScoringModel.version.desc())
    ).first()
    if latest is None:
        return False
    return label_counts(db, project_id).total - latest.labels >= RETRAIN_AFTER


def retrain(db: Session, project_id: int, now: datetime) -> ScoringModel | None:
    """Train the next version when enough labels arrived; it replaces the active version
    when its accuracy at the same threshold is not lower (else it waits as "trained" for the
    owner). None when no retraining was due."""
    if not retrain_due(db, project_id):
        return None
    current = active_model(db, project_id)
    model = train(db, project_id, now)
    if current is not None and (model.expected_accuracy or 0.0) >= (
        current.expected_accuracy or 0.0
    ):
        activate(db, project_id, model.version, now)
    return model


def suggest(db: Session, project_id: int, n: int) -> list[Suggestion]:
    """The `n` ended calls a person should label next, most informative first.

    Chosen among the most recent unlabelled calls by the latest version's uncertainty, ties
    broken by variety (scoring/active.py); before any model, by variety alone."""
    if n <= 0:
        return []
    candidates = list(
        db.scalars(
            select(Call)
            .where(
                Call.project_id == project_id,
                Call.ended_at.is_not(None),
                Call.target_set_by.is_(None) | (Call.target_set_by != "user"),
            )
            .order_by(Call.id.desc())
            .limit(SUGGEST_CANDIDATES)
        )
    )
    if not candidates:
        return []
    latest = versions(db, project_id)
    try:
        model = load_model(latest[0]) if latest else None
    except ValueError:
        model = None  # a version this code cannot read: suggest by variety until retrained
    picks, probabilities = suggest_rows(model, samples_of(db, candidates), n)
    return [
        Suggestion(
            call_id=candidates[i].id,
            probability=None if probabilities is None else float(probabilities[i]),
            uncertainty=1.0
            if probabilities is None
            else float(1.0 - abs(2.0 * probabilities[i] - 1.0)),
        )
        for i in picks
    ]


def model_marks(db: Session, project_id: int, limit: int = 20) -> list[tuple[Call, CallScore]]:
    """The latest calls the model judged, with its judgement (mark or "unsure") and
    confidence; the call shows whether a person changed it since."""
    rows = db.execute(
        select(Call, CallScore)
        .join(CallScore, CallScore.call_id == Call.id)
        .where(Call.project_id == project_id, CallScore.scored_by == "model")
        .order_by(CallScore.id.desc())
        .limit(limit)
    ).all()
    return [(call, score) for call, score in rows]
