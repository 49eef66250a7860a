"""`ringtrail pool ...`: create number pools with their default number, fill and remove them.

A pool swaps nothing until a switched-on source rule shows it: `pool create` and `pool list`
say so, and name the fix (`ringtrail rule add --catch-all --pool ...`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from ringtrail.cli.context import transaction
from ringtrail.cli.errors import usage_error
from ringtrail.cli.lookup import ProjectOption, find_number, find_pool, find_project, print_table
from ringtrail.cli.numbers import describe
from ringtrail.services.pools import (
    NO_RULE,
    PoolWarning,
    change_pool,
    create_pool,
    list_pools,
    pool_warnings,
    remove_pool,
    summarize_pools,
)
from ringtrail.services.tracking import add_number, remove_number
from ringtrail.storage.models import Pool

app = typer.Typer(help="Manage number pools (one number per visitor).", no_args_is_help=True)

PoolArg = Annotated[str, typer.Argument(metavar="POOL", help="The pool's id or name.")]
Minutes = Annotated[
    int | None, typer.Option(min=0, max=24 * 60, help="Minutes; default: the project's setting.")
]


def _warn(pool: Pool, warnings: list[PoolWarning]) -> None:
    for warning in warnings:
        hint = f" (`ringtrail rule add --project {pool.project_id} --catch-all --pool {pool.id}`)"
        extra = hint if warning is NO_RULE else ""
        typer.echo(f"warning: pool {pool.id} {pool.name!r}: {warning.message}{extra}", err=True)


def _warnings_of(db: Session, pool: Pool) -> list[PoolWarning]:
    return pool_warnings(db, summarize_pools(db, [pool]))[pool.id]


@app.command("create")
def create(
    project: ProjectOption,
    name: Annotated[str, typer.Option(help="A name, e.g. Google Ads.")],
    number: Annotated[
        list[str] | None, typer.Option("--number", help="A number of the pool; repeat for more.")
    ] = None,
    default_number: Annotated[
        str | None,
        typer.Option(help="Shown while every other number is held (one of --number or another)."),
    ] = None,
    grace_minutes: Minutes = None,
    cooldown_minutes: Minutes = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
) -> None:
    """Create a pool, with its numbers and default number in one step."""
    values: dict[str, Any] = {"name": name.strip(), "is_active": not inactive}
    if grace_minutes is not None:
        values["grace_minutes"] = grace_minutes
    if cooldown_minutes is not None:
        values["cooldown_minutes"] = cooldown_minutes
    with transaction() as db:
        found = find_project(db, project)
        pool = create_pool(db, found, values, numbers=number or [], default_number=default_number)
        summary = summarize_pools(db, [pool])[0]
        warnings = pool_warnings(db, [summary])[pool.id]
    default = f", default {summary.default_number}" if summary.default_number else ""
    typer.echo(
        f"created pool {pool.id} {pool.name!r} with {summary.numbers_count} numbers{default}"
    )
    _warn(pool, warnings)


@app.command("list")
def list_(project: ProjectOption) -> None:
    """List a project's pools with their sizes, default numbers and warnings."""
    with transaction() as db:
        found = find_project(db, project)
        summaries = summarize_pools(db, list_pools(db, found))
        warnings = pool_warnings(db, summaries)
    if not summaries:
        typer.echo(f"project {project} has no pools; create one with `ringtrail pool create`")
        return
    print_table(
        ("ID", "NAME", "NUMBERS", "DEFAULT", "STATE"),
        [
            (
                str(s.pool.id),
                s.pool.name,
                str(s.numbers_count),
                s.default_number or "-",
                "on" if s.pool.is_active else "off",
            )
            for s in summaries
        ],
    )
    for summary in summaries:
        _warn(summary.pool, warnings[summary.pool.id])


@app.command("add-number")
def add_numbers(
    project: ProjectOption,
    pool: PoolArg,
    numbers: Annotated[
        list[str], typer.Argument(metavar="NUMBER...", help="Numbers to add, any written form.")
    ],
    default: Annotated[
        bool, typer.Option("--default", help="The (single) number becomes the pool's default.")
    ] = False,
) -> None:
    """Add numbers to a pool."""
    if default and len(numbers) != 1:
        raise usage_error("--default takes exactly one number")
    with transaction() as db:
        found = find_project(db, project)
        target = find_pool(db, found, pool)
        lines = [
            describe(
                add_number(
                    db,
                    found,
                    {
                        "number": raw,
                        "kind": "pool",
                        "pool_id": target.id,
                        "is_pool_default": default,
                    },
                )
            )
            for raw in numbers
        ]
    for line in lines:
        typer.echo(f"added {line}")


