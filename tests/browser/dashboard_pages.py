"""Every page of the dashboard, found from the app's own routes, filled with the demo's objects.

A GET route of the dashboard is either a download (a file, not a page: its path ends in an
extension such as `.csv` or `.{fmt}`) or a page. Each page's path parameters are filled from
the demo world: every report for `{report_id}`, an answered call with a recording and a missed
call for `{call_id}`. A new page is swept without a line here; a page
with a path parameter this module cannot fill fails loudly, naming the route, so no page is
left out of the browser checks unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.demo.audio import DEMO_RECORDING_KEY
from ringtrail.services.deliveries.destinations import create_destination
from ringtrail.services.reports.catalog import report_titles
from ringtrail.storage.models import Call, IntegrationDestination, Project, Recording
from ringtrail.web.dashboard.routing import DashboardRoute
from tests.browser.dashboard_fixtures import DemoWorld
from tests.web.route_walk import fill, flat_routes, path_params

DOWNLOAD = re.compile(r"\.(\w+|\{\w+\})$")
"""A route whose path ends in an extension serves a file (CSV, Excel), not a page."""
SIGNED_OUT = frozenset({"/login"})
"""Pages shown to a browser that is not signed in (a signed-in one is sent on)."""


@dataclass(frozen=True)
class DashboardPage:
    """One page to open: its route, the path with the demo's objects in it, who opens it."""

    route: str
    path: str
    signed_in: bool = True


class UnfilledRoute(Exception):
    """A dashboard page has a path parameter the sweep has no demo object for."""


def dashboard_get_routes(app: FastAPI) -> list[str]:
    """The path of every GET route of the dashboard, downloads included, in the app's order."""
    paths: list[str] = []
    for context in flat_routes(app):
        route = getattr(context, "original_route", context)
        if isinstance(route, DashboardRoute) and "GET" in (context.methods or ()):
            paths.append(context.path)
    return paths


def page_routes(app: FastAPI) -> list[str]:
    """The dashboard's GET routes that answer with a page (not a download)."""
    return [path for path in dashboard_get_routes(app) if not DOWNLOAD.search(path)]


def demo_values(world: DemoWorld) -> dict[str, list[str]]:
    """What each path parameter of a page takes in the demo world (several: each is swept)."""
    with world.runtime.sessions() as db:
        recorded = db.scalars(
            select(Recording.call_id)
            .join(Call, Call.id == Recording.call_id)
            .where(
                Call.project_id == world.project_id,
                Recording.storage_key == DEMO_RECORDING_KEY,
                Call.status == "answered",
            )
            .order_by(Call.started_at.desc())
            .limit(1)
        ).one()
        missed = db.scalars(
            select(Call.id)
            .where(Call.project_id == world.project_id, Call.status == "missed")
            .order_by(Call.started_at.desc())
            .limit(1)
        ).one()
        destination = _a_destination(db, world.project_id)
    return {
        "project_id": [str(world.project_id)],
        "report_id": [report_id for report_id, _ in report_titles()],
        "call_id": [str(recorded), str(missed)],
        "destination_id": [str(destination)],
    }


def _a_destination(db: Session, project_id: int) -> int:
    """The project's first integration destination; a Google Ads one by file when it has none
    (the demo sends nowhere), so a destination's pages are swept too."""
    found = db.scalars(
        select(IntegrationDestination.id).where(IntegrationDestination.project_id == project_id)
    ).first()
    if found is not None:
        return found
    project = db.get(Project, project_id)
    assert project is not None
    made = create_destination(
        db, project, kind="google_ads", name="Google Ads (file)", config={"upload": "file"}
    )
    db.commit()
    return made.id


def dashboard_pages(app: FastAPI, values: dict[str, list[str]]) -> list[DashboardPage]:
    """Every page of the dashboard, once per value of each of its path parameters.

    Raises UnfilledRoute naming every page whose parameters `values` cannot fill.
    """
    pages: list[DashboardPage] = []
    unfilled: list[str] = []
    for route in page_routes(app):
        names = path_params(route)
        missing = [name for name in names if not values.get(name)]
        if missing:
            unfilled.append(f"GET {route}: no demo value for {missing}")
            continue
        fillings: list[dict[str, str]] = [{}]
        for name in names:
            fillings = [{**filled, name: value} for filled in fillings for value in values[name]]
        pages += [
            DashboardPage(route, fill(route, filled), route not in SIGNED_OUT)
            for filled in fillings
        ]
    if unfilled:
        raise UnfilledRoute(
            "dashboard pages the browser sweep cannot open (give tests/browser/"
            "dashboard_pages.py a value for the parameter, or mark a download):\n"
            + "\n".join(unfilled)
        )
    return pages
