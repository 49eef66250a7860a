"""A project's destinations: create, change, show and remove the places conversions go to.

A destination's settings are checked by its kind's `config_model`; the fields it names in
`secret_fields` are split off into the encrypted `secrets` column and never shown again
(`shown_config` masks them); a blank secret on an edit keeps the one stored. The conversion
rule is checked by `domain.conversion_rules` and stored in its normal form. Whether ad
platforms need the visitor's consent is a project setting (`set_consent_mode`), since consent
is the visitor's, not the destination's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.conversion_rules import (
    CONSENT_MODES,
    ConsentMode,
    ConversionRule,
    RuleError,
    parse_rule,
    rule_to_json,
)
from ringtrail.integrations.base import Destination
from ringtrail.integrations.registry import KINDS, UnknownDestination, destination
from ringtrail.services.audit import record, record_row_change, snapshot
from ringtrail.services.errors import InvalidInput, NotFound
from ringtrail.storage.models import IntegrationDestination, Project
from ringtrail.storage.models.base import utcnow

MASK = "••••••"
"""What a stored secret shows as."""
CONSENT_KEY = "delivery_consent"
"""The key of `Project.extra` holding the project's consent mode."""
MAX_NAME_LENGTH = 200
MAX_DESTINATIONS_PER_PROJECT = 50


@dataclass(frozen=True)
class KindInfo:
    """A destination kind Ringtrail has: its key, its label and its settings' fields."""

    kind: str
    label: str
    config_model: type[BaseModel]
    secret_fields: frozenset[str]
    on_change: str
    events: frozenset[str]


def destination_events(found: Destination) -> frozenset[str]:
    """The event families a destination wants; "conversion" only unless it says otherwise."""
    events = getattr(found, "events", None)
    return frozenset(events) if events else frozenset({"conversion"})


def kind_info(kind: str) -> KindInfo:
    """The kind `kind`; NotFound when Ringtrail has no such kind or it cannot load."""
    try:
        found = destination(kind)
    except UnknownDestination:
        raise NotFound(f"no such destination kind: {kind}; known: {', '.join(KINDS)}") from None
    except ImportError as exc:
        raise NotFound(f"the {kind} destination cannot be loaded: {exc}") from None
    return KindInfo(
        kind=found.kind,
        label=found.label,
        config_model=found.config_model,
        secret_fields=frozenset(found.secret_fields),
        on_change=found.on_change,
        events=destination_events(found),
    )


def available_kinds() -> list[KindInfo]:
    """Every kind that loads, in the registry's order (one that fails to load is left out)."""
    out: list[KindInfo] = []
    for kind in KINDS:
        try:
            out.append(kind_info(kind))
        except NotFound:
            continue
    return out


def list_destinations(db: Session, project: Project) -> list[IntegrationDestination]:
    """The project's destinations, oldest first."""
    return list(
        db.scalars(
            select(IntegrationDestination)
            .where(IntegrationDestination.project_id == project.id)
            .order_by(IntegrationDestination.id)
        )
    )


def get_destination(db: Session, project: Project, destination_id: int) -> IntegrationDestination:
    """The project's destination `destination_id`; NotFound for another project's or none."""
    row = db.get(IntegrationDestination, destination_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"no destination {destination_id} in this project")
    return row


def stored_secrets(row: IntegrationDestination) -> dict[str, Any]:
    """The destination's secret fields in the clear (for sending, never for showing)."""
    if not row.secrets:
        return {}
    loaded = json.loads(row.secrets)
    return dict(loaded) if isinstance(loaded, dict) else {}


def config_of(row: IntegrationDestination) -> BaseModel:
    """The destination's full settings, secrets included, as its kind's model."""
    info = kind_info(row.kind)
    return info.config_model.model_validate({**row.config, **stored_secrets(row)})


def rule_of(row: IntegrationDestination) -> ConversionRule:
    """The destination's conversion rule (a stored rule that no longer parses: the default)."""
    try:
        return parse_rule(row.rules)
    except RuleError:
        return ConversionRule()


def shown_config(row: IntegrationDestination) -> dict[str, Any]:
    """The settings as a page or the API shows them: each stored secret as MASK, unset ""."""
    try:
        secret_names = kind_info(row.kind).secret_fields
    except NotFound:
        secret_names = frozenset()
    secrets = stored_secrets(row)
    shown = dict(row.config)
    for name in sorted(secret_names):
        shown[name] = MASK if secrets.get(name) else ""
    return shown


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name", "must not be empty")
    cleaned = name.strip()
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput("name", f"must be at most {MAX_NAME_LENGTH} characters")
    return cleaned


