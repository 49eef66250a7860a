"""A project's call quality rules: keeping them, applying them to a call when it ends and
when its transcript is ready, applying them to past calls, and saying why a rule did nothing.

Rules add tags (`call_tags.set_by` "rule") and mark calls target or not through
services/call_judgement.py (`by="rule"`), so a person's mark always wins and every mark is
kept in the call's history. A tag a person took off a call (`call_tag_removals`) is never put
back by a rule. Applying is idempotent: running the rules again on an unchanged call changes
nothing and adds no history.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.quality_rules import (
    Outcome,
    Rule,
    RuleCall,
    RuleError,
    Verdict,
    apply_rules,
    check_rule,
    conditions_data,
    conditions_from,
    evaluate,
    languages_from,
    working_hours_data,
    working_hours_from,
)
from ringtrail.domain.reports.periods import day_start
from ringtrail.services.call_judgement import TARGET_LABELS, judge_call
from ringtrail.services.call_marking import MAX_TAG_LENGTH, clean_tag_names
from ringtrail.services.deliveries.enqueue import note_call_changed
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.reports.rollups import mark_calls_changed
from ringtrail.storage.models import (
    Call,
    CallScore,
    CallTag,
    CallTagRemoval,
    Project,
    QualityRule,
    Tag,
    TrackingNumber,
)
from ringtrail.storage.models.transcripts import CallTranscript

log = logging.getLogger(__name__)

MAX_RULES = 100
BACKFILL_CHUNK = 500
MAX_BACKFILL_DAYS = 366
TRANSCRIPT_DONE = "done"


@dataclass(frozen=True)
class RuleInput:
    """A rule as a form, the API or the CLI gives it (checked by `save_rule`)."""

    name: str
    conditions: dict[str, Any] = field(default_factory=dict)
    add_tags: Sequence[str] = ()
    mark: str | None = None
    working_hours: dict[str, Any] | None = None
    languages: Sequence[str] = ()
    enabled: bool = True


def rule_of(row: QualityRule) -> Rule:
    """The stored rule as the domain reads it."""
    return Rule(
        id=row.id,
        name=row.name,
        conditions=conditions_from(row.conditions or {}),
        add_tags=tuple(row.add_tags or ()),
        mark=row.mark if row.mark in ("target", "non_target") else None,  # type: ignore[arg-type]
        working_hours=working_hours_from(row.working_hours or None),
        languages=languages_from(row.languages or ()),
    )


def _checked(data: RuleInput) -> Rule:
    """The input as a domain rule, or InvalidInput naming the field at fault."""
    try:
        tags = clean_tag_names(list(data.add_tags))
    except InvalidInput as exc:
        raise InvalidInput("add_tags", exc.message) from exc
    mark = data.mark or None
    if mark not in (None, "target", "non_target"):
        raise InvalidInput("mark", "must be target, non_target or empty")
    try:
        return check_rule(
            Rule(
                id=0,
                name=" ".join(data.name.split()),
                conditions=conditions_from(data.conditions),
                add_tags=tuple(tags),
                mark=mark,  # type: ignore[arg-type]
                working_hours=working_hours_from(data.working_hours),
                languages=languages_from(list(data.languages)),
            )
        )
    except RuleError as exc:
        raise InvalidInput(exc.field, exc.message) from exc


def list_rules(db: Session, project_id: int) -> list[QualityRule]:
    """The project's rules in the order they run."""
    return list(
        db.scalars(
            select(QualityRule)
            .where(QualityRule.project_id == project_id)
            .order_by(QualityRule.position, QualityRule.id)
        )
    )


def get_rule(db: Session, project_id: int, rule_id: int) -> QualityRule:
    """One rule of the project; NotFound for another project's rule too."""
    row = db.get(QualityRule, rule_id)
    if row is None or row.project_id != project_id:
        raise NotFound("no such quality rule")
    return row


def save_rule(
    db: Session, project_id: int, data: RuleInput, now: datetime, rule_id: int | None = None
) -> QualityRule:
    """Add a rule (last in order), or change rule `rule_id`; a same-named rule is a conflict
    with a reason (names tell rules apart in a call's history)."""
    rule = _checked(data)
    same_name = db.scalars(
        select(QualityRule.id).where(
            QualityRule.project_id == project_id,
            func.lower(QualityRule.name) == rule.name.lower(),
        )
    ).first()
    if same_name is not None and same_name != rule_id:
        raise InvalidInput("name", "another rule of the project has this name")
    if rule_id is None:
        count = db.scalar(
            select(func.count())
            .select_from(QualityRule)
            .where(QualityRule.project_id == project_id)
        )
        if (count or 0) >= MAX_RULES:
            raise InvalidInput("rules", f"a project has at most {MAX_RULES} rules")
        last = db.scalar(
            select(func.max(QualityRule.position)).where(QualityRule.project_id == project_id)
        )
        row = QualityRule(project_id=project_id, position=(last or 0) + 1)
        db.add(row)
    else:
        row = get_rule(db, project_id, rule_id)
    row.name = rule.name
    row.enabled = data.enabled
    row.conditions = conditions_data(rule.conditions)
    row.working_hours = working_hours_data(rule.working_hours)
    row.languages = list(rule.languages)
    row.add_tags = list(rule.add_tags)
    row.mark = rule.mark
    row.updated_at = now
    db.flush()
    return row


