"""`ringtrail integrations`: where a project's conversions go (GA4, Google Ads, Meta, Yandex
Metrica, a CRM), each destination's conversion rule, a test send or a validation, and the
delivery log with its totals per destination and day.

Settings are given as `--set name=value`; secrets as `--secret name=value`, or typed at a
hidden prompt when a required one is left out. Secrets are never printed back.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.errors import CliError, usage_error
from ringtrail.cli.lookup import find_project, print_table
from ringtrail.services.deliveries.destinations import (
    available_kinds,
    consent_mode,
    create_destination,
    delete_destination,
    get_destination,
    kind_info,
    list_destinations,
    set_consent_mode,
    shown_config,
    update_destination,
)
from ringtrail.services.deliveries.log import (
    MAX_PAGE,
    STATUSES,
    DeliveryEntry,
    daily_totals,
    list_deliveries,
)
from ringtrail.services.deliveries.replay import replay_delivery
from ringtrail.services.delivery_views import day_start, recent_counts
from ringtrail.services.integration_checks import CheckOutcome, check_destination
from ringtrail.services.integration_fields import kind_fields, parse_form_value

app = typer.Typer(help="Where conversions go, their rules, tests, and the delivery log.")

Project = Annotated[int, typer.Argument(help="Id of the project.")]
DestinationId = Annotated[int, typer.Argument(help="Id of the destination (see `list`).")]
Sets = Annotated[
    list[str] | None, typer.Option("--set", help="A setting, name=value; repeat for several.")
]
Secrets = Annotated[
    list[str] | None,
    typer.Option("--secret", help="A secret setting, name=value; repeat. Left out: prompted."),
]


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise usage_error(f"{option} takes name=value, got {item!r}")
        pairs[name.strip()] = value
    return pairs


def _config(kind: str, sets: list[str] | None, secrets: list[str] | None) -> dict[str, Any]:
    """The settings given on the command line, each read as its field's type."""
    info = kind_info(kind)
    fields = {field.name: field for field in kind_fields(info.config_model, info.secret_fields)}
    given = _pairs(sets, "--set")
    hidden = _pairs(secrets, "--secret")
    config: dict[str, Any] = {}
    for source, option in ((given, "--set"), (hidden, "--secret")):
        for name, raw in source.items():
            field = fields.get(name)
            if field is None:
                raise usage_error(f"{kind} has no setting {name!r}; it has {', '.join(fields)}")
            if field.secret != (option == "--secret"):
                better = "--secret" if field.secret else "--set"
                raise usage_error(f"give {name} with {better}")
            config[name] = parse_form_value(field, raw)
    return config


def _prompt_secrets(kind: str, config: dict[str, Any], keep: set[str]) -> None:
    """Ask, at a hidden prompt, for each required secret neither given nor stored."""
    info = kind_info(kind)
    for field in kind_fields(info.config_model, info.secret_fields):
        if field.secret and field.required and field.name not in config and field.name not in keep:
            config[field.name] = typer.prompt(f"{field.title}", hide_input=True)


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise usage_error(f"{option} takes a day as YYYY-MM-DD, got {text!r}") from None


@app.command("kinds")
def kinds_command() -> None:
    """The kinds of destination this installation sends to, with their settings."""
    for info in available_kinds():
        typer.echo(f"{info.kind}: {info.label}")
        for field in kind_fields(info.config_model, info.secret_fields):
            option = "--secret" if field.secret else "--set"
            need = "required" if field.required else f"default {field.default!r}"
            choices = f" ({'|'.join(field.choices)})" if field.choices else ""
            typer.echo(f"  {option} {field.name}=...{choices}  {need}  {field.description}")


@app.command("list")
def list_command(project: Project) -> None:
    """The project's destinations with their deliveries of the last 24 hours."""
    with transaction() as db:
        found = find_project(db, project)
        counts = recent_counts(db, found.id, datetime.now(UTC) - timedelta(hours=24))
        rows = [
            (
                str(row.id),
                row.name,
                row.kind,
                "on" if row.enabled else "off",
                ", ".join(f"{s} {n}" for s, n in sorted(counts.get(row.id, {}).items())) or "-",
            )
            for row in list_destinations(db, found)
        ]
        mode = consent_mode(found)
    if not rows:
        typer.echo(
            "no destinations yet: add one (`ringtrail integrations add`) to send conversions "
            "to Google Ads, GA4, Meta, Yandex Metrica or your CRM"
        )
        return
    print_table(("id", "name", "kind", "state", "last 24 hours"), rows)
    typer.echo(f"consent: {mode}")


