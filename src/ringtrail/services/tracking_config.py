"""A project's tracking setup as the visit pipeline reads it, loaded once and cached briefly.

Visit starts are the hottest path: the project, its rules, pools and static numbers are read
in a few queries and kept for `CONFIG_TTL_SECONDS`, so a settings change reaches the tracking
API within that time. Unknown keys are remembered too, so garbage keys cost no query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.bot_policy import DEFAULT_POLICY, BotPolicy, parse_policy
from ringtrail.domain.pools import DefaultNumber, resolve_timings
from ringtrail.domain.source_rules import Condition, Rule
from ringtrail.domain.tracking_settings import DEFAULT_NUMBER_ALLOCATION, number_allocation_of
from ringtrail.leases.base import PoolRef
from ringtrail.services.feature_scripts import FeatureScripts, feature_scripts
from ringtrail.storage.models import Pool, Project, SourceRule, TrackingNumber

CONFIG_TTL_SECONDS = 5.0
MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class StaticNumber:
    """A static tracking number a rule may show; offline-only ones are never shown."""

    number_id: int
    e164: str
    offline_only: bool


@dataclass(frozen=True)
class TrackingConfig:
    """Everything a visit start needs to know about a project."""

    project_id: int
    allowed_domains: tuple[str, ...]
    originals: tuple[str, ...]
    selectors: tuple[str, ...]
    attribution_touch: Literal["first", "last"]
    rules: tuple[Rule, ...]
    pools: Mapping[int, PoolRef] = field(default_factory=dict)
    statics: Mapping[int, StaticNumber] = field(default_factory=dict)
    features: FeatureScripts = field(default_factory=FeatureScripts)
    """Feature scripts (forms, callback widget) the project's pages load."""
    bots: BotPolicy = DEFAULT_POLICY
    """The owner's bot lists and signals (domain.bot_policy)."""
    number_allocation: str = DEFAULT_NUMBER_ALLOCATION
    """`visit`: a pool number at the visit's start; `intent`: at the first phone number in
    view or touched, the pool's default until then (domain.tracking_settings)."""

    def allows_host(self, host: str | None) -> bool:
        """Whether `host` is one of the allowed domains or a subdomain of one."""
        if not host:
            return False
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


def make_pool_ref(project: Project, pool: Pool, default: DefaultNumber | None) -> PoolRef:
    """A pool as the lease backends see it: the pool's hold times, else the project's."""
    return PoolRef(
        project_id=project.id,
        pool_id=pool.id,
        timings=resolve_timings(
            project.grace_minutes,
            project.cooldown_minutes,
            pool.grace_minutes,
            pool.cooldown_minutes,
        ),
        default=default,
    )


def load_tracking_config(session: Session, public_key: str) -> TrackingConfig | None:
    """The tracking setup of the project with this public key, or None."""
    project = session.scalar(select(Project).where(Project.public_key == public_key))
    if project is None:
        return None
    rules = tuple(
        _to_rule(row)
        for row in session.scalars(
            select(SourceRule)
            .where(SourceRule.project_id == project.id, SourceRule.is_active.is_(True))
            .order_by(SourceRule.priority, SourceRule.id)
        )
    )
    pools = session.scalars(
        select(Pool).where(Pool.project_id == project.id, Pool.is_active.is_(True))
    ).all()
    defaults = {
        number.pool_id: DefaultNumber(number.id, number.e164)
        for number in session.scalars(
            select(TrackingNumber).where(
                TrackingNumber.project_id == project.id,
                TrackingNumber.is_pool_default.is_(True),
                TrackingNumber.is_active.is_(True),
            )
        )
    }
    statics = {
        number.id: StaticNumber(number.id, number.e164, number.offline_only)
        for number in session.scalars(
            select(TrackingNumber).where(
                TrackingNumber.project_id == project.id,
                TrackingNumber.kind == "static",
                TrackingNumber.is_active.is_(True),
            )
        )
    }
    originals = [project.main_number] if project.main_number else []
    originals += [n for n in project.replace_numbers or [] if n and n not in originals]
    return TrackingConfig(
        project_id=project.id,
        allowed_domains=tuple(d.strip().lower().lstrip(".") for d in project.allowed_domains or []),
        originals=tuple(originals),
        selectors=tuple(project.swap_selectors or []),
        attribution_touch="first" if project.attribution_touch == "first" else "last",
        rules=rules,
        pools={pool.id: make_pool_ref(project, pool, defaults.get(pool.id)) for pool in pools},
        statics=statics,
        bots=parse_policy(project.extra),
        features=feature_scripts(project.extra),
        number_allocation=number_allocation_of(project.extra),
    )


def _to_rule(row: SourceRule) -> Rule:
    conditions = tuple(
        Condition(field=c.get("field", ""), op=c.get("op", ""), value=c.get("value"))
        for c in row.conditions or []
    )
    return Rule(
        id=row.id,
        priority=row.priority,
        conditions=conditions,
        source=row.source,
        medium=row.medium,
        campaign=row.campaign,
        pool_id=row.pool_id,
        static_number_id=row.static_number_id,
        name=row.name,
    )


class TrackingConfigCache:
    """Configs by public key, each kept for `ttl` seconds (None = unknown key)."""

    def __init__(
        self, ttl: float = CONFIG_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, TrackingConfig | None]] = {}
        self._lock = threading.Lock()

    def get(
        self, public_key: str, load: Callable[[str], TrackingConfig | None]
    ) -> TrackingConfig | None:
        """The cached config, or a fresh one from `load` when missing or stale."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(public_key)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        config = load(public_key)
        with self._lock:
            if len(self._entries) >= MAX_CACHED_KEYS:
                self._entries.clear()
            self._entries[public_key] = (now, config)
        return config

    def clear(self) -> None:
        """Forget everything (tests, or after a settings change that must apply at once)."""
        with self._lock:
            self._entries.clear()
