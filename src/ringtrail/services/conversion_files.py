"""Conversion files: a project's calls as Google Ads' click-conversion import file or
Yandex Metrica's calls file, for accounts that upload by hand instead of through the API.

The calls of a date range (the project's days) are read with the same facts the deliveries
use (`services.deliveries.facts`), counted by the destination's conversion rule
(`domain.conversion_rules`, with the project's consent mode) and checked as the API path
checks them (click window, conversion after click, a Metrica id); each call left out is
reported with its reason in words, so an empty file says why it is empty.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.click_windows import YandexIdKind
from ringtrail.domain.conversion_rules import CONVERSION_EVENT, evaluate
from ringtrail.integrations.base import Conversion, ConversionFacts, Skip
from ringtrail.integrations.google_ads import GoogleAdsConfig, click_of, consent_refusal
from ringtrail.integrations.google_ads_files import ClickConversionRow, click_conversions_csv
from ringtrail.integrations.yandex_files import YandexCallRow, calls_csv
from ringtrail.integrations.yandex_metrica import YandexMetricaConfig, call_row, visitor_of
from ringtrail.services.calls import project_zone
from ringtrail.services.deliveries.destinations import (
    config_of,
    consent_mode,
    get_destination,
    rule_of,
)
from ringtrail.services.deliveries.facts import Subject, load_facts
from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import Call, IntegrationDestination, Project

FILE_KINDS = ("google_ads", "yandex_metrica")
"""Destination kinds that have an import file."""
MAX_DAYS = 366
"""The longest range one file covers."""
MAX_CALLS = 100_000
"""The most calls one file looks at; narrow the range for more."""
BATCH = 1000
"""Calls whose facts are read together."""
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class LeftOut:
    """A call the file does not hold, and why."""

    call_id: int
    started_at: datetime
    code: str
    words: str


@dataclass(frozen=True)
class ConversionFile:
    """The file, its name, and what it holds and leaves out."""

    kind: str
    filename: str
    content: str
    rows: int
    calls_seen: int
    left_out: list[LeftOut] = field(default_factory=list)

    def reasons(self) -> list[tuple[str, int]]:
        """Why calls were left out, most frequent first: (words, count)."""
        counts = Counter(item.words for item in self.left_out)
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def summary(self) -> str:
        """One line for people: how many rows, and why the others are not there."""
        head = f"{self.rows} conversion(s) from {self.calls_seen} call(s)"
        if not self.left_out:
            return head
        why = "; ".join(f"{words} ({count})" for words, count in self.reasons())
        return f"{head}; left out: {why}"


DEFAULT_DAYS = 7
"""The range used when none is given: the last week, today included."""


def default_days(project: Project, now: datetime) -> tuple[date, date]:
    """The last `DEFAULT_DAYS` days of the project's calendar, today included."""
    today = now.astimezone(project_zone(project)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def day_range(
    project: Project, start: str | None, end: str | None, now: datetime
) -> tuple[date, date]:
    """The days `from` and `to` given as text (either may be left out: the last week, or
    a week from `from`); InvalidInput names a bad one."""
    first, last = default_days(project, now)
    if start:
        first = parse_day(start, "from")
        if not end:
            last = min(first + timedelta(days=DEFAULT_DAYS - 1), max(last, first))
    if end:
        last = parse_day(end, "to")
        if not start:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
    return first, last


def parse_day(text: str, field_name: str) -> date:
    """A `YYYY-MM-DD` day; InvalidInput naming the field otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(field_name, "must be a day like 2026-12-01") from None


def _checked_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("to", "must not be before from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("to", f"a file covers at most {MAX_DAYS} days")


def _file_destination(db: Session, project: Project, destination_id: int) -> IntegrationDestination:
    row = get_destination(db, project, destination_id)
    if row.kind not in FILE_KINDS:
        raise InvalidInput(
            "destination", "only Google Ads and Yandex Metrica destinations have an import file"
        )
    return row


def _config(row: IntegrationDestination) -> BaseModel:
    try:
        return config_of(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(
            "destination", f"its settings are incomplete: {first.get('msg', 'not valid')}"
        ) from None


def _calls_in(db: Session, project: Project, start: date, end: date) -> Iterator[Call]:
    zone = project_zone(project)
    since = datetime.combine(start, time.min, zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC)
    query = (
        select(Call)
        .where(Call.project_id == project.id, Call.started_at >= since, Call.started_at < until)
        .order_by(Call.started_at, Call.id)
        .limit(MAX_CALLS)
    )
    yield from db.scalars(query)


def _batches(calls: Iterator[Call]) -> Iterator[list[Call]]:
    batch: list[Call] = []
    for call in calls:
        batch.append(call)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def counted_calls(
    db: Session,
    project: Project,
    row: IntegrationDestination,
    start: date,
    end: date,
    now: datetime,
) -> Iterator[tuple[Call, ConversionFacts, Conversion | Skip]]:
    """Each call of the range with its facts and what the destination's rule makes of it."""
    rule = rule_of(row)
    consent = consent_mode(project)
    for batch in _batches(_calls_in(db, project, start, end)):
        subjects: Sequence[Subject] = [Subject(call.id, row.id, "call", call.id) for call in batch]
        facts_by_id = load_facts(db, subjects, None, now)
        for call in batch:
            facts = facts_by_id.get(call.id)
            if facts is None:
                continue
            yield call, facts, evaluate(rule, facts, CONVERSION_EVENT, consent_mode=consent)


def _name_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40]


