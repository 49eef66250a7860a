"""Call quality rules: conditions on a call's facts and transcript, and the tags and target
mark a matching rule gives, evaluated with the reason each condition failed.

Every condition is optional and all set conditions must hold. Rules run in their order:
every matching rule adds its tags, and the first matching rule that marks decides the mark
(later rules' marks are reported as shadowed). Whether that mark may change the call (a
person's mark always wins) is decided by services/call_judgement.py, not here.

A transcript condition on a call without a transcript does not hold ("no transcript yet"),
so such a rule acts once the transcript is ready and the rules run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ringtrail.domain.sources import channel_for
from ringtrail.domain.word_forms import LANGUAGES, Language, TextForms, detect_languages

TextField = Literal["source", "medium", "campaign", "channel"]
TEXT_FIELDS: tuple[TextField, ...] = ("source", "medium", "campaign", "channel")
TextOp = Literal["equals", "contains"]
TEXT_OPS: tuple[TextOp, ...] = ("equals", "contains")
Mark = Literal["target", "non_target"]
MARKS: tuple[Mark, ...] = ("target", "non_target")

MAX_PHRASES = 200
MAX_PHRASE_LENGTH = 200
MAX_TAGS = 10
MAX_NAME_LENGTH = 100
MAX_SECONDS = 86_400


class RuleError(ValueError):
    """A rule that cannot be kept, with the field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class WorkingHours:
    """When the business answers, in the project's time zone: weekdays (Monday = 0) and a
    daily span; a span whose end is before its start runs past midnight."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(18, 0)

    def covers(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether `moment` falls within working hours."""
        local = moment.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return local.weekday() in self.days and self.start <= clock < self.end
        if clock >= self.start:
            return local.weekday() in self.days
        # After midnight: the span belongs to the previous day.
        return (local.weekday() - 1) % 7 in self.days and clock < self.end


@dataclass(frozen=True)
class TextCondition:
    """A call attribute equal to, or containing, a value: case, spaces, "_" and "-" aside
    (so "Paid Search" is the channel `paid_search`)."""

    field: TextField
    op: TextOp
    value: str

    def holds(self, actual: str) -> bool:
        wanted, have = _loose(self.value), _loose(actual)
        return have == wanted if self.op == "equals" else wanted in have


