"""`ringtrail callbacks`: the callback widget from the command line: its settings, the list of
requests to ring back, ringing one now or marking it done, and one placing pass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from ringtrail.cli.context import load_settings, open_runtime, transaction
from ringtrail.cli.lookup import find_project, print_table
from ringtrail.domain.callback_widget import WidgetSettings
from ringtrail.services.callback_calls import place_due_callbacks
from ringtrail.services.callback_requests import (
    OPEN_STATUSES,
    STATUSES,
    call_now,
    list_requests,
    mark_done,
    set_widget_settings,
)
from ringtrail.telephony.twilio_outbound import TwilioRestCaller

app = typer.Typer(help="The callback widget: settings, requests to ring back, placing calls.")

Project = Annotated[int, typer.Argument(help="Id of the project.")]


@app.command("widget")
def widget(
    project: Project,
    enable: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Show the widget on the site, or stop."),
    ] = None,
    business_number: Annotated[
        str | None, typer.Option(help="The line called first; empty: the main number.")
    ] = None,
    caller_id: Annotated[
        str | None, typer.Option(help="The Twilio number calls are made from.")
    ] = None,
    days: Annotated[
        str | None, typer.Option(help="Working days, 0 (Monday) to 6, comma-separated.")
    ] = None,
    opens: Annotated[str | None, typer.Option(help="Opening time, HH:MM (local).")] = None,
    closes: Annotated[str | None, typer.Option(help="Closing time, HH:MM (local).")] = None,
    block: Annotated[
        list[str] | None,
        typer.Option(help="A number to refuse; repeat: the block list is replaced."),
    ] = None,
    calls_per_day: Annotated[
        int | None, typer.Option(help="Calls to one number a day, at most.")
    ] = None,
) -> None:
    """Show or change the project's callback widget (docs/leads.md)."""
    with transaction() as db:
        found = find_project(db, project)
        settings = WidgetSettings.of(found.extra)
        raw: dict[str, Any] = settings.to_json()
        changed = False
        for key, value in (
            ("enabled", enable),
            ("business_number", business_number),
            ("caller_id", caller_id),
        ):
            if value is not None:
                raw[key] = value
                changed = True
        if days is not None:
            raw["hours"]["days"] = [int(d) for d in days.split(",") if d.strip().isdigit()]
            changed = True
        for key, value in (("opens", opens), ("closes", closes)):
            if value is not None:
                raw["hours"][key] = value
                changed = True
        if block is not None:
            raw["limits"]["blocked_numbers"] = block
            changed = True
        if calls_per_day is not None:
            raw["limits"]["calls_per_number_per_day"] = calls_per_day
            changed = True
        if changed:
            settings = set_widget_settings(db, found, raw)
        timezone = found.timezone
    hours = settings.hours
    typer.echo(f"project {project} callback widget: {'on' if settings.enabled else 'off'}")
    typer.echo(f"  business line: {settings.business_number or 'the main number'}")
    typer.echo(f"  calls from: {settings.caller_id or 'the first tracking number'}")
    typer.echo(
        f"  working hours ({timezone}): days {','.join(map(str, hours.days)) or '-'}, "
        f"{hours.opens:%H:%M}-{hours.closes:%H:%M}"
    )
    limits = settings.limits
    typer.echo(
        f"  limits: {limits.per_address_per_hour}/hour per address, "
        f"{limits.per_visitor_per_day}/day per visitor, {limits.per_phone_per_day}/day per "
        f"number, at most {limits.calls_per_number_per_day} calls a day to one number"
    )
    typer.echo(f"  blocked numbers: {', '.join(limits.blocked_numbers) or '-'}")


@app.command("list")
def list_command(
    project: Project,
    status: Annotated[
        list[str] | None,
        typer.Option(help=f"Only these statuses ({', '.join(STATUSES)}); default: open ones."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many rows.")] = 50,
) -> None:
    """List the project's callback requests, newest first."""
    with transaction() as db:
        found = find_project(db, project)
        rows = [
            (
                str(request.id),
                request.requested_at.strftime("%Y-%m-%d %H:%M"),
                request.phone_e164,
                request.status,
                request.due_at.strftime("%Y-%m-%d %H:%M") if request.due_at else "-",
                str(request.attempts),
                request.last_outcome or "-",
                "-" if request.seconds_to_connect is None else str(request.seconds_to_connect),
            )
            for request in list_requests(
                db, found, statuses=tuple(status or OPEN_STATUSES), limit=limit
            )
        ]
    if not rows:
        typer.echo("no callback requests")
        return
    print_table(
        ("ID", "REQUESTED (UTC)", "PHONE", "STATUS", "DUE (UTC)", "TRIES", "LAST", "TO CONNECT"),
        rows,
    )


@app.command("call-now")
def call_now_command(
    project: Project,
    request: Annotated[int, typer.Argument(help="Id of the callback request.")],
) -> None:
    """Ring a request back at the worker's next pass, whatever the working hours."""
    with transaction() as db:
        call_now(db, find_project(db, project), request, None, datetime.now(UTC))
    typer.echo(f"callback request {request} will be rung at the next worker pass")


@app.command("done")
def done_command(
    project: Project,
    request: Annotated[int, typer.Argument(help="Id of the callback request.")],
) -> None:
    """Mark a request settled by a person."""
    with transaction() as db:
        mark_done(db, find_project(db, project), request, None, datetime.now(UTC))
    typer.echo(f"callback request {request} marked done")


@app.command("place")
def place() -> None:
    """Place the calls of every request due now (what the worker does each pass)."""
    settings = load_settings()
    with open_runtime(settings) as runtime:
        report = place_due_callbacks(
            runtime.sessions,
            TwilioRestCaller(settings.twilio_api_base_url),
            settings.public_url,
            datetime.now(UTC),
        )
    typer.echo(
        f"placed {report.placed}, to retry {report.retried}, failed {report.failed}, "
        f"settled without news {report.settled_stale}"
    )
