"""Source rules: validating and storing a project's "visit matches → label and number" rules.

Limits keep one project's rules cheap to run on every visit: at most MAX_RULES_PER_PROJECT
rules, MAX_CONDITIONS_PER_RULE conditions each, and regular expressions short and not costly
by construction (`domain.rule_patterns`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.rule_patterns import PROBLEM_TEXT, PatternProblem, pattern_problem
from ringtrail.domain.source_rules import MAX_CONDITIONS_PER_RULE, MAX_RULES_PER_PROJECT
from ringtrail.services.audit import record_row_change, snapshot
from ringtrail.services.errors import Conflict, InvalidInput, NotFound
from ringtrail.services.tracking import get_pool, reject_unknown
from ringtrail.storage.models import Project, SourceRule, TrackingNumber

ConditionField = Literal[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer_host",
    "landing_path",
    "landing_url",
    "click_id",
    "channel",
    "source",
    "medium",
]
ConditionOp = Literal["equals", "contains", "starts_with", "regex", "exists"]
ClickIdKind = Literal["gclid", "gbraid", "wbraid", "yclid", "fbclid", "msclkid", "ttclid"]

CONDITION_FIELDS: frozenset[str] = frozenset(get_args(ConditionField))
CONDITION_OPS: frozenset[str] = frozenset(get_args(ConditionOp))
CLICK_ID_KINDS: frozenset[str] = frozenset(get_args(ClickIdKind))
CLICK_ID_OPS = frozenset({"equals", "exists"})
MAX_VALUE_LENGTH = 500
RULE_FIELDS = frozenset(
    [
        "name",
        "priority",
        "conditions",
        "source",
        "medium",
        "campaign",
        "pool_id",
        "static_number_id",
        "is_active",
    ]
)
_LABELS = ("source", "medium", "campaign")


class TooManyRules(Conflict):
    """The project already has MAX_RULES_PER_PROJECT rules."""

    def __init__(self) -> None:
        super().__init__(
            f"this project has reached its limit of {MAX_RULES_PER_PROJECT} source rules: "
            "delete one before adding another"
        )


class PatternRefused(InvalidInput):
    """A regular expression too long or too costly by construction to run on every visit."""

    def __init__(self, field: str, problem: PatternProblem) -> None:
        super().__init__(field, PROBLEM_TEXT[problem])
        self.problem = problem


def validate_conditions(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The conditions in stored form, or InvalidInput naming `conditions.<i>.<key>`.

    `exists` takes no value; `click_id` takes `equals` with a click-id kind (gclid, fbclid...)
    or `exists` for any; a `regex` must compile and pass `pattern_problem` (PatternRefused).
    """
    if len(conditions) > MAX_CONDITIONS_PER_RULE:
        raise InvalidInput("conditions", f"at most {MAX_CONDITIONS_PER_RULE} conditions per rule")
    out: list[dict[str, Any]] = []
    for index, condition in enumerate(conditions):
        where = f"conditions.{index}"
        extra = sorted(set(condition) - {"field", "op", "value"})
        if extra:
            raise InvalidInput(f"{where}.{extra[0]}", "unknown key")
        field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
        if field not in CONDITION_FIELDS:
            raise InvalidInput(f"{where}.field", _one_of(CONDITION_FIELDS))
        if op not in CONDITION_OPS:
            raise InvalidInput(f"{where}.op", _one_of(CONDITION_OPS))
        if field == "click_id" and op not in CLICK_ID_OPS:
            raise InvalidInput(f"{where}.op", "click_id takes equals or exists")
        if op == "exists":
            if value not in (None, ""):
                raise InvalidInput(f"{where}.value", "exists takes no value")
            out.append({"field": field, "op": op, "value": None})
            continue
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{where}.value", f"{op} needs a text value")
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(f"{where}.value", f"at most {MAX_VALUE_LENGTH} characters")
        if field == "click_id":
            value = value.lower()
            if value not in CLICK_ID_KINDS:
                raise InvalidInput(f"{where}.value", _one_of(CLICK_ID_KINDS))
        if op == "regex":
            problem = pattern_problem(value)
            if problem is not None:
                raise PatternRefused(f"{where}.value", problem)
            try:
                re.compile(value)
            except re.error as exc:
                raise InvalidInput(f"{where}.value", f"not a regular expression: {exc}") from exc
        out.append({"field": field, "op": op, "value": value})
    return out


