"""`ringtrail project forms` (form tracking: on or off, which forms, which extra fields) and
`ringtrail project leads` (a project's latest leads of every kind)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtrail.cli.context import transaction
from ringtrail.cli.lookup import find_project, print_table
from ringtrail.domain.form_fields import FormPolicy
from ringtrail.services.form_leads import set_form_policy
from ringtrail.services.lead_marking import list_leads


def forms(
    project: Annotated[int, typer.Argument(help="Id of the project.")],
    enable: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Track the site's forms as leads, or stop."),
    ] = None,
    selector: Annotated[
        str | None,
        typer.Option(help="CSS selector of the forms to track; an empty string: every form."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(help="A field to keep besides name, phone and e-mail; repeat: list replaced."),
    ] = None,
    no_fields: Annotated[
        bool, typer.Option("--no-fields", help="Keep no fields besides name, phone and e-mail.")
    ] = False,
) -> None:
    """Show or change the project's form tracking (docs/leads.md)."""
    with transaction() as db:
        found = find_project(db, project)
        policy = FormPolicy.from_extra(found.extra)
        if enable is not None or selector is not None or field or no_fields:
            policy = set_form_policy(
                db,
                found,
                enabled=policy.enabled if enable is None else enable,
                selector=policy.selector if selector is None else selector,
                allowed_fields=[] if no_fields else (field or list(policy.allowed_fields)),
            )
    typer.echo(f"project {project} forms: {'enabled' if policy.enabled else 'disabled'}")
    typer.echo(f"  selector: {policy.selector or 'every form'}")
    typer.echo(
        f"  fields kept besides name, phone, e-mail: {', '.join(policy.allowed_fields) or '-'}"
    )


def _mark(is_target: bool | None) -> str:
    if is_target is None:
        return "-"
    return "target" if is_target else "not target"


def leads(
    project: Annotated[int, typer.Argument(help="Id of the project.")],
    kind: Annotated[
        list[str] | None, typer.Option(help="call, form or callback; repeat for several.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many rows.")] = 50,
) -> None:
    """List the project's latest leads (calls, forms, callback requests), newest first."""
    with transaction() as db:
        found = find_project(db, project)
        rows = [
            (
                str(lead.id),
                lead.created_at.strftime("%Y-%m-%d %H:%M"),
                lead.kind,
                lead.phone_e164 or lead.email or "-",
                lead.source or "-",
                lead.campaign or "-",
                _mark(lead.is_target),
                str(lead.person_id or lead.id),
            )
            for lead in list_leads(db, found.id, kinds=kind or (), limit=limit)
        ]
    if not rows:
        typer.echo("no leads yet")
        return
    print_table(("id", "created", "kind", "contact", "source", "campaign", "mark", "person"), rows)