def _show(row: Any) -> None:
    typer.echo(f"destination {row.id}: {row.name} ({row.kind}, {'on' if row.enabled else 'off'})")
    for name, value in shown_config(row).items():
        typer.echo(f"  {name}: {value}")


@app.command("add")
def add_command(
    project: Project,
    kind: Annotated[str, typer.Argument(help="The kind (see `kinds`).")],
    name: Annotated[str, typer.Argument(help="A name for it.")],
    set_: Sets = None,
    secret: Secrets = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
) -> None:
    """Add a destination; its settings are checked against its kind's fields."""
    config = _config(kind, set_, secret)
    _prompt_secrets(kind, config, set())
    with transaction() as db:
        found = find_project(db, project)
        row = create_destination(
            db, found, kind=kind, name=name, config=config, enabled=not disabled
        )
        _show(row)


@app.command("edit")
def edit_command(
    project: Project,
    destination: DestinationId,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Send to it, or stop.")
    ] = None,
    set_: Sets = None,
    secret: Secrets = None,
) -> None:
    """Change a destination: settings not given, and secrets not given, stay as they are."""
    with transaction() as db:
        found = find_project(db, project)
        row = get_destination(db, found, destination)
        config = None
        if set_ or secret:
            config = {**row.config, **_config(row.kind, set_, secret)}
        row = update_destination(db, found, destination, name=name, enabled=enable, config=config)
        _show(row)


