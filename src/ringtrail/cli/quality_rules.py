"""`ringtrail quality rules ...`: call quality rules, which tag calls and mark them target or not.

Conditions are options (all optional, all must hold): `--talk-at-least 30`, `--missed`,
`--first-time`, `--out-of-hours` with `--hours 09:00-18:00 --days 0-4`, `--when
source:equals:google` (source, medium, campaign or channel; equals or contains), `--dialled`,
`--pool`, `--says PHRASE` (the transcript says any of them, in any word form) and `--never-says`.
Actions: `--tag NAME` and `--mark target|non_target`. A person's mark always wins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.errors import usage_error
from ringtrail.cli.lookup import ProjectOption, find_pool, find_project, print_table
from ringtrail.services.quality_rules import (
    RuleInput,
    backfill,
    delete_rule,
    explain_rule,
    list_rules,
    save_rule,
)
from ringtrail.storage.models import QualityRule
from ringtrail.storage.models.base import utcnow

app = typer.Typer(help="Lead quality: call quality rules.", no_args_is_help=True)
rules = typer.Typer(
    help="Manage call quality rules (automatic tags and target marks).", no_args_is_help=True
)
app.add_typer(rules, name="rules")

RuleArg = Annotated[int, typer.Argument(metavar="RULE", help="The rule's id.")]
Phrases = Annotated[list[str] | None, typer.Option(metavar="PHRASE")]


def _when(text: str) -> dict[str, str]:
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise usage_error(f"--when {text!r}: write FIELD:OP:VALUE, e.g. source:equals:google")
    return {"field": parts[0].strip(), "op": parts[1].strip(), "value": parts[2]}


def _days(text: str) -> list[int]:
    """`0-4` or `0,2,5` (Monday = 0)."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            return list(range(first, last + 1))
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise usage_error(f"--days {text!r}: write 0-4 or 0,2,5 (Monday = 0)") from exc


def _hours(text: str) -> tuple[str, str]:
    start, _, end = text.partition("-")
    if not start or not end:
        raise usage_error(f"--hours {text!r}: write 09:00-18:00")
    return start.strip(), end.strip()


def describe(rule: QualityRule) -> str:
    """A rule's conditions in one line."""
    c = rule.conditions or {}
    parts = []
    if c.get("talk_at_least") is not None:
        parts.append(f"talk >= {c['talk_at_least']}s")
    if c.get("talk_under") is not None:
        parts.append(f"talk < {c['talk_under']}s")
    if c.get("answered") is not None:
        parts.append("answered" if c["answered"] else "missed")
    if c.get("first_time") is not None:
        parts.append("first-time" if c["first_time"] else "repeat caller")
    if c.get("out_of_hours") is not None:
        parts.append("out of hours" if c["out_of_hours"] else "in hours")
    parts += [f"{t['field']} {t['op']} {t['value']!r}" for t in c.get("text", [])]
    if c.get("dialled"):
        parts.append("dialled " + ",".join(c["dialled"]))
    if c.get("pool_ids"):
        parts.append("pool " + ",".join(str(p) for p in c["pool_ids"]))
    if c.get("phrases_any"):
        parts.append("says " + " | ".join(c["phrases_any"]))
    if c.get("phrases_none"):
        parts.append("never says " + " | ".join(c["phrases_none"]))
    return " and ".join(parts) or "every ended call"


@rules.command("list")
def list_(project: ProjectOption) -> None:
    """List a project's quality rules in the order they run."""
    with transaction() as db:
        rows = [
            (
                str(r.id),
                r.name,
                describe(r),
                ", ".join(r.add_tags or []) or "-",
                r.mark or "-",
                "on" if r.enabled else "off",
                str(r.matched_calls),
            )
            for r in list_rules(db, find_project(db, project).id)
        ]
    if not rows:
        typer.echo(
            f"project {project} has no quality rules: calls are judged by people (and the "
            f"model) only; add one with `ringtrail quality rules add --project {project} ...`"
        )
        return
    print_table(("ID", "NAME", "WHEN", "TAGS", "MARK", "STATE", "CHANGED"), rows)


