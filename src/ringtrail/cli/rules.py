"""`ringtrail rule ...`: source rules, "a visit that matches gets this label and number".

Conditions are written `FIELD:OP[:VALUE]`, e.g. `utm_source:equals:google`,
`click_id:equals:gclid` or `click_id:exists`; every condition of a rule must hold. Rules are
tried lowest priority first. `--catch-all` adds the rule with no conditions, tried last, that
shows a pool to every visit no other rule took.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.errors import usage_error
from ringtrail.cli.lookup import ProjectOption, find_number, find_pool, find_project, print_table
from ringtrail.services.source_rules import (
    add_rule,
    change_rule,
    get_rule,
    list_rules,
    remove_rule,
)
from ringtrail.storage.models import SourceRule

app = typer.Typer(
    help="Manage source rules (which visits get which label and number).", no_args_is_help=True
)

MIN_PRIORITY, MAX_PRIORITY = -1_000_000, 1_000_000
CATCH_ALL_PRIORITY = MAX_PRIORITY
CATCH_ALL_NAME = "Every visit (catch-all)"

RuleArg = Annotated[int, typer.Argument(metavar="RULE", help="The rule's id.")]
PriorityOption = Annotated[
    int | None,
    typer.Option(min=MIN_PRIORITY, max=MAX_PRIORITY, help="Rules are tried lowest first."),
]
WhenOption = Annotated[
    list[str] | None,
    typer.Option(
        "--when",
        metavar="FIELD:OP[:VALUE]",
        help="A condition, e.g. utm_source:equals:google; repeat for more (all must hold).",
    ),
]
PoolOption = Annotated[
    str | None, typer.Option("--pool", metavar="POOL", help="Show a number of this pool.")
]
NumberOption = Annotated[
    str | None, typer.Option("--number", metavar="NUMBER", help="Show this static number.")
]


def parse_condition(text: str) -> dict[str, Any]:
    """`FIELD:OP[:VALUE]` as the condition the service checks (it says what is wrong)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        raise usage_error(f"--when {text!r}: write FIELD:OP[:VALUE], e.g. utm_source:equals:google")
    value = parts[2] if len(parts) == 3 else None
    return {"field": parts[0].strip(), "op": parts[1].strip(), "value": value}


def _shows(rule: SourceRule) -> str:
    if rule.pool_id is not None:
        return f"pool {rule.pool_id}"
    if rule.static_number_id is not None:
        return f"number {rule.static_number_id}"
    return "-"


def _conditions(rule: SourceRule) -> str:
    parts = [
        ":".join(str(x) for x in (c.get("field"), c.get("op"), c.get("value")) if x is not None)
        for c in rule.conditions or []
    ]
    return " and ".join(parts) or "every visit"


def _target(db: Any, project: Any, pool: str | None, number: str | None) -> dict[str, Any]:
    target: dict[str, Any] = {}
    if pool is not None:
        target["pool_id"] = find_pool(db, project, pool).id
    if number is not None:
        target["static_number_id"] = find_number(db, project, number).id
    return target


@app.command("add")
def add(
    project: ProjectOption,
    name: Annotated[str | None, typer.Option(help="A name saying what the rule is for.")] = None,
    when: WhenOption = None,
    source: Annotated[
        str | None, typer.Option(help="Label matching visits with this source.")
    ] = None,
    medium: Annotated[str | None, typer.Option(help="Label them with this medium.")] = None,
    campaign: Annotated[str | None, typer.Option(help="Label them with this campaign.")] = None,
    pool: PoolOption = None,
    number: NumberOption = None,
    priority: PriorityOption = None,
    catch_all: Annotated[
        bool,
        typer.Option(
            "--catch-all", help="No conditions, tried last: every visit gets the --pool's number."
        ),
    ] = False,
    inactive: Annotated[bool, typer.Option("--inactive", help="Add it switched off.")] = False,
) -> None:
    """Add a rule; it labels the visit or shows a pool or a static number (or both)."""
    if catch_all:
        if pool is None and number is None:
            raise usage_error("--catch-all needs --pool (or --number): what every visit sees")
        if when:
            raise usage_error("--catch-all takes no --when: it matches every visit")
    elif not name:
        raise usage_error("give --name (or --catch-all)")
    values: dict[str, Any] = {
        "name": name or CATCH_ALL_NAME,
        "conditions": [parse_condition(text) for text in when or []],
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "is_active": not inactive,
    }
    if priority is not None or catch_all:
        values["priority"] = priority if priority is not None else CATCH_ALL_PRIORITY
    with transaction() as db:
        found = find_project(db, project)
        values.update(_target(db, found, pool, number))
        rule = add_rule(db, found, values)
        line = f"rule {rule.id} {rule.name!r} (priority {rule.priority}): {_conditions(rule)}"
        shows = _shows(rule)
    typer.echo(f"added {line} -> {shows}")