def delete_rule(db: Session, project_id: int, rule_id: int) -> None:
    """Remove a rule; the tags and marks it set stay (their history names it)."""
    db.delete(get_rule(db, project_id, rule_id))
    db.flush()


def move_rule(db: Session, project_id: int, rule_id: int, position: int) -> list[QualityRule]:
    """Put rule `rule_id` at `position` (1 = first); the rules in their new order."""
    rows = list_rules(db, project_id)
    moving = get_rule(db, project_id, rule_id)
    rows.remove(moving)
    rows.insert(max(0, min(position - 1, len(rows))), moving)
    for index, row in enumerate(rows, start=1):
        row.position = index
    db.flush()
    return rows


def enabled_rules(db: Session, project_id: int) -> list[tuple[QualityRule, Rule]]:
    """The project's switched-on rules in order, each with its domain form.

    A stored rule that no longer reads (edited by hand) is logged and skipped, never fatal.
    """
    rules = []
    for row in list_rules(db, project_id):
        if not row.enabled:
            continue
        try:
            rules.append((row, rule_of(row)))
        except RuleError:
            log.warning("quality rule %s of project %s does not read; skipped", row.id, project_id)
    return rules


def rule_call(db: Session, call: Call) -> RuleCall:
    """What the rules read of `call`: its facts, its number's pool and its transcript."""
    pool_id = None
    if call.tracking_number_id is not None:
        pool_id = db.scalar(
            select(TrackingNumber.pool_id).where(TrackingNumber.id == call.tracking_number_id)
        )
    transcript = db.execute(
        select(CallTranscript.text, CallTranscript.language).where(
            CallTranscript.call_id == call.id, CallTranscript.status == TRANSCRIPT_DONE
        )
    ).first()
    return RuleCall(
        started_at=call.started_at,
        answered=call.status == CallStatus.ANSWERED,
        talk_seconds=call.talk_seconds,
        is_first_time=call.is_first_time,
        source=call.source or "",
        medium=call.medium or "",
        campaign=call.campaign or "",
        dialled_e164=call.dialled_e164 or "",
        pool_id=pool_id,
        transcript=None if transcript is None else (transcript.text or ""),
        transcript_language=None if transcript is None else transcript.language,
    )


def _zone(db: Session, project_id: int) -> ZoneInfo:
    project = db.get(Project, project_id)
    return ZoneInfo(project.timezone if project is not None and project.timezone else "UTC")


def _ended(call: Call) -> bool:
    return call.ended_at is not None


def apply_quality_rules(
    db: Session,
    call: Call,
    now: datetime,
    *,
    rules: Sequence[tuple[QualityRule, Rule]] | None = None,
) -> list[str]:
    """Run the project's switched-on rules on an ended call; what they changed, in words
    ("tag 'spam' by rule:3 Spam", "target by rule:1 Long calls"), empty when nothing.

    Called when a call ends (services/call_ingestion.py) and when its transcript is ready
    (services/transcripts.py). Runs in the caller's transaction (the caller commits).
    `rules` saves looking the rules up again when many calls are applied at once.
    """
    if call.project_id is None or not _ended(call):
        return []
    rules = enabled_rules(db, call.project_id) if rules is None else rules
    if not rules:
        return []
    outcome = apply_rules(
        [rule for _row, rule in rules], rule_call(db, call), _zone(db, call.project_id)
    )
    changes = _add_tags(db, call, outcome, now)
    if changes:
        mark_calls_changed(db, call.project_id, [call.started_at])
    acted = {rule.id for rule in outcome.tags.values() if any(rule.detail in c for c in changes)}
    if (
        outcome.mark is not None
        and outcome.mark_rule is not None
        and _mark(db, call, outcome.mark == "target", outcome.mark_rule.detail)
    ):
        changes.append(f"{outcome.mark} by {outcome.mark_rule.detail}")
        acted.add(outcome.mark_rule.id)
    matched = {verdict.rule.id for verdict in outcome.verdicts if verdict.matched}
    for row, _rule in rules:
        row.last_applied_at = now
        if row.id in matched:
            row.last_matched_at = now
        if row.id in acted:
            row.matched_calls = (row.matched_calls or 0) + 1
    db.flush()
    return changes


