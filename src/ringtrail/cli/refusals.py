"""`ringtrail project refusals`: why a project's visits got no tracking number, as on its
"Refused visits" page (in English)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from ringtrail.cli.context import transaction
from ringtrail.cli.lookup import find_project, print_table
from ringtrail.services.refusals import NoNumber, list_refusals
from ringtrail.storage.models import Pool
from ringtrail.web.dashboard.settings_refusals import BOT_KINDS, HINTS, REASONS


def refusals(
    project: Annotated[int, typer.Argument(help="Id of the project.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many rows.")] = 50,
) -> None:
    """List the project's refused visits, most recently seen first, with what to do."""
    with transaction() as db:
        found = find_project(db, project)
        pools = {
            str(pool_id): name
            for pool_id, name in db.execute(
                select(Pool.id, Pool.name).where(Pool.project_id == found.id)
            )
        }
        rows = [
            (
                row.last_seen_at.strftime("%Y-%m-%d %H:%M"),
                str(row.count),
                _words(row.reason),
                _detail(row.reason, row.detail, pools) or "-",
                row.sample_url or "-",
                _hint(row.reason),
            )
            for row in list_refusals(db, found.id, limit)
        ]
    if not rows:
        typer.echo(
            "no refused visits yet; open a page of the site with ?rt_debug=1 in a normal "
            "browser: its console says why a number is not shown"
        )
        return
    print_table(("LAST SEEN (UTC)", "VISITS", "REASON", "SEEN FROM", "PAGE", "WHAT TO DO"), rows)


def _reason(code: str) -> NoNumber | None:
    try:
        return NoNumber(code)
    except ValueError:
        return None


def _words(code: str) -> str:
    reason = _reason(code)
    return REASONS[reason] if reason else code


def _hint(code: str) -> str:
    reason = _reason(code)
    return HINTS[reason] if reason else ""


def _detail(code: str, detail: str, pools: dict[str, str]) -> str:
    if code == NoNumber.BOT:
        return BOT_KINDS.get(detail, detail)
    if code == NoNumber.POOL_EXHAUSTED:
        return f"pool {pools.get(detail, detail)}"
    return detail