def _checked_rules(rules: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return rule_to_json(parse_rule(rules))
    except RuleError as exc:
        raise InvalidInput(f"rules.{exc.field}", exc.message) from None


def _split_config(
    info: KindInfo, values: Mapping[str, Any], old_secrets: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(clear settings, secrets) checked by the kind's model; a blank or masked secret keeps
    the stored one."""
    merged = dict(values)
    for name in info.secret_fields:
        given = merged.get(name)
        if (given is None or given == "" or given == MASK) and old_secrets.get(name):
            merged[name] = old_secrets[name]
        elif given is None or given == "" or given == MASK:
            merged.pop(name, None)
    try:
        model = info.config_model.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "config"
        raise InvalidInput(f"config.{field}", str(first.get("msg", "is not valid"))) from None
    dumped = model.model_dump(mode="json")
    clear = {key: value for key, value in dumped.items() if key not in info.secret_fields}
    secrets = {
        key: value
        for key, value in dumped.items()
        if key in info.secret_fields and value not in (None, "")
    }
    return clear, secrets


def create_destination(
    db: Session,
    project: Project,
    *,
    kind: str,
    name: str,
    config: Mapping[str, Any],
    rules: Mapping[str, Any] | None = None,
    enabled: bool = True,
) -> IntegrationDestination:
    """Add a destination to the project; InvalidInput names the first bad field."""
    info = kind_info(kind)
    count = len(list_destinations(db, project))
    if count >= MAX_DESTINATIONS_PER_PROJECT:
        raise InvalidInput(
            "kind", f"a project has at most {MAX_DESTINATIONS_PER_PROJECT} destinations"
        )
    clear, secrets = _split_config(info, config, {})
    row = IntegrationDestination(
        project_id=project.id,
        kind=info.kind,
        name=_checked_name(name),
        enabled=bool(enabled),
        config=clear,
        secrets=json.dumps(secrets, sort_keys=True) if secrets else None,
        rules=_checked_rules(rules),
        updated_at=utcnow(),
    )
    db.add(row)
    db.flush()
    record_row_change(db, project, "integration_destination.create", row, {}, snapshot(row))
    return row


def update_destination(
    db: Session,
    project: Project,
    destination_id: int,
    *,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    rules: Mapping[str, Any] | None = None,
    enabled: bool | None = None,
) -> IntegrationDestination:
    """Change what is given (None leaves a part as it is). In `config`, a secret left blank
    keeps the stored one; the other settings are replaced as a whole and checked again."""
    row = get_destination(db, project, destination_id)
    before = snapshot(row)
    if name is not None:
        row.name = _checked_name(name)
    if config is not None:
        clear, secrets = _split_config(kind_info(row.kind), config, stored_secrets(row))
        row.config = clear
        row.secrets = json.dumps(secrets, sort_keys=True) if secrets else None
    if rules is not None:
        row.rules = _checked_rules(rules)
    if enabled is not None:
        row.enabled = bool(enabled)
    row.updated_at = utcnow()
    db.flush()
    record_row_change(db, project, "integration_destination.update", row, before, snapshot(row))
    return row


def delete_destination(db: Session, project: Project, destination_id: int) -> None:
    """Remove the destination and its delivery log (NotFound when it is not the project's)."""
    row = get_destination(db, project, destination_id)
    record_row_change(db, project, "integration_destination.delete", row, snapshot(row), {})
    db.delete(row)
    db.flush()


def consent_mode(project: Project) -> ConsentMode:
    """The project's consent mode: "ignore" (default) or "require" (ad platforms get only
    visits that allowed ad storage)."""
    mode = (project.extra or {}).get(CONSENT_KEY, "ignore")
    return "require" if mode == "require" else "ignore"


def set_consent_mode(db: Session, project: Project, mode: str) -> None:
    """Set the project's consent mode; InvalidInput for anything but ignore or require."""
    if mode not in CONSENT_MODES:
        raise InvalidInput("consent_mode", f"must be one of {', '.join(CONSENT_MODES)}")
    old = consent_mode(project)
    if old == mode:
        return
    project.extra = {**(project.extra or {}), CONSENT_KEY: mode}
    db.flush()
    record(
        db,
        organization_id=project.organization_id,
        project_id=project.id,
        action="project.consent_mode",
        object_type="projects",
        object_id=project.id,
        changes={"consent_mode": {"old": old, "new": mode}},
    )