def _add_tags(db: Session, call: Call, outcome: Outcome, now: datetime) -> list[str]:
    if not outcome.tags:
        return []
    names = [name[:MAX_TAG_LENGTH] for name in outcome.tags]
    tags = {
        tag.name: tag
        for tag in db.scalars(
            select(Tag).where(Tag.project_id == call.project_id, Tag.name.in_(names))
        )
    }
    on_call = set(db.scalars(select(CallTag.tag_id).where(CallTag.call_id == call.id)))
    removed = set(
        db.scalars(select(CallTagRemoval.tag_id).where(CallTagRemoval.call_id == call.id))
    )
    changes = []
    for name, rule in outcome.tags.items():
        tag = tags.get(name[:MAX_TAG_LENGTH])
        if tag is None:
            tag = Tag(project_id=call.project_id, name=name[:MAX_TAG_LENGTH])
            db.add(tag)
            db.flush()
            tags[tag.name] = tag
        if tag.id in on_call or tag.id in removed:
            continue
        db.add(
            CallTag(
                call_id=call.id, tag_id=tag.id, set_by="rule", set_at=now, set_detail=rule.detail
            )
        )
        on_call.add(tag.id)
        changes.append(f"tag {tag.name!r} by {rule.detail}")
    db.flush()
    if changes:
        # A CRM hears of tags a rule set as it does of a person's (call.updated).
        note_call_changed(db, call, now)
    return changes


def _mark(db: Session, call: Call, is_target: bool, detail: str) -> bool:
    """Mark by a rule unless this rule's same mark is already in the call's history."""
    label = TARGET_LABELS[is_target]
    if call.target_set_by == "rule" and call.is_target is is_target:
        return False
    already = db.scalar(
        select(CallScore.id)
        .where(
            CallScore.call_id == call.id,
            CallScore.scored_by == "rule",
            CallScore.label == label,
            CallScore.model_version == detail,
        )
        .limit(1)
    )
    if already is not None:
        by_person = db.scalar(
            select(CallScore.id)
            .where(CallScore.call_id == call.id, CallScore.scored_by == "user")
            .limit(1)
        )
        if by_person is not None:
            # A person marked or cleared the call since: the rule does not come back.
            return False
    return judge_call(db, call, is_target, by="rule", detail=detail)


def apply_to_ended_calls(connection: Connection, call_ids: Iterable[int], now: datetime) -> int:
    """Apply the rules to calls that just ended, in the ingestion's transaction; the calls
    changed. A failure is logged and undone to a savepoint: it never loses a call."""
    ids = sorted(set(call_ids))
    if not ids:
        return 0
    changed = 0
    with Session(bind=connection, join_transaction_mode="create_savepoint") as db:
        projects = set(
            db.scalars(
                select(QualityRule.project_id)
                .join(Call, Call.project_id == QualityRule.project_id)
                .where(Call.id.in_(ids), QualityRule.enabled.is_(True))
            )
        )
        if not projects:
            return 0
        for call in db.scalars(select(Call).where(Call.id.in_(ids), Call.project_id.in_(projects))):
            try:
                with db.begin_nested():
                    changed += bool(apply_quality_rules(db, call, now))
            except Exception:
                log.exception("quality rules failed on call %s", call.id)
        db.commit()  # releases the savepoint; the ingestion's transaction commits the rest
    return changed


@dataclass(frozen=True)
class BackfillResult:
    """What applying the rules to past calls did."""

    calls: int
    """Ended calls looked at."""
    changed_calls: int
    tags_added: int
    marks_set: int
    kept_by_person: int
    """Calls a rule would mark, left alone because a person marked them."""


def backfill(db: Session, project_id: int, start: date, end: date, now: datetime) -> BackfillResult:
    """Apply the switched-on rules to the ended calls of local days `start`..`end`."""
    if end < start:
        raise InvalidInput("end", "the period ends before it starts")
    if (end - start).days >= MAX_BACKFILL_DAYS:
        raise InvalidInput("end", f"at most {MAX_BACKFILL_DAYS} days at a time")
    rules = enabled_rules(db, project_id)
    zone = _zone(db, project_id)
    since, until = day_start(start, zone), day_start(end + timedelta(days=1), zone)
    calls = changed = tags = marks = kept = 0
    last_id = 0
    while True:
        chunk = list(
            db.scalars(
                select(Call)
                .where(
                    Call.project_id == project_id,
                    Call.started_at >= since,
                    Call.started_at < until,
                    Call.id > last_id,
                )
                .order_by(Call.id)
                .limit(BACKFILL_CHUNK)
            )
        )
        if not chunk or not rules:
            if not rules:
                calls = _count_calls(db, project_id, since, until)
            break
        for call in chunk:
            last_id = call.id
            if not _ended(call):
                continue
            calls += 1
            was_user = call.target_set_by == "user"
            done = apply_quality_rules(db, call, now, rules=rules)
            changed += bool(done)
            tags += sum(1 for change in done if change.startswith("tag "))
            marks += sum(1 for change in done if not change.startswith("tag "))
            if was_user and _would_mark(db, call, rules, zone):
                kept += 1
    return BackfillResult(calls, changed, tags, marks, kept)


