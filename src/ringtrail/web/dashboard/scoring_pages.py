"""The "Lead quality → Classifier" page: train, measure, switch on, roll back, label next.

Every member who sees calls sees the page: labels so far, the held-out figures of the version
shown (the active one, else the latest) with 95% intervals, the learning curve (an SVG image
with its figures in words beside it), the confusion matrix, the threshold table, the
versions, the calls to label next and the calls the model judged lately. Training, switching,
the threshold and rollback need MANAGE_PROJECT, as in the API; labelling a suggested call
needs MARK_CALLS and is the calls log's own mark (services.call_marking.mark_target).
"""

from __future__ import annotations

from typing import Annotated, Any

import pygal
from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Permission
from ringtrail.scoring.evaluation import Estimate, Evaluation
from ringtrail.services.call_marking import mark_target
from ringtrail.services.scoring import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    activate,
    deactivate,
    evaluation_of,
    model_marks,
    rollback,
    scoring_status,
    set_threshold,
    suggest,
    train,
    version_name,
)
from ringtrail.storage.models import Call, User
from ringtrail.storage.models.base import utcnow
from ringtrail.web.dashboard.charts import CHART_CSS, CHART_STYLE, svg_data_uri
from ringtrail.web.dashboard.errors import PageForbidden
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import OpenProject, open_project
from ringtrail.web.dashboard.redirects import see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import N_, FormProblem, Refusal, attempt, local_time
from ringtrail.web.dashboard.state import dashboard_of
from ringtrail.web.deps import DbSession

router = dashboard_router()
CallId = Annotated[int, Path(ge=1, le=2**63 - 1)]
VersionField = Annotated[str, Form(max_length=12)]
SUGGESTIONS = 10
SHOWN_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
NOTICES = {
    "trained": N_("A new version was trained. Read its figures before switching it on."),
    "on": N_("The classifier is on: it labels calls it is sure enough of."),
    "off": N_("The classifier is off: it labels no more calls."),
    "threshold": N_("The threshold was saved."),
    "rolled_back": N_("Rolled back to the previous version."),
    "labelled": N_("The call was labelled."),
}
REFUSALS = {
    "train": N_("No model was trained."),
    "switch": N_("The classifier was not switched."),
    "threshold": N_("The threshold was not saved."),
    "rollback": N_("Nothing was rolled back."),
}
BAD_THRESHOLD = N_("Write the threshold as a number from 0.5 to 0.99.")


def page_path(project_id: int, notice: str = "") -> str:
    """The page's address, with a notice to show."""
    return f"/p/{project_id}/lead-quality/classifier" + (f"?done={notice}" if notice else "")


def _percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{100 * value:.1f}%"


def _estimate(value: Estimate) -> dict[str, str]:
    return {"mean": _percent(value.mean), "low": _percent(value.low), "high": _percent(value.high)}


def _curve_svg(evaluation: Evaluation) -> str:
    chart = pygal.Line(
        style=CHART_STYLE,
        css=["file://style.css", "file://graph.css", CHART_CSS],
        js=[],
        disable_xml_declaration=True,
        no_prefix=True,
        width=800,
        height=300,
        show_legend=False,
        range=(0, 100),
        dots_size=3,
    )
    chart.add_xml_filter(_no_scripts)
    chart.x_labels = [str(point.labels) for point in evaluation.curve]

    def series(pick: str) -> list[float | None]:
        values = [getattr(point.accuracy, pick) for point in evaluation.curve]
        return [None if v is None else round(100 * v, 1) for v in values]

    chart.add("mean", series("mean"))
    dashed = {"width": 1.5, "dasharray": "5, 4"}
    chart.add("low", series("low"), stroke_style=dashed, show_dots=False)
    chart.add("high", series("high"), stroke_style=dashed, show_dots=False)
    return svg_data_uri(chart.render(is_unicode=True))


def _no_scripts(root: Any) -> Any:
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _figures(evaluation: Evaluation) -> dict[str, Any]:
    rows = {round(row.threshold, 2): row for row in evaluation.thresholds}
    return {
        "labels": evaluation.labels,
        "targets": evaluation.targets,
        "repeats": evaluation.repeats,
        "held_out": evaluation.held_out,
        "metrics": [
            (N_("Accuracy"), _estimate(evaluation.accuracy)),
            (N_("Precision"), _estimate(evaluation.precision)),
            (N_("Recall"), _estimate(evaluation.recall)),
            (N_("F1"), _estimate(evaluation.f1)),
        ],
        "confusion": evaluation.confusion,
        "curve": [
            {"labels": p.labels, "accuracy": _estimate(p.accuracy)} for p in evaluation.curve
        ],
        "curve_uri": _curve_svg(evaluation) if evaluation.curve else "",
        "thresholds": [
            {
                "threshold": f"{t:.2f}",
                "coverage": _percent(rows[t].coverage),
                "accuracy": _percent(rows[t].expected_accuracy),
            }
            for t in SHOWN_THRESHOLDS
            if t in rows
        ],
    }