@app.command("list")
def list_(project: ProjectOption) -> None:
    """List a project's rules in the order they are tried."""
    with transaction() as db:
        rules = list_rules(db, find_project(db, project))
        rows = [
            (
                str(r.id),
                str(r.priority),
                r.name,
                _conditions(r),
                " / ".join(x for x in (r.source, r.medium, r.campaign) if x) or "-",
                _shows(r),
                "on" if r.is_active else "off",
            )
            for r in rules
        ]
    if not rows:
        typer.echo(
            f"project {project} has no source rules: nothing is swapped; add one with "
            f"`ringtrail rule add --project {project} --catch-all --pool POOL`"
        )
        return
    print_table(("ID", "PRIORITY", "NAME", "WHEN", "LABELS", "SHOWS", "STATE"), rows)


def _change(project: int, rule_id: int, changes: dict[str, Any]) -> SourceRule:
    with transaction() as db:
        found = find_project(db, project)
        return change_rule(db, found, get_rule(db, found, rule_id), changes)


@app.command("set")
def set_(
    project: ProjectOption,
    rule: RuleArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    when: WhenOption = None,
    any_visit: Annotated[
        bool, typer.Option("--any-visit", help="Drop every condition: the rule matches all.")
    ] = False,
    source: Annotated[str | None, typer.Option(help="Source label; empty clears it.")] = None,
    medium: Annotated[str | None, typer.Option(help="Medium label; empty clears it.")] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign label; empty clears it.")] = None,
    pool: PoolOption = None,
    number: NumberOption = None,
    no_number: Annotated[
        bool, typer.Option("--no-number", help="Show no pool or number: only label the visit.")
    ] = False,
) -> None:
    """Change a rule; only the options given change (--when replaces all conditions)."""
    if when and any_visit:
        raise usage_error("give --when or --any-visit, not both")
    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "source": source,
            "medium": medium,
            "campaign": campaign,
        }.items()
        if value is not None
    }
    if when or any_visit:
        changes["conditions"] = [parse_condition(text) for text in when or []]
    if no_number:
        changes.update(pool_id=None, static_number_id=None)
    with transaction() as db:
        found = find_project(db, project)
        target = get_rule(db, found, rule)
        if pool is not None:
            changes.update(static_number_id=None, **_target(db, found, pool, None))
        if number is not None:
            changes.update(pool_id=None, **_target(db, found, None, number))
        changed = change_rule(db, found, target, changes)
        line = f"rule {changed.id} {changed.name!r}: {_conditions(changed)} -> {_shows(changed)}"
    typer.echo(f"changed {line}")


@app.command("move")
def move(
    project: ProjectOption,
    rule: RuleArg,
    priority: PriorityOption = None,
    first: Annotated[bool, typer.Option("--first", help="Try it before every other rule.")] = False,
    last: Annotated[bool, typer.Option("--last", help="Try it after every other rule.")] = False,
) -> None:
    """Change when a rule is tried: a priority, or --first / --last."""
    if [priority is not None, first, last].count(True) != 1:
        raise usage_error("give exactly one of --priority, --first or --last")
    with transaction() as db:
        found = find_project(db, project)
        target = get_rule(db, found, rule)
        others = [r.priority for r in list_rules(db, found) if r.id != target.id]
        if first:
            priority = max(min(others, default=target.priority) - 1, MIN_PRIORITY)
        elif last:
            priority = min(max(others, default=target.priority) + 1, MAX_PRIORITY)
        changed = change_rule(db, found, target, {"priority": priority})
        order = [r.id for r in list_rules(db, found)]
    position = order.index(changed.id) + 1
    typer.echo(
        f"rule {changed.id} now has priority {changed.priority}: tried {position} of {len(order)}"
    )


@app.command("enable")
def enable(project: ProjectOption, rule: RuleArg) -> None:
    """Switch a rule on."""
    changed = _change(project, rule, {"is_active": True})
    typer.echo(f"switched on rule {changed.id} {changed.name!r}")


@app.command("disable")
def disable(project: ProjectOption, rule: RuleArg) -> None:
    """Switch a rule off without deleting it."""
    changed = _change(project, rule, {"is_active": False})
    typer.echo(f"switched off rule {changed.id} {changed.name!r}")


@app.command("remove")
def remove(project: ProjectOption, rule: RuleArg) -> None:
    """Delete a rule; visits it labelled keep their labels."""
    with transaction() as db:
        found = find_project(db, project)
        name = get_rule(db, found, rule).name
        remove_rule(db, found, rule)
    typer.echo(f"removed rule {rule} {name!r}")