def _count_calls(db: Session, project_id: int, since: datetime, until: datetime) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Call)
            .where(
                Call.project_id == project_id,
                Call.started_at >= since,
                Call.started_at < until,
                Call.ended_at.is_not(None),
            )
        )
        or 0
    )


def _would_mark(
    db: Session, call: Call, rules: Sequence[tuple[QualityRule, Rule]], zone: ZoneInfo
) -> bool:
    outcome = apply_rules([rule for _row, rule in rules], rule_call(db, call), zone)
    return outcome.mark is not None and (outcome.mark == "target") is not call.is_target


@dataclass(frozen=True)
class RuleReport:
    """Why a rule did (or did nothing) over recent calls."""

    rule_id: int
    enabled: bool
    calls: int
    """Ended calls of the period."""
    matched: int
    acted: int
    """Calls the rule has tagged or marked since it was made (all time)."""
    kept_by_person: int
    """Matched calls whose mark a person set against the rule's."""
    reasons: list[tuple[str, int]]
    """Conditions that failed, most often first, with how many calls each stopped."""
    summary: str


REASON_KEYS = (
    ("talk time", "talk time"),
    ("answered", "the call was answered or missed"),
    ("missed", "the call was answered or missed"),
    ("first-time", "first-time caller"),
    ("working hours", "working hours"),
    ("dialled number", "dialled number"),
    ("pools", "pool"),
    ("no transcript", "no transcript yet"),
    ("phrases", "phrases not found"),
    ("the transcript has", "an excluded phrase was said"),
)


def _reason_key(reason: str) -> str:
    for needle, key in REASON_KEYS:
        if needle in reason:
            return key
    return reason.split(" ", 1)[0]  # source, medium, campaign, channel


def explain_rule(
    db: Session, project_id: int, rule_id: int, start: date, end: date, limit: int = 2000
) -> RuleReport:
    """How rule `rule_id` fares on the ended calls of local days `start`..`end` (the latest
    `limit` of them): how many it matches, what stops it on the others, and why it did
    nothing when it did nothing."""
    row = get_rule(db, project_id, rule_id)
    zone = _zone(db, project_id)
    try:
        rule = rule_of(row)
    except RuleError as exc:
        return RuleReport(
            row.id, row.enabled, 0, 0, row.matched_calls, 0, [], f"The rule does not read: {exc}"
        )
    since, until = day_start(start, zone), day_start(end + timedelta(days=1), zone)
    calls = list(
        db.scalars(
            select(Call)
            .where(
                Call.project_id == project_id,
                Call.started_at >= since,
                Call.started_at < until,
                Call.ended_at.is_not(None),
            )
            .order_by(Call.started_at.desc())
            .limit(limit)
        )
    )
    reasons: Counter[str] = Counter()
    matched = kept = 0
    for call in calls:
        verdict: Verdict = evaluate(rule, rule_call(db, call), zone)
        if verdict.matched:
            matched += 1
            against = rule.mark is not None and call.is_target is not (rule.mark == "target")
            if against and call.target_set_by == "user":
                kept += 1
        else:
            reasons.update({_reason_key(reason) for reason in verdict.failed})
    ranked = reasons.most_common()
    summary = _summary(row.enabled, len(calls), matched, kept, ranked)
    return RuleReport(
        row.id, row.enabled, len(calls), matched, row.matched_calls, kept, ranked, summary
    )


def _summary(
    enabled: bool, calls: int, matched: int, kept: int, reasons: list[tuple[str, int]]
) -> str:
    if not enabled:
        return "The rule is switched off: it runs on no call."
    if calls == 0:
        return "No ended calls in the period to run on."
    if matched == 0:
        top = ", ".join(f"{reason} ({count})" for reason, count in reasons[:3])
        return f"No call of {calls} matched; what stopped them most: {top}."
    if kept == matched:
        return f"{matched} of {calls} calls matched, but people marked every one of them otherwise."
    return f"{matched} of {calls} calls matched."