@rules.command("add")
def add(
    project: ProjectOption,
    name: Annotated[str, typer.Option(help="A name saying what the rule is for.")],
    tag: Annotated[list[str] | None, typer.Option(help="Add this tag; repeat for more.")] = None,
    mark: Annotated[
        str | None, typer.Option(metavar="target|non_target", help="Mark the call.")
    ] = None,
    talk_at_least: Annotated[int | None, typer.Option(min=0, help="Talk time >= seconds.")] = None,
    talk_under: Annotated[int | None, typer.Option(min=0, help="Talk time < seconds.")] = None,
    answered: Annotated[
        bool | None, typer.Option("--answered/--missed", help="Answered or missed calls.")
    ] = None,
    first_time: Annotated[
        bool | None, typer.Option("--first-time/--repeat", help="First-time or repeat callers.")
    ] = None,
    out_of_hours: Annotated[
        bool | None,
        typer.Option("--out-of-hours/--in-hours", help="Outside or within working hours."),
    ] = None,
    hours: Annotated[str, typer.Option(help="Working hours, project time.")] = "09:00-18:00",
    days: Annotated[str, typer.Option(help="Working days, Monday = 0.")] = "0-4",
    when: Annotated[
        list[str] | None,
        typer.Option(metavar="FIELD:OP:VALUE", help="e.g. source:contains:google; repeatable."),
    ] = None,
    dialled: Annotated[list[str] | None, typer.Option(help="A dialled number; repeatable.")] = None,
    pool: Annotated[list[str] | None, typer.Option(help="A pool (id or name); repeatable.")] = None,
    says: Phrases = None,
    never_says: Phrases = None,
    language: Annotated[
        list[str] | None, typer.Option(help="Phrase language en/ru/uk; default: detected.")
    ] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Add it switched off.")] = False,
) -> None:
    """Add a quality rule (it runs last, on calls that end from now on; see `apply`)."""
    start, end = _hours(hours)
    with transaction() as db:
        found = find_project(db, project)
        conditions: dict[str, Any] = {
            "talk_at_least": talk_at_least,
            "talk_under": talk_under,
            "answered": answered,
            "first_time": first_time,
            "out_of_hours": out_of_hours,
            "text": [_when(text) for text in when or []],
            "dialled": dialled or [],
            "pool_ids": [find_pool(db, found, name).id for name in pool or []],
            "phrases_any": says or [],
            "phrases_none": never_says or [],
        }
        rule = save_rule(
            db,
            found.id,
            RuleInput(
                name=name,
                conditions=conditions,
                add_tags=tag or [],
                mark=mark,
                working_hours={"days": _days(days), "start": start, "end": end},
                languages=language or [],
                enabled=not inactive,
            ),
            utcnow(),
        )
        line = f"added quality rule {rule.id} {rule.name!r}: {describe(rule)}"
    typer.echo(line)


@rules.command("remove")
def remove(project: ProjectOption, rule: RuleArg) -> None:
    """Remove a rule; the tags and marks it set stay, named in each call's history."""
    with transaction() as db:
        delete_rule(db, find_project(db, project).id, rule)
    typer.echo(f"removed quality rule {rule}")


@rules.command("apply")
def apply(
    project: ProjectOption,
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First local day.")],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last local day.")],
) -> None:
    """Apply the switched-on rules to the ended calls of a period (people's marks stay)."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise usage_error("--from and --to are dates: YYYY-MM-DD") from exc
    with transaction() as db:
        result = backfill(db, find_project(db, project).id, first, last, utcnow())
    typer.echo(
        f"looked at {result.calls} ended calls: {result.changed_calls} changed, "
        f"{result.tags_added} tags added, {result.marks_set} marks set, "
        f"{result.kept_by_person} left as people marked them"
    )
    if result.calls == 0:
        typer.echo("nothing to do: no ended calls in that period, or no switched-on rules")


@rules.command("why")
def why(
    project: ProjectOption,
    rule: RuleArg,
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD")],
) -> None:
    """How a rule fares on a period's ended calls, and what stopped it (why it did nothing)."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise usage_error("--from and --to are dates: YYYY-MM-DD") from exc
    with transaction() as db:
        report = explain_rule(db, find_project(db, project).id, rule, first, last)
    typer.echo(report.summary)
    for reason, count in report.reasons:
        typer.echo(f"  {reason}: {count}")