@app.command("remove")
def remove_command(
    project: Project,
    destination: DestinationId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Remove a destination and its delivery log."""
    if not yes:
        typer.confirm("Remove the destination and its delivery log?", abort=True)
    with transaction() as db:
        delete_destination(db, find_project(db, project), destination)
    typer.echo(f"destination {destination} removed")


@app.command("rule")
def rule_command(
    project: Project,
    destination: DestinationId,
    count_calls: Annotated[bool | None, typer.Option("--calls/--no-calls")] = None,
    answered_only: Annotated[bool | None, typer.Option("--answered-only/--any-call")] = None,
    min_talk: Annotated[
        int | None, typer.Option(min=0, max=86_400, help="Minimum talk time, seconds.")
    ] = None,
    target_only: Annotated[bool | None, typer.Option("--target-only/--any-mark")] = None,
    first_time_only: Annotated[bool | None, typer.Option("--first-time-only/--any-caller")] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="A tag a call must have; repeat. '' clears.")
    ] = None,
    conversion_name: Annotated[str | None, typer.Option(help="The conversion's name.")] = None,
    leads: Annotated[bool | None, typer.Option("--leads/--no-leads", help="Count leads.")] = None,
    value_mode: Annotated[str | None, typer.Option(help="none, fixed, deal or tags.")] = None,
    value: Annotated[str | None, typer.Option(help="The fixed value.")] = None,
    tag_value: Annotated[
        list[str] | None, typer.Option(help="tag=value for the tags mode; repeat.")
    ] = None,
    fallback_value: Annotated[
        str | None, typer.Option(help="Value while the deal or tag has none.")
    ] = None,
    resend: Annotated[
        bool | None,
        typer.Option("--resend-on-change/--no-resend", help="Send a call again when it changes."),
    ] = None,
    consent: Annotated[
        str | None, typer.Option(help="The project's consent mode: ignore or require.")
    ] = None,
) -> None:
    """Show or change the destination's conversion rule (and the project's consent mode)."""
    changes: dict[str, Any] = {
        key: given
        for key, given in (
            ("count_calls", count_calls),
            ("answered_only", answered_only),
            ("min_talk_seconds", min_talk),
            ("target_only", target_only),
            ("first_time_only", first_time_only),
            ("conversion_name", conversion_name),
            ("count_leads", leads),
            ("value_mode", value_mode),
            ("fixed_value", value),
            ("fallback_value", fallback_value),
            ("resend_on_change", resend),
        )
        if given is not None
    }
    if tag is not None:
        changes["required_tags"] = [t for t in tag if t.strip()]
    if tag_value is not None:
        changes["tag_values"] = _pairs(tag_value, "--tag-value")
    with transaction() as db:
        found = find_project(db, project)
        row = get_destination(db, found, destination)
        if changes:
            row = update_destination(db, found, destination, rules={**(row.rules or {}), **changes})
        if consent is not None:
            set_consent_mode(db, found, consent)
        typer.echo(f"destination {row.id} rule:")
        for key, current in (row.rules or {}).items():
            typer.echo(f"  {key}: {json.dumps(current)}")
        typer.echo(f"project consent: {consent_mode(found)}")


def _print_check(found: CheckOutcome, what: str) -> None:
    typer.echo(
        f"{what}: {found.outcome}" + (f" (HTTP {found.status_code})" if found.status_code else "")
    )
    if found.reason:
        typer.echo(f"reason: {found.reason}")
    for message in found.messages:
        typer.echo(f"  - {message}")
    if found.payload:
        typer.echo("payload (masked): " + json.dumps(found.payload, ensure_ascii=False))
    if found.response:
        typer.echo("answer: " + json.dumps(found.response, ensure_ascii=False))
    if not found.ok:
        raise CliError(f"{what} not accepted: {found.reason or found.outcome}")


def _check(project: int, destination: int, *, validate: bool) -> None:
    with transaction() as db:
        found = find_project(db, project)
        row = get_destination(db, found, destination)
        result = check_destination(found, row, datetime.now(UTC), validate=validate)
    _print_check(result, "validation" if validate else "test")


@app.command("test")
def test_command(project: Project, destination: DestinationId) -> None:
    """Send a sample conversion of a fake call made now, with test ids (not logged)."""
    _check(project, destination, validate=False)


@app.command("validate")
def validate_command(project: Project, destination: DestinationId) -> None:
    """Check the sample with the destination's validation service (GA4's debug endpoint)."""
    _check(project, destination, validate=True)


def _log_row(entry: DeliveryEntry) -> tuple[str, ...]:
    return (
        str(entry.id),
        entry.created_at.strftime("%Y-%m-%d %H:%M"),
        f"{entry.subject_kind} {entry.subject_id}",
        entry.destination_name,
        entry.event_name,
        entry.status,
        str(entry.attempts),
        entry.reason or entry.error or "-",
    )


@app.command("log")
def log_command(
    project: Project,
    destination: Annotated[int | None, typer.Option(help="Only this destination.")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATUSES)}.")] = None,
    call: Annotated[int | None, typer.Option(help="Only this call's deliveries.")] = None,
    lead: Annotated[int | None, typer.Option(help="Only this lead's deliveries.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE)] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Each delivery as JSON, payload included.")
    ] = False,
) -> None:
    """The delivery log, newest first: what was sent, the answer, and why not."""
    first, last = _day(from_, "--from"), _day(to, "--to")
    subject = ("call", call) if call is not None else ("lead", lead) if lead else (None, None)
    with transaction() as db:
        found = find_project(db, project)
        page = list_deliveries(
            db,
            found,
            status=status,
            destination_id=destination,
            subject_kind=subject[0],
            subject_id=subject[1],
            since=day_start(first, found.timezone) if first else None,
            until=day_start(last + timedelta(days=1), found.timezone) if last else None,
            limit=limit,
        )
    if as_json:
        for entry in page.items:
            typer.echo(json.dumps(_entry_json(entry), ensure_ascii=False, default=str))
        return
    if not page.items:
        typer.echo("no deliveries match")
        return
    header = ("id", "queued", "subject", "destination", "event", "status", "tries", "reason")
    print_table(header, [_log_row(entry) for entry in page.items])


def _entry_json(entry: DeliveryEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "created_at": entry.created_at.isoformat(),
        "destination_id": entry.destination_id,
        "destination": entry.destination_name,
        "subject_kind": entry.subject_kind,
        "subject_id": entry.subject_id,
        "event": entry.event_name,
        "status": entry.status,
        "attempts": entry.attempts,
        "status_code": entry.status_code,
        "reason_code": entry.reason_code,
        "reason": entry.reason or entry.error,
        "payload": entry.payload,
        "response": entry.response,
    }


@app.command("totals")
def totals_command(
    project: Project,
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option(help="Last day (default today).")] = None,
    destination: Annotated[int | None, typer.Option(help="Only this destination.")] = None,
) -> None:
    """Deliveries per destination and day (project time) by status; 14 days by default."""
    with transaction() as db:
        found = find_project(db, project)
        last = _day(to, "--to") or datetime.now(UTC).date()
        first = _day(from_, "--from") or last - timedelta(days=13)
        rows = daily_totals(db, found, first_day=first, last_day=last, destination_id=destination)
    if not rows:
        typer.echo("nothing was queued in these days")
        return
    print_table(
        ("day", "destination", *STATUSES, "total"),
        [
            (
                row.day.isoformat(),
                row.destination_name,
                *(str(row.counts.get(s, 0)) for s in STATUSES),
                str(row.total),
            )
            for row in rows
        ],
    )


@app.command("replay")
def replay_command(
    project: Project,
    delivery: Annotated[int, typer.Argument(help="Id of the delivery (see `log`).")],
) -> None:
    """Send a rejected, dead or skipped delivery again from its first attempt."""
    with transaction() as db:
        replay_delivery(db, find_project(db, project), delivery, datetime.now(UTC))
    typer.echo(f"delivery {delivery} queued again")
