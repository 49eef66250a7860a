"""The demo's fixed frame: organisation, users, project, pool, numbers, source rules and tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.demo import catalog
from ringtrail.demo.phones import tracking_number
from ringtrail.domain.roles import Role
from ringtrail.services.accounts import create_user, get_or_create_organization, set_membership
from ringtrail.services.errors import Conflict
from ringtrail.services.projects import create_project
from ringtrail.services.source_rules import validate_conditions
from ringtrail.storage.models import Pool, SourceRule, Tag, TrackingNumber, User


@dataclass(frozen=True)
class NumberRef:
    """A tracking number's id and E.164 form."""

    id: int
    e164: str


@dataclass(frozen=True)
class Frame:
    """Ids of the fixed rows the generated history refers to."""

    organization_id: int
    project_id: int
    user_ids: dict[str, int]
    pool_id: int
    pool_numbers: list[NumberRef]
    pool_default: NumberRef
    static_numbers: dict[str, NumberRef]
    rule_ids: dict[str, int]
    tag_ids: dict[str, int]


def _rule(name: str, priority: int, conditions: list[dict[str, Any]], **kw: Any) -> SourceRule:
    checked = validate_conditions(conditions)
    return SourceRule(name=name, priority=priority, conditions=checked, **kw)


def build_frame(db: Session, started: datetime) -> Frame:
    """Create the fixed rows; refuses a database that already holds the demo user."""
    if db.scalar(select(User.id).where(User.email == catalog.DEMO_EMAIL)) is not None:
        raise Conflict("the demo data is already in this database")
    organization = get_or_create_organization(db, catalog.ORGANIZATION_NAME)
    users = {
        person.role: create_user(db, person.email, catalog.DEMO_PASSWORD, name=person.name)
        for person in catalog.PEOPLE
    }
    project = create_project(
        db,
        organization,
        catalog.PROJECT_NAME,
        timezone=catalog.TIMEZONE,
        currency=catalog.CURRENCY,
        default_country=catalog.COUNTRY,
        allowed_domains=[catalog.DOMAIN, f"www.{catalog.DOMAIN}"],
        main_number=catalog.MAIN_NUMBER,
    )
    for role, user in users.items():
        set_membership(db, user, project, Role(role))
    organization.created_at = project.created_at = started
    for user in users.values():
        user.created_at = started

    pool = Pool(project_id=project.id, name=catalog.POOL_NAME, created_at=started)
    db.add(pool)
    db.flush()
    pooled = [
        TrackingNumber(
            project_id=project.id,
            e164=tracking_number(index),
            kind="pool",
            pool_id=pool.id,
            is_pool_default=index == 0,
            label="Pool default" if index == 0 else f"Pool number {index}",
            forward_to=catalog.OFFICE_NUMBER,
            provider="demo",
            created_at=started,
        )
        for index in range(catalog.POOL_SIZE + 1)
    ]
    statics = {
        static.key: TrackingNumber(
            project_id=project.id,
            e164=tracking_number(100 + offset),
            kind="static",
            label=static.label,
            source=static.source,
            medium=static.medium,
            campaign=static.campaign,
            offline_only=static.offline_only,
            forward_to=catalog.OFFICE_NUMBER,
            provider="demo",
            created_at=started,
        )
        for offset, static in enumerate(catalog.STATIC_NUMBERS)
    }
    db.add_all([*pooled, *statics.values()])
    db.flush()

    rules = {
        "google_ads": _rule(
            "Google Ads", 10, [{"field": "click_id", "op": "equals", "value": "gclid"}],
            source="google", medium="cpc", pool_id=pool.id,
        ),
        "meta_ads": _rule(
            "Meta ads", 20, [{"field": "click_id", "op": "equals", "value": "fbclid"}],
            source="facebook", medium="paid_social", pool_id=pool.id,
        ),
        "gbp": _rule(
            "Google Business Profile", 30,
            [{"field": "utm_source", "op": "equals", "value": "google_business_profile"}],
            source="google_business_profile", medium="organic",
            static_number_id=statics["gbp"].id,
        ),
        "organic": _rule(
            "Organic search", 40,
            [{"field": "channel", "op": "equals", "value": "organic_search"}], pool_id=pool.id,
        ),
        "other": _rule("All other website traffic", 100, [], pool_id=pool.id),
    }  # fmt: skip
    for rule in rules.values():
        rule.project_id = project.id
        rule.created_at = started
    tags = {
        name: Tag(project_id=project.id, name=name, color=color, created_at=started)
        for name, color in catalog.TAGS
    }
    db.add_all([*rules.values(), *tags.values()])
    db.flush()
    return Frame(
        organization_id=organization.id,
        project_id=project.id,
        user_ids={role: user.id for role, user in users.items()},
        pool_id=pool.id,
        pool_numbers=[NumberRef(n.id, n.e164) for n in pooled[1:]],
        pool_default=NumberRef(pooled[0].id, pooled[0].e164),
        static_numbers={key: NumberRef(n.id, n.e164) for key, n in statics.items()},
        rule_ids={key: rule.id for key, rule in rules.items()},
        tag_ids={name: tag.id for name, tag in tags.items()},
    )