def _loose(value: str) -> str:
    return " ".join(value.casefold().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class Conditions:
    """What a call must be for the rule to act; None or empty means "any"."""

    talk_at_least: int | None = None
    talk_under: int | None = None
    answered: bool | None = None
    first_time: bool | None = None
    out_of_hours: bool | None = None
    text: tuple[TextCondition, ...] = ()
    dialled: tuple[str, ...] = ()
    pool_ids: tuple[int, ...] = ()
    phrases_any: tuple[str, ...] = ()
    phrases_none: tuple[str, ...] = ()

    @property
    def needs_transcript(self) -> bool:
        """Whether the rule looks at the transcript."""
        return bool(self.phrases_any or self.phrases_none)


@dataclass(frozen=True)
class Rule:
    """A quality rule: conditions, actions, and the settings they need."""

    id: int
    name: str
    conditions: Conditions = Conditions()
    add_tags: tuple[str, ...] = ()
    mark: Mark | None = None
    working_hours: WorkingHours = WorkingHours()
    languages: tuple[Language, ...] = ()
    """Languages the phrases are in; empty: detected per transcript."""

    @property
    def detail(self) -> str:
        """How a mark or tag set by this rule names it."""
        return f"rule:{self.id} {self.name}"[:100]


@dataclass(frozen=True)
class RuleCall:
    """What rules read of a call. Instants are timezone-aware."""

    started_at: datetime
    answered: bool
    talk_seconds: int | None
    is_first_time: bool | None
    source: str = ""
    medium: str = ""
    campaign: str = ""
    dialled_e164: str = ""
    pool_id: int | None = None
    transcript: str | None = None
    transcript_language: str | None = None
    """The language the transcriber heard, if it said."""


@dataclass(frozen=True)
class Verdict:
    """One rule on one call: whether it matched, and if not, every condition that failed."""

    rule: Rule
    matched: bool
    failed: tuple[str, ...] = ()
    """Reasons, in words ("talk time 12 s is under 30 s")."""
    phrases: tuple[str, ...] = ()
    """The phrases found in the transcript."""


@dataclass(frozen=True)
class Outcome:
    """All rules on one call: the tags to add and the mark to give, with who gave each."""

    verdicts: tuple[Verdict, ...]
    tags: dict[str, Rule] = field(default_factory=dict)
    """Tag name -> the first rule that adds it."""
    mark: Mark | None = None
    mark_rule: Rule | None = None


def evaluate(rule: Rule, call: RuleCall, zone: ZoneInfo) -> Verdict:
    """Whether `rule` matches `call`, and why not."""
    c = rule.conditions
    failed: list[str] = []
    talk = call.talk_seconds or 0
    if c.talk_at_least is not None and talk < c.talk_at_least:
        failed.append(f"talk time {talk} s is under {c.talk_at_least} s")
    if c.talk_under is not None and talk >= c.talk_under:
        failed.append(f"talk time {talk} s is not under {c.talk_under} s")
    if c.answered is not None and call.answered != c.answered:
        failed.append("the call was answered" if call.answered else "the call was missed")
    if c.first_time is not None and bool(call.is_first_time) != c.first_time:
        failed.append("a first-time caller" if call.is_first_time else "not a first-time caller")
    if c.out_of_hours is not None:
        inside = rule.working_hours.covers(call.started_at, zone)
        if inside == c.out_of_hours:
            failed.append("within working hours" if inside else "out of working hours")
    values = {
        "source": call.source,
        "medium": call.medium,
        "campaign": call.campaign,
        "channel": channel_for(call.source, call.medium) if call.source else "",
    }
    for condition in c.text:
        if not condition.holds(values[condition.field]):
            failed.append(
                f"{condition.field} {values[condition.field]!r} does not {condition.op[:-1]}"
                f" {condition.value!r}"
            )
    if c.dialled and _digits(call.dialled_e164) not in {_digits(number) for number in c.dialled}:
        failed.append(f"dialled number {call.dialled_e164} is not one of the rule's")
    if c.pool_ids and call.pool_id not in c.pool_ids:
        failed.append("the dialled number is not in the rule's pools")
    found: tuple[str, ...] = ()
    if c.needs_transcript:
        if call.transcript is None:
            failed.append("no transcript yet")
        else:
            languages = rule.languages or _languages_of(call.transcript, call.transcript_language)
            forms = TextForms(call.transcript, languages)
            found = tuple(forms.found(c.phrases_any))
            if c.phrases_any and not found:
                failed.append("none of the phrases is in the transcript")
            unwanted = forms.found(c.phrases_none)
            if unwanted:
                failed.append(f"the transcript has {', '.join(unwanted)!s}")
    return Verdict(rule, not failed, tuple(failed), found)


def _languages_of(transcript: str, heard: str | None) -> tuple[Language, ...]:
    """The languages to match a transcript's phrases in: the detected ones, and the one the
    transcriber heard (calls switch between Russian and Ukrainian often)."""
    detected = detect_languages(transcript)
    for language in LANGUAGES:
        if language == heard and language not in detected:
            return (language, *detected)
    return detected


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def apply_rules(rules: Sequence[Rule], call: RuleCall, zone: ZoneInfo) -> Outcome:
    """Every rule on `call` in order: the tags of all matching rules, the first mark."""
    verdicts = tuple(evaluate(rule, call, zone) for rule in rules)
    tags: dict[str, Rule] = {}
    mark: Mark | None = None
    mark_rule: Rule | None = None
    for verdict in verdicts:
        if not verdict.matched:
            continue
        for tag in verdict.rule.add_tags:
            tags.setdefault(tag, verdict.rule)
        if mark is None and verdict.rule.mark is not None:
            mark, mark_rule = verdict.rule.mark, verdict.rule
    return Outcome(verdicts, tags, mark, mark_rule)


# Reading and checking rules as stored (JSON) and as typed in forms.


def _seconds(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError) as exc:
        raise RuleError(name, "must be a whole number of seconds") from exc
    if not 0 <= seconds <= MAX_SECONDS:
        raise RuleError(name, f"must be between 0 and {MAX_SECONDS} seconds")
    return seconds


def _flag(value: Any, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    raise RuleError(name, "must be true, false or empty")


def _phrases(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise RuleError(name, "must be a list of phrases")
    cleaned: list[str] = []
    for raw in value:
        if not isinstance(raw, str):
            raise RuleError(name, "must be a list of phrases")
        phrase = " ".join(raw.split())
        if not phrase:
            continue
        if len(phrase) > MAX_PHRASE_LENGTH:
            raise RuleError(name, f"a phrase is at most {MAX_PHRASE_LENGTH} characters")
        if not any(ch.isalpha() for ch in phrase):
            raise RuleError(name, f"{phrase!r} has no words")
        if phrase.casefold() not in (kept.casefold() for kept in cleaned):
            cleaned.append(phrase)
    if len(cleaned) > MAX_PHRASES:
        raise RuleError(name, f"at most {MAX_PHRASES} phrases")
    return tuple(cleaned)


def _time(value: Any, name: str, default: time) -> time:
    if value is None or value == "":
        return default
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise RuleError(name, "must be a time such as 09:00") from exc


def conditions_from(data: Mapping[str, Any]) -> Conditions:
    """Conditions from their stored form (a JSON object); RuleError says what is wrong."""
    text: list[TextCondition] = []
    for item in data.get("text") or []:
        if not isinstance(item, Mapping):
            raise RuleError("text", "must be a list of {field, op, value}")
        name, op, value = item.get("field"), item.get("op"), str(item.get("value") or "").strip()
        if name not in TEXT_FIELDS:
            raise RuleError("text", f"field must be one of {', '.join(TEXT_FIELDS)}")
        if op not in TEXT_OPS:
            raise RuleError("text", f"op must be one of {', '.join(TEXT_OPS)}")
        if not value:
            raise RuleError("text", f"the value for {name} is empty")
        text.append(TextCondition(name, op, value[:500]))
    dialled = tuple(str(number).strip() for number in data.get("dialled") or [] if str(number))
    for number in dialled:
        if not 6 <= len(_digits(number)) <= 15:
            raise RuleError("dialled", f"{number!r} is not a phone number")
    try:
        pool_ids = tuple(int(pool) for pool in data.get("pool_ids") or [])
    except (TypeError, ValueError) as exc:
        raise RuleError("pool_ids", "must be pool ids") from exc
    conditions = Conditions(
        talk_at_least=_seconds(data.get("talk_at_least"), "talk_at_least"),
        talk_under=_seconds(data.get("talk_under"), "talk_under"),
        answered=_flag(data.get("answered"), "answered"),
        first_time=_flag(data.get("first_time"), "first_time"),
        out_of_hours=_flag(data.get("out_of_hours"), "out_of_hours"),
        text=tuple(text),
        dialled=tuple(dict.fromkeys(dialled)),
        pool_ids=tuple(dict.fromkeys(pool_ids)),
        phrases_any=_phrases(data.get("phrases_any"), "phrases_any"),
        phrases_none=_phrases(data.get("phrases_none"), "phrases_none"),
    )
    if (
        conditions.talk_at_least is not None
        and conditions.talk_under is not None
        and conditions.talk_under <= conditions.talk_at_least
    ):
        raise RuleError("talk_under", "no talk time is both that long and that short")
    return conditions


def conditions_data(conditions: Conditions) -> dict[str, Any]:
    """Conditions in their stored form (only the set ones)."""
    data: dict[str, Any] = {
        "talk_at_least": conditions.talk_at_least,
        "talk_under": conditions.talk_under,
        "answered": conditions.answered,
        "first_time": conditions.first_time,
        "out_of_hours": conditions.out_of_hours,
        "text": [{"field": t.field, "op": t.op, "value": t.value} for t in conditions.text],
        "dialled": list(conditions.dialled),
        "pool_ids": list(conditions.pool_ids),
        "phrases_any": list(conditions.phrases_any),
        "phrases_none": list(conditions.phrases_none),
    }
    return {key: value for key, value in data.items() if value not in (None, [])}


def working_hours_from(data: Mapping[str, Any] | None) -> WorkingHours:
    """Working hours from their stored form; the default is Monday to Friday, 09:00-18:00."""
    if not data:
        return WorkingHours()
    try:
        days = frozenset(int(day) for day in data.get("days", range(5)))
    except (TypeError, ValueError) as exc:
        raise RuleError("working_days", "must be weekday numbers, Monday = 0") from exc
    if not days or not days <= set(range(7)):
        raise RuleError("working_days", "pick at least one weekday")
    start = _time(data.get("start"), "working_start", time(9, 0))
    end = _time(data.get("end"), "working_end", time(18, 0))
    if start == end:
        raise RuleError("working_end", "working hours start and end at the same time")
    return WorkingHours(days, start, end)


def working_hours_data(hours: WorkingHours) -> dict[str, Any]:
    """Working hours in their stored form."""
    return {
        "days": sorted(hours.days),
        "start": hours.start.strftime("%H:%M"),
        "end": hours.end.strftime("%H:%M"),
    }


def languages_from(values: Sequence[str] | None) -> tuple[Language, ...]:
    """Phrase languages, checked; empty means "detect per transcript"."""
    chosen: list[Language] = []
    for value in values or ():
        if value not in LANGUAGES:
            raise RuleError("languages", f"{value!r} is not one of {', '.join(LANGUAGES)}")
        if value not in chosen:
            chosen.append(value)
    return tuple(chosen)


def check_rule(rule: Rule) -> Rule:
    """The rule, or RuleError when it has no name or does nothing."""
    if not rule.name.strip():
        raise RuleError("name", "the rule needs a name")
    if len(rule.name) > MAX_NAME_LENGTH:
        raise RuleError("name", f"a name is at most {MAX_NAME_LENGTH} characters")
    if not rule.add_tags and rule.mark is None:
        raise RuleError("actions", "the rule neither adds a tag nor marks the call")
    if len(rule.add_tags) > MAX_TAGS:
        raise RuleError("add_tags", f"at most {MAX_TAGS} tags")
    if rule.mark is not None and rule.mark not in MARKS:
        raise RuleError("mark", "must be target or non_target")
    return rule