@app.command("remove-number")
def remove_numbers(
    project: ProjectOption,
    pool: PoolArg,
    numbers: Annotated[
        list[str], typer.Argument(metavar="NUMBER...", help="Numbers (or ids) to stop tracking.")
    ],
) -> None:
    """Take numbers out of a pool and stop tracking them."""
    with transaction() as db:
        found = find_project(db, project)
        target = find_pool(db, found, pool)
        lines = []
        for raw in numbers:
            number = find_number(db, found, raw)
            if number.pool_id != target.id:
                raise usage_error(f"{number.e164} is not in pool {target.id}")
            lines.append(describe(number))
            remove_number(db, found, number.id)
    for line in lines:
        typer.echo(f"removed {line}")


@app.command("set")
def set_(
    project: ProjectOption,
    pool: PoolArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    grace_minutes: Minutes = None,
    cooldown_minutes: Minutes = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch the pool on or off.")
    ] = None,
) -> None:
    """Rename a pool, switch it on or off, or change its hold times."""
    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "grace_minutes": grace_minutes,
            "cooldown_minutes": cooldown_minutes,
            "is_active": active,
        }.items()
        if value is not None
    }
    with transaction() as db:
        found = find_project(db, project)
        changed = change_pool(db, find_pool(db, found, pool), changes)
        warnings = _warnings_of(db, changed)
    typer.echo(f"changed pool {changed.id} {changed.name!r}")
    _warn(changed, warnings)


@app.command("remove")
def remove(project: ProjectOption, pool: PoolArg) -> None:
    """Delete an empty pool (remove its numbers first)."""
    with transaction() as db:
        found = find_project(db, project)
        target = find_pool(db, found, pool)
        name = target.name
        remove_pool(db, found, target.id)
    typer.echo(f"removed pool {target.id} {name!r}")


@app.command("plan")
def plan(
    project: ProjectOption,
    pool: Annotated[
        str | None, typer.Argument(metavar="[POOL]", help="One pool (default: every active one).")
    ] = None,
    target: Annotated[
        float,
        typer.Option(min=0.5, max=1.0, help="Share of calls within W to attribute right."),
    ] = 0.99,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of recorded traffic to use.")] = 28,
    visits_per_hour: Annotated[
        float | None,
        typer.Option(help="With no history yet: the pool's visits per hour at the peak."),
    ] = None,
    visit_seconds: Annotated[
        float, typer.Option(min=1, help="With no history yet: the median visit length.")
    ] = 100.0,
    price: Annotated[
        float | None,
        typer.Option(min=0, help="Monthly price of one number (remembered for the dashboard)."),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Keep the plan for the pool-health page.")
    ] = True,
) -> None:
    """Recommend a size per pool for a target accuracy, from recorded traffic (simulated)."""
    from datetime import UTC, datetime, timedelta

    from ringtrail.services.pool_plan import plan_pool, save_plans, set_number_price

    now = datetime.now(UTC)
    with transaction() as db:
        found = find_project(db, project)
        pools = (
            [find_pool(db, found, pool)]
            if pool is not None
            else [p for p in list_pools(db, found) if p.is_active]
        )
        if price is not None:
            set_number_price(found, price)
        plans = {}
        rows = []
        for target_pool in pools:
            planned = plan_pool(
                db,
                found,
                target_pool,
                now,
                target=target,
                history=timedelta(days=days),
                visits_per_hour=visits_per_hour,
                visit_seconds=visit_seconds,
                price=price,
            )
            numbers_now = summarize_pools(db, [target_pool])[0].numbers_count
            if planned is None:
                rows.append(
                    (str(target_pool.id), target_pool.name, str(numbers_now), "-", "-", "-", "-")
                )
                continue
            plans[target_pool.id] = planned
            cost = f"{planned.monthly_cost:.2f}" if planned.monthly_cost is not None else "-"
            rows.append(
                (
                    str(target_pool.id),
                    target_pool.name,
                    str(numbers_now),
                    str(planned.size),
                    f"{planned.expected_accuracy * 100:.2f}%",
                    str(planned.give_everyone_bound),
                    cost,
                )
            )
        if save and plans:
            save_plans(found, plans, now)
    if not rows:
        typer.echo(f"project {project} has no active pools")
        return
    print_table(("ID", "NAME", "NUMBERS", "PLAN", "ACCURACY", "BOUND", "MONTHLY"), rows)
    if any(row[3] == "-" for row in rows):
        typer.echo(
            "pools without recorded traffic need --visits-per-hour (and --visit-seconds)", err=True
        )