def _one_of(choices: frozenset[str]) -> str:
    return f"must be one of {', '.join(sorted(choices))}"


def list_rules(db: Session, project: Project) -> list[SourceRule]:
    """The project's rules in the order they are tried: priority, then age."""
    query = select(SourceRule).where(SourceRule.project_id == project.id)
    return list(db.scalars(query.order_by(SourceRule.priority, SourceRule.id)))


def count_rules(db: Session, project: Project) -> int:
    """How many rules the project has, switched off ones included."""
    query = select(func.count()).select_from(SourceRule).where(SourceRule.project_id == project.id)
    return int(db.scalar(query) or 0)


def get_rule(db: Session, project: Project, rule_id: int) -> SourceRule:
    """The project's rule, or NotFound (also for another project's rule)."""
    rule = db.get(SourceRule, rule_id)
    if rule is None or rule.project_id != project.id:
        raise NotFound("no such source rule")
    return rule


def add_rule(db: Session, project: Project, values: Mapping[str, Any]) -> SourceRule:
    """A new rule; it must label the visit or name a pool or static number to show.

    TooManyRules when the project already has MAX_RULES_PER_PROJECT (switched off ones count).
    """
    reject_unknown(values, RULE_FIELDS)
    if not values.get("name"):
        raise InvalidInput("name", "required")
    if count_rules(db, project) >= MAX_RULES_PER_PROJECT:
        raise TooManyRules()
    rule = SourceRule(project_id=project.id, conditions=[])
    _apply_rule(db, project, rule, values)
    db.add(rule)
    db.flush()
    record_row_change(db, project, "source_rule.create", rule, {}, snapshot(rule))
    return rule


def change_rule(
    db: Session, project: Project, rule: SourceRule, changes: Mapping[str, Any]
) -> SourceRule:
    """Apply `changes`; the rule as a whole is checked again."""
    reject_unknown(changes, RULE_FIELDS)
    if "name" in changes and not changes["name"]:
        raise InvalidInput("name", "required")
    before = snapshot(rule)
    _apply_rule(db, project, rule, changes)
    db.flush()
    record_row_change(db, project, "source_rule.update", rule, before, snapshot(rule))
    return rule


def remove_rule(db: Session, project: Project, rule_id: int) -> None:
    """Delete a rule; visits it labelled keep their labels."""
    rule = get_rule(db, project, rule_id)
    record_row_change(db, project, "source_rule.delete", rule, snapshot(rule), {})
    db.delete(rule)
    db.flush()


def _apply_rule(db: Session, project: Project, rule: SourceRule, given: Mapping[str, Any]) -> None:
    values = dict(given)
    if "conditions" in values:
        values["conditions"] = validate_conditions(values["conditions"] or [])
    if values.get("priority") is None:
        values.pop("priority", None)
    if values.get("is_active") is None:
        values.pop("is_active", None)
    for label in _LABELS:
        if label in values:
            values[label] = values[label] or None
    pool_id = values.get("pool_id", rule.pool_id)
    number_id = values.get("static_number_id", rule.static_number_id)
    if pool_id is not None and number_id is not None:
        raise InvalidInput(
            "static_number_id" if "static_number_id" in values else "pool_id",
            "a rule shows a pool or a static number, not both",
        )
    if pool_id is not None:
        get_pool(db, project, pool_id, field="pool_id")
    if number_id is not None:
        _check_static_number(db, project, number_id)
    if (
        pool_id is None
        and number_id is None
        and not any(values.get(label, getattr(rule, label)) for label in _LABELS)
    ):
        raise InvalidInput("source", "a rule sets a source, medium or campaign, or a number")
    for key, value in values.items():
        setattr(rule, key, value)


def _check_static_number(db: Session, project: Project, number_id: int) -> None:
    number = db.get(TrackingNumber, number_id)
    if number is None or number.project_id != project.id:
        raise InvalidInput("static_number_id", "no such number in this project")
    if number.kind != "static":
        raise InvalidInput("static_number_id", "a pool number cannot be shown on its own")
