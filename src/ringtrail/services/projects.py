"""Projects: creating a tracked business or site and changing its settings."""

from __future__ import annotations

import secrets
import zoneinfo
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringtrail.domain.money import AttributionModel
from ringtrail.domain.phones import InvalidPhoneNumber, is_valid_country, to_e164
from ringtrail.domain.privacy import MAX_RETENTION_DAYS
from ringtrail.domain.roles import Role
from ringtrail.domain.tracking_settings import (
    MAX_REPLACE_NUMBERS,
    InvalidSetting,
    check_number_allocation,
    check_selectors,
    normalize_domains,
)
from ringtrail.services.accounts import set_membership, slugify
from ringtrail.services.audit import changed, record, snapshot
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.services.quotas import ensure_project_quota
from ringtrail.services.reports.rollups import forget_rollups
from ringtrail.storage.models import Call, Organization, Project, Recording, User

RETENTION_FIELDS = (
    "visit_retention_days",
    "call_retention_days",
    "transcript_retention_days",
)
"""Days each kind of personal data is kept (None: forever); `recording_retention_days` too."""
EDITABLE_FIELDS = (
    "name",
    "timezone",
    "currency",
    "default_country",
    "allowed_domains",
    "main_number",
    "replace_numbers",
    "swap_selectors",
    "number_allocation",
    "attribution_touch",
    "grace_minutes",
    "cooldown_minutes",
    "unique_call_window_days",
    "recording_retention_days",
    "target_call_goal_percent",
    "attribution_model",
    *RETENTION_FIELDS,
)


def _unique_slug(db: Session, organization_id: int, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while db.scalar(
        select(Project.id).where(Project.organization_id == organization_id, Project.slug == slug)
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def validate_project_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise project settings; raise InvalidInput naming the field."""
    out = dict(values)
    if "timezone" in out:
        try:
            zoneinfo.ZoneInfo(out["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput("timezone", "not an IANA time zone") from exc
    if "default_country" in out:
        country = str(out["default_country"]).upper()
        if not is_valid_country(country):
            raise InvalidInput("default_country", "not an ISO 3166 country code")
        out["default_country"] = country
    if "currency" in out:
        out["currency"] = str(out["currency"]).upper()
    if "main_number" in out:
        raw = out["main_number"]
        out["main_number"] = _phone(raw, out.get("default_country"), "main_number") if raw else None
    if "replace_numbers" in out:
        out["replace_numbers"] = _phones(out["replace_numbers"] or [], out.get("default_country"))
    if "attribution_model" in out:
        try:
            out["attribution_model"] = AttributionModel(str(out["attribution_model"])).value
        except ValueError as exc:
            raise InvalidInput(
                "attribution_model", "not one of " + ", ".join(m.value for m in AttributionModel)
            ) from exc
    for field in ("recording_retention_days", *RETENTION_FIELDS):
        if out.get(field) is not None:
            days = out[field]
            if isinstance(days, bool) or not isinstance(days, int):
                raise InvalidInput(field, "a whole number of days, or empty to keep forever")
            if not 1 <= days <= MAX_RETENTION_DAYS:
                raise InvalidInput(field, f"must be between 1 and {MAX_RETENTION_DAYS} days")
    if "number_allocation" in out:
        try:
            out["number_allocation"] = check_number_allocation(out["number_allocation"])
        except InvalidSetting as exc:
            raise InvalidInput("number_allocation", str(exc)) from exc
    for field, check in (
        ("allowed_domains", normalize_domains),
        ("swap_selectors", check_selectors),
    ):
        if field in out:
            try:
                out[field] = check(list(out[field] or []))
            except InvalidSetting as exc:
                raise InvalidInput(field, str(exc)) from exc
    return out


def _phone(raw: str, country: str | None, field: str) -> str:
    try:
        return to_e164(raw, country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput(field, f"{raw.strip()}: {exc}") from exc


def _phones(raw: list[str], country: str | None) -> list[str]:
    """Original numbers as E.164, in order, duplicates dropped."""
    numbers = list(dict.fromkeys(_phone(item, country, "replace_numbers") for item in raw))
    if len(numbers) > MAX_REPLACE_NUMBERS:
        raise InvalidInput("replace_numbers", f"at most {MAX_REPLACE_NUMBERS} numbers")
    return numbers


def create_project(
    db: Session,
    organization: Organization,
    name: str,
    *,
    owner: User | None = None,
    max_projects: int | None = None,
    **fields: Any,
) -> Project:
    """A new project in `organization`; `owner`, when given, becomes its owner.

    QuotaExceeded when the organisation holds `max_projects` already (None: no limit).
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown project setting")
    values = validate_project_fields({"name": name, **fields})
    ensure_project_quota(db, organization.id, max_projects)
    project = Project(
        organization_id=organization.id,
        slug=_unique_slug(db, organization.id, name),
        public_key=secrets.token_urlsafe(16),
        webhook_secret=secrets.token_urlsafe(32),
        **values,
    )
    db.add(project)
    db.flush()
    if owner is not None:
        set_membership(db, owner, project, Role.OWNER)
    return project


def update_project(db: Session, project: Project, changes: dict[str, Any]) -> Project:
    """Apply validated setting changes to `project`."""
    values = validate_project_fields(
        {"default_country": project.default_country, **changes}
        if {"main_number", "replace_numbers"} & set(changes)
        else changes
    )
    moved_zone = "timezone" in values and values["timezone"] != project.timezone
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown project setting")
    before = snapshot(project, values)
    for key, value in values.items():
        setattr(project, key, value)
    db.flush()
    difference = changed(before, snapshot(project, values))
    if difference:
        record(
            db,
            organization_id=project.organization_id,
            project_id=project.id,
            action="project.update",
            object_type="project",
            object_id=project.id,
            changes=difference,
        )
    if "recording_retention_days" in difference:
        reschedule_recording_deletion(db, project.id)
    if moved_zone:
        # Rollups are keyed by local day: in another zone every day is different.
        forget_rollups(db, project.id)
    return project


def reschedule_recording_deletion(db: Session, project_id: int) -> None:
    """Clear the deletion dates of the project's recordings after its retention changed.

    The retention job sets them again from the new setting, a batch at a time.
    """
    calls = select(Call.id).where(Call.project_id == project_id).scalar_subquery()
    db.execute(
        update(Recording)
        .where(Recording.call_id.in_(calls), Recording.status != "deleted")
        .values(delete_after=None)
        .execution_options(synchronize_session=False)
    )


def get_project(db: Session, project_id: int) -> Project:
    """The project, or NotFound."""
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound("no such project")
    return project


def tracking_tag(base_url: str, public_key: str) -> str:
    """The script tag a site pastes into its pages (the CLI prints it, the dashboard shows it)."""
    return f'<script async src="{base_url.rstrip("/")}/t.js" data-key="{public_key}"></script>'