def _filename(project: Project, kind: str, start: date, end: date) -> str:
    what = "google-ads-click-conversions" if kind == "google_ads" else "yandex-metrica-calls"
    name = _name_part(project.slug or "") or f"project-{project.id}"
    return f"{what}-{name}-{start.isoformat()}-{end.isoformat()}.csv"


def _left(call: Call, skip: Skip) -> LeftOut:
    return LeftOut(call.id, call.started_at, skip.code, skip.words)


def _google_file(
    db: Session,
    project: Project,
    row: IntegrationDestination,
    config: GoogleAdsConfig,
    start: date,
    end: date,
    now: datetime,
) -> tuple[str, int, int, list[LeftOut]]:
    rows: list[ClickConversionRow] = []
    left: list[LeftOut] = []
    seen = 0
    for call, facts, conversion in counted_calls(db, project, row, start, end, now):
        seen += 1
        if isinstance(conversion, Skip):
            left.append(_left(call, conversion))
            continue
        refused = consent_refusal(facts)
        click = refused if refused is not None else click_of(facts, config.click_window, now)
        if isinstance(click, Skip):
            left.append(_left(call, click))
            continue
        rows.append(
            ClickConversionRow(
                click=click,
                name=conversion.name,
                converted_at=facts.occurred_at,
                value=conversion.value,
                currency=conversion.currency,
            )
        )
    zone = project_zone(project).key
    return click_conversions_csv(rows, zone), len(rows), seen, left


def _yandex_file(
    db: Session,
    project: Project,
    row: IntegrationDestination,
    config: YandexMetricaConfig,
    start: date,
    end: date,
    now: datetime,
) -> tuple[str, int, int, list[LeftOut]]:
    # One file is one uploading with one id type: AUTO files link on the ClientId.
    kind: YandexIdKind = config.preferred or "CLIENT_ID"
    settings = config.model_copy(update={"id_type": kind})
    rows: list[YandexCallRow] = []
    left: list[LeftOut] = []
    seen = 0
    for call, facts, conversion in counted_calls(db, project, row, start, end, now):
        seen += 1
        if isinstance(conversion, Skip):
            left.append(_left(call, conversion))
            continue
        visitor = visitor_of(facts, settings, now)
        if isinstance(visitor, Skip):
            left.append(_left(call, _other_id_type(facts, kind) or visitor))
            continue
        rows.append(call_row(facts, conversion, settings, visitor))
    return calls_csv(rows, kind), len(rows), seen, left


def _other_id_type(facts: ConversionFacts, kind: YandexIdKind) -> Skip | None:
    """Why a visit with only the other Metrica id is not in a file of `kind`."""
    visit = facts.visit
    if visit is None:
        return None
    if kind == "CLIENT_ID" and not visit.ym_uid and visit.yclid:
        return Skip("other_id_type", "only a yclid on the visit: this file links calls by ClientId")
    if kind == "YCLID" and not visit.yclid and visit.ym_uid:
        return Skip("other_id_type", "only a ClientId on the visit: this file links calls by yclid")
    return None


def build_conversion_file(
    db: Session,
    project: Project,
    destination_id: int,
    start: date,
    end: date,
    now: datetime,
) -> ConversionFile:
    """The import file of destination `destination_id` for the calls started from `start`
    to `end` (the project's days, both included); InvalidInput for a bad range or a
    destination without a file, NotFound for another project's destination."""
    _checked_range(start, end)
    row = _file_destination(db, project, destination_id)
    config = _config(row)
    if isinstance(config, GoogleAdsConfig):
        content, rows, seen, left = _google_file(db, project, row, config, start, end, now)
    elif isinstance(config, YandexMetricaConfig):
        content, rows, seen, left = _yandex_file(db, project, row, config, start, end, now)
    else:  # pragma: no cover - FILE_KINDS and the registry agree
        raise InvalidInput("destination", "this destination has no import file")
    return ConversionFile(
        kind=row.kind,
        filename=_filename(project, row.kind, start, end),
        content=content,
        rows=rows,
        calls_seen=seen,
        left_out=left,
    )
