"""Finding what a set-up command names (a project, number or pool) and printing tables.

A number is named by its id or by the number itself in any written form (read with the
project's default country); a pool by its id or its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.services.errors import NotFound
from ringtrail.services.tracking import get_number, get_pool, parse_phone
from ringtrail.storage.models import Pool, Project, TrackingNumber

ProjectOption = Annotated[int, typer.Option("--project", metavar="ID", help="Id of the project.")]
MAX_ID_DIGITS = 9
"""Longer digit runs are phone numbers, not ids."""


def find_project(db: Session, project_id: int) -> Project:
    """The project, or NotFound naming the id."""
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}; `ringtrail project list` shows them")
    return project


def _as_id(ref: str) -> int | None:
    text = ref.strip()
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None


def find_number(db: Session, project: Project, ref: str) -> TrackingNumber:
    """The project's number with this id, or this phone number; NotFound otherwise."""
    number_id = _as_id(ref)
    if number_id is not None:
        return get_number(db, project, number_id)
    e164 = parse_phone(ref, project, "number")
    number = db.scalar(
        select(TrackingNumber).where(
            TrackingNumber.project_id == project.id, TrackingNumber.e164 == e164
        )
    )
    if number is None:
        raise NotFound(f"{e164} is not a tracking number of project {project.id}")
    return number


def find_pool(db: Session, project: Project, ref: str) -> Pool:
    """The project's pool with this id or name; NotFound otherwise."""
    pool_id = _as_id(ref)
    if pool_id is not None:
        return get_pool(db, project, pool_id)
    pool = db.scalar(
        select(Pool).where(Pool.project_id == project.id, Pool.name == ref.strip()).limit(1)
    )
    if pool is None:
        raise NotFound(f"no pool named {ref.strip()!r} in project {project.id}")
    return pool


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell, the header first."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())