def _page(
    request: Request, db: Session, opened: OpenProject, refusal: Refusal | None = None
) -> Response:
    project = opened.project
    state = scoring_status(db, project.id)
    shown = state.active or state.latest
    picks = suggest(db, project.id, SUGGESTIONS) if opened.may(Permission.VIEW_CALLS) else []
    calls = {c.id: c for c in db.query(Call).filter(Call.id.in_([s.call_id for s in picks]))}
    judged = [
        {
            "call_id": call.id,
            "at": local_time(score.created_at, project.timezone),
            "label": score.label,
            "confidence": _percent(score.score),
            "version": score.model_version,
            "now_target": call.is_target,
            "now_by": call.target_set_by,
        }
        for call, score in model_marks(db, project.id)
    ]
    notice = NOTICES.get(request.query_params.get("done", "")) if refusal is None else None
    return dashboard_of(request).templates.render(
        request,
        "lead_quality_classifier.html",
        {
            **opened.page_context(),
            "section_active": "lead_quality",
            "can_manage_project": opened.may(Permission.MANAGE_PROJECT),
            "state": state,
            "shown": shown,
            "shown_name": version_name(shown) if shown else "",
            "shown_at": local_time(shown.created_at, project.timezone) if shown else "",
            "figures": _figures(evaluation_of(shown)) if shown else None,
            "versions": [
                {
                    "name": version_name(m),
                    "version": m.version,
                    "status": m.status,
                    "at": local_time(m.created_at, project.timezone),
                    "labels": m.labels,
                    "accuracy": _percent(evaluation_of(m).accuracy.mean),
                    "threshold": f"{m.threshold:.2f}",
                    "expected": _percent(m.expected_accuracy),
                }
                for m in state.versions
            ],
            "suggestions": [
                {
                    "call_id": s.call_id,
                    "at": local_time(calls[s.call_id].started_at, project.timezone),
                    "source": calls[s.call_id].source or "",
                    "talk": calls[s.call_id].talk_seconds,
                    "probability": None if s.probability is None else _percent(s.probability),
                }
                for s in picks
                if s.call_id in calls
            ],
            "judged": judged,
            "threshold_value": f"{(shown.threshold if shown else DEFAULT_THRESHOLD):.2f}",
            "min_threshold": MIN_THRESHOLD,
            "max_threshold": MAX_THRESHOLD,
            "notice": notice,
            "refusal": refusal,
        },
        status_code=refusal.status_code if refusal else 200,
    )


@router.get("/p/{project_id}/lead-quality/classifier")
def classifier_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The classifier: figures, threshold, versions, what to label next."""
    return _page(request, db, open_project(db, user, project_id, Permission.VIEW_CALLS))


def _managed(
    request: Request,
    db: Session,
    user: User,
    project_id: int,
    change: Any,
    refusal: str,
    notice: str,
) -> Response:
    opened = open_project(db, user, project_id, Permission.VIEW_CALLS)
    if not opened.may(Permission.MANAGE_PROJECT):
        raise PageForbidden()
    refused = attempt(db, lambda: change(opened.project.id), refusal)
    if refused is not None:
        return _page(request, db, opened, refused)
    return see_other(page_path(project_id, notice))


def _version(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise FormProblem(N_("Choose a version from the list."))
    return int(text)


@router.post("/p/{project_id}/lead-quality/classifier/train")
def post_train(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Train and measure a new version."""
    return _managed(
        request, db, user, project_id, lambda p: train(db, p, utcnow()), REFUSALS["train"],
        "trained",
    )  # fmt: skip


@router.post("/p/{project_id}/lead-quality/classifier/activate")
def post_activate(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    version: VersionField = "",
) -> Response:
    """Switch a version on (the latest when none is named)."""
    return _managed(
        request, db, user, project_id, lambda p: activate(db, p, _version(version), utcnow()),
        REFUSALS["switch"], "on",
    )  # fmt: skip


@router.post("/p/{project_id}/lead-quality/classifier/deactivate")
def post_deactivate(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Switch the classifier off."""
    return _managed(
        request, db, user, project_id, lambda p: deactivate(db, p), REFUSALS["switch"], "off"
    )


def _threshold(text: str) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise FormProblem(BAD_THRESHOLD) from None
    if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise FormProblem(BAD_THRESHOLD)
    return value


@router.post("/p/{project_id}/lead-quality/classifier/threshold")
def post_threshold(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    threshold: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Set the confidence the model needs to label a call."""
    return _managed(
        request, db, user, project_id,
        lambda p: set_threshold(db, p, _threshold(threshold)), REFUSALS["threshold"], "threshold",
    )  # fmt: skip


@router.post("/p/{project_id}/lead-quality/classifier/rollback")
def post_rollback(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """Retire the active version and switch the previous one on."""
    return _managed(
        request, db, user, project_id, lambda p: rollback(db, p, utcnow()),
        REFUSALS["rollback"], "rolled_back",
    )  # fmt: skip


@router.post("/p/{project_id}/lead-quality/classifier/label/{call_id}")
def post_label(
    request: Request,
    db: DbSession,
    user: RequiredUser,
    project_id: ProjectId,
    call_id: CallId,
    target: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Label a suggested call target ("true") or not ("false"), as in the calls log."""
    opened = open_project(db, user, project_id, Permission.MARK_CALLS)
    choices = {"true": True, "false": False}

    def change() -> None:
        if target not in choices:
            raise FormProblem(N_("Choose target or not target."))
        mark_target(db, opened.project.id, call_id, user.id, choices[target])

    refused = attempt(db, change, N_("The call was not labelled."))
    if refused is not None:
        return _page(request, db, opened, refused)
    return see_other(page_path(project_id, "labelled"))
