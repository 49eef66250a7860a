"""The set-up checklist's facts from real data, and the one-click catch-all rule of a pool."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ringtrail.domain.setup_checklist import SetupFacts, Step, checklist
from ringtrail.runtime import Runtime
from ringtrail.services.pools import create_pool
from ringtrail.services.setup_checklist import (
    add_catch_all_rule,
    pools_without_rule,
    setup_facts,
)
from ringtrail.services.source_rules import add_rule, list_rules
from ringtrail.services.tracking import add_number
from tests.call_rows import add_call
from tests.conftest import World
from tests.services.test_visits import T0, service, start
from tests.web.tracking.test_api import GOOGLE_ADS_URL, MAIN, Site


def test_a_new_project_has_no_facts(db: Session, world: World) -> None:
    assert setup_facts(db, world.ours.project) == SetupFacts()
    assert setup_facts(db, world.outsider.project) == SetupFacts()


def test_a_pool_no_rule_points_at_is_offered_a_catch_all_rule(db: Session, world: World) -> None:
    project = world.ours.project
    add_number(db, project, {"number": "+380445550777", "source": "facebook"})
    pool = create_pool(
        db, project, {"name": "Website"}, numbers=["+380445550001"], default_number="+380445559999"
    )
    add_rule(db, project, {"name": "Facebook", "source": "facebook", "priority": 40})
    db.commit()
    facts = setup_facts(db, project)
    assert (facts.numbers, facts.pools_with_rule) == (3, 0)
    assert pools_without_rule(db, project) == {pool.id}
    assert checklist(facts).next_step is Step.POOL_AND_RULE

    rule = add_catch_all_rule(db, project, pool.id)
    db.commit()
    assert (rule.conditions, rule.pool_id, rule.name) == ([], pool.id, "Every visit: Website")
    assert [r.id for r in list_rules(db, project)][-1] == rule.id  # tried after the others
    assert pools_without_rule(db, project) == set()
    assert setup_facts(db, project).pools_with_rule == 1
    assert setup_facts(db, world.outsider.project) == SetupFacts()


def test_a_switched_off_rule_leaves_its_pool_without_one(db: Session, world: World) -> None:
    project = world.ours.project
    pool = create_pool(db, project, {"name": "Website"}, numbers=["+380445550001"])
    add_rule(db, project, {"name": "Off", "conditions": [], "pool_id": pool.id, "is_active": False})
    db.commit()
    assert pools_without_rule(db, project) == {pool.id}
    assert setup_facts(db, project).pools_with_rule == 0


def test_a_visit_and_a_call_tick_the_last_steps(
    runtime: Runtime, db: Session, world: World
) -> None:
    project = world.ours.project
    project.main_number = MAIN
    pool = create_pool(
        db, project, {"name": "Website"}, numbers=["+380445550001"], default_number="+380445559999"
    )
    add_catch_all_rule(db, project, pool.id)
    db.commit()
    site = Site(project.public_key, pool.id, ["+380445550001"], "+380445559999", "")
    started = start(service(runtime), site, T0)
    assert started.numbers[0].number == "+380445550001"
    db.expire_all()
    facts = setup_facts(db, project)
    assert facts.first_visit_at is not None and facts.first_visit_page == GOOGLE_ADS_URL
    assert facts.first_number_shown_at is not None
    assert checklist(facts).next_step is Step.FIRST_CALL

    add_call(db, project, started_at=T0 + timedelta(minutes=3))
    db.commit()
    assert checklist(setup_facts(db, project)).complete
    assert setup_facts(db, world.outsider.project) == SetupFacts()
