"""Project settings that drive number insertion: documented defaults, one source of truth."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.pools import create_pool
from ringtrail.services.projects import create_project
from ringtrail.services.tracking_config import load_tracking_config


def test_a_new_project_holds_for_15_minutes_cools_for_30_and_attributes_last_touch(
    db: Session,
) -> None:
    organization = get_or_create_organization(db, "Defaults Inc")
    project = create_project(
        db, organization, "Defaults", default_country="UA", timezone="Europe/Kyiv",
        currency="UAH", allowed_domains=["defaults.example"],
    )  # fmt: skip
    pool = create_pool(db, project, {"name": "Ads"}, numbers=("+380445550001",))
    db.commit()
    assert (project.grace_minutes, project.cooldown_minutes) == (15, 30)
    assert project.attribution_touch == "last"
    config = load_tracking_config(db, project.public_key)
    assert config is not None and config.attribution_touch == "last"
    # a pool without its own hold times follows the project's, read in one place
    timings = config.pools[pool.id].timings
    assert (timings.grace, timings.cooldown) == (timedelta(minutes=15), timedelta(minutes=30))
    project.grace_minutes, project.attribution_touch = 5, "first"
    db.commit()
    changed = load_tracking_config(db, project.public_key)
    assert changed is not None and changed.attribution_touch == "first"
    assert changed.pools[pool.id].timings.grace == timedelta(minutes=5)
