"""Starting a visit and keeping its number: the tracking script's two calls, as named steps.

A visit start passes `check_sizes`, `find_project`, `check_origin`, `identify_visitor`,
`throttle` (its address's and its visitor's windows at once), `classify` and `record_visit`,
which stores the visit and calls `assign_number` inside the same transaction (one commit for
the visit row, the lease and its history row); a step that refuses raises VisitRefused with a
typed reason and no number is taken. The trace of the steps is stored on the visit: it is the
"why this source, why this number".

A project that allocates on intent (`TrackingConfig.number_allocation == "intent"`) takes no
lease at the visit's start: the answer shows the pool's default number with the reason
`awaiting_intent` and names the intent script `i.js`, which repeats the same visit start with
`intent` set once a phone number is in view or touched; that call continues the visit and
takes the number through the same steps (`assign_number`).

A visit answered without a tracking number of its own says why (`NoNumber`: a bot, no rule,
an exhausted pool...), and that, like a refused origin, is noted in the refusal log
(services.refusals): in memory on this path, written in the background.

Visit starts are the hottest path: rows are written with Core statements built once, not
with ORM objects. If the lease cannot be taken inside the visit's transaction (a pool due for
a reload, a conflict), that transaction is rolled back and the visit start is done as two:
the visit first, then the lease with the backend's own retries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.analytics_ids import AnalyticsIds, extract_analytics_ids
from ringtrail.domain.bots import bot_kind, describe_device
from ringtrail.domain.cookie_domain import registrable_domain
from ringtrail.domain.source_rules import Decision, choose_touch
from ringtrail.domain.sources import Classification, VisitFacts, classify_visit
from ringtrail.leases.base import LeaseBackend, ReloadDue
from ringtrail.leases.history import write_transaction
from ringtrail.services.bot_signals import BotSignals, Verdict, VisitSignals
from ringtrail.services.feature_scripts import FeatureScripts, with_intent_script
from ringtrail.services.rate_limits import RateLimiter
from ringtrail.services.refusals import NoNumber, RefusalLog
from ringtrail.services.rule_time import RuleTimeShares
from ringtrail.services.tracking_config import (
    TrackingConfig,
    TrackingConfigCache,
    load_tracking_config,
)
from ringtrail.services.visit_tokens import BadToken, TokenSigner, VisitClaim
from ringtrail.storage.models import Visit, Visitor

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
SESSION_TIMEOUT = timedelta(minutes=30)
MAX_URL_LENGTH = 4096
MAX_COOKIES = 50
MAX_COOKIE_LENGTH = 1024
VISIT_STARTS_PER_ADDRESS = 30
VISIT_STARTS_PER_VISITOR = 10
HEARTBEATS_PER_ADDRESS = 120
RATE_WINDOW = timedelta(minutes=1)
EXPIRY_SWEEP_SECONDS = 60.0

_visits = cast(Table, Visit.__table__)
_visitors = cast(Table, Visitor.__table__)

_FIND_VISITOR = select(_visitors.c.id, _visitors.c.first_visit_id).where(
    _visitors.c.project_id == bindparam("project_id"),
    _visitors.c.public_id == bindparam("public_id"),
)
_INSERT_VISITOR = insert(_visitors).returning(_visitors.c.id)
_VISITOR_SEEN = (
    update(_visitors)
    .where(_visitors.c.id == bindparam("visitor_id"))
    .values(last_seen_at=bindparam("now"))
)
_FIRST_VISIT = (
    update(_visitors)
    .where(_visitors.c.id == bindparam("visitor_id"))
    .values(first_visit_id=bindparam("visit_id"))
)
_LAST_VISIT = (
    select(_visits.c.id, _visits.c.last_seen_at, _visits.c.is_bot, _visits.c.extra)
    .where(_visits.c.visitor_id == bindparam("visitor_id"))
    .order_by(_visits.c.started_at.desc(), _visits.c.id.desc())
    .limit(1)
)
_VISIT_SEEN = (
    update(_visits)
    .where(_visits.c.id == bindparam("visit_id"))
    .values(last_seen_at=bindparam("now"))
)
_INSERT_VISIT = insert(_visits).returning(_visits.c.id)
_VISIT_INTENT = (
    update(_visits)
    .where(_visits.c.id == bindparam("visit_id"))
    .values(extra=bindparam("visit_extra"))
)
_VISIT_COLUMNS = tuple(c for c in _visits.c if c.name not in ("id", "visitor_id"))
_NO_VISIT_VALUES = dict.fromkeys(column.name for column in _VISIT_COLUMNS)


def _new_visitor_and_visit() -> Any:
    """PostgreSQL: a new visitor and its first visit in one statement. The visit's id is drawn
    from its sequence first, so the visitor row is written with it (no update after)."""
    visitor = (
        insert(_visitors)
        .values(
            project_id=bindparam("visitor_project_id"),
            public_id=bindparam("visitor_public_id"),
            first_seen_at=bindparam("visitor_seen_at"),
            last_seen_at=bindparam("visitor_seen_at"),
            first_visit_id=func.nextval(func.pg_get_serial_sequence("visits", "id")),
        )
        .returning(_visitors.c.id, _visitors.c.first_visit_id)
        .cte("new_visitor")
    )
    values = [bindparam(column.name, type_=column.type) for column in _VISIT_COLUMNS]
    return (
        insert(_visits)
        .from_select(
            ["id", "visitor_id", *(column.name for column in _VISIT_COLUMNS)],
            select(visitor.c.first_visit_id, visitor.c.id, *values),
        )
        .returning(_visits.c.id, _visits.c.visitor_id)
    )


_NEW_VISITOR_AND_VISIT = _new_visitor_and_visit()


class Reason(StrEnum):
    """Why a tracking call was refused; each maps to one HTTP status in the web layer."""

    TOO_LARGE = "too_large"
    UNKNOWN_PROJECT = "unknown_project"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    FORGED_TOKEN = "forged_token"  # noqa: S105 (a reason code, not a secret)
    RATE_LIMITED = "rate_limited"
    NO_HOLD = "no_hold"
    HOLD_GONE = "hold_gone"


class VisitRefused(Exception):
    """A step refused the call; nothing was recorded and no number was taken."""

    def __init__(self, reason: Reason, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class VisitStart:
    """A visit start as the script sends it, plus what the server saw of the request."""

    key: str
    visitor_token: str | None
    url: str
    referrer: str
    cookies: Mapping[str, str]
    visible: bool
    user_agent: str
    client_address: str
    origin: str | None
    intent: bool = False
    """The visitor showed intent (a phone number in view or touched): take the number now."""


@dataclass(frozen=True)
class SwappedNumber:
    """One of the page's original numbers and the number this visitor must see instead."""

    original: str
    number: str
    kind: str  # "pool", "static" or "default"


@dataclass(frozen=True)
class VisitStarted:
    """The answer to a visit start."""

    visitor_token: str
    visit_token: str
    cookie_domain: str | None
    heartbeat_seconds: int
    numbers: tuple[SwappedNumber, ...]
    selectors: tuple[str, ...]
    reason: NoNumber | None = None
    """Set when the visitor gets no tracking number of their own (none, or a pool's default)."""
    detail: str = ""
    bot: str | None = None
    features: FeatureScripts = field(default_factory=FeatureScripts)
    """Feature scripts the page loads (services.feature_scripts)."""


@dataclass
class _Context:
    """What the steps of one visit start know so far."""

    request: VisitStart
    now: datetime
    config: TrackingConfig | None = None
    public_id: str = ""
    returning: bool = False
    bot: bool = False
    bot_kind: str | None = None
    bot_detail: str = ""
    overflow: bool = False
    classification: Classification | None = None
    decision: Decision | None = None
    analytics: AnalyticsIds | None = None
    visitor_id: int = 0
    visit_id: int = 0
    shown: tuple[str, str] | None = None  # (e164, kind)
    pool_id: int | None = None
    awaiting_intent: bool = False
    intent_shown: bool = False  # the visit continued showed intent before: it has its number
    trace: list[str] = field(default_factory=list)

    @property
    def project(self) -> TrackingConfig:
        assert self.config is not None
        return self.config


Step = Callable[["TrackingService", _Context], None]


class TrackingService:
    """The use cases behind /t/v1: start a visit, extend its hold. Thread-safe."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: LeaseBackend,
        signer: TokenSigner,
        limiter: RateLimiter,
        *,
        address_salt: str,
        config_cache: TrackingConfigCache | None = None,
        rule_time: RuleTimeShares | None = None,
        refusals: RefusalLog | None = None,
        bot_signals: BotSignals | None = None,
    ) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise TypeError("the session factory must be bound to an Engine")
        self.engine = bind
        self.backend = backend
        self.signer = signer
        self.limiter = limiter
        self.configs = config_cache or TrackingConfigCache()
        self.rule_time = rule_time or RuleTimeShares()
        self.refusals = refusals or RefusalLog(bind, flush_seconds=None)
        self.bot_signals = bot_signals or BotSignals()
        self._address_key = hashlib.sha256(f"ringtrail.address.{address_salt}".encode()).digest()
        self._last_sweep = 0.0
        self._sweep_lock = threading.Lock()

    # --- use cases ------------------------------------------------------------------------

    def start_visit(self, request: VisitStart, now: datetime) -> VisitStarted:
        """Run the visit-start steps; raises VisitRefused when one refuses."""
        context = _Context(request=request, now=now)
        for step in VISIT_STEPS:
            step(self, context)
        self._sweep_expired(now)
        answer = self._answer(context)
        if answer.reason is not None and answer.reason is not NoNumber.AWAITING_INTENT:
            self._note(context, answer.reason, answer.bot or _log_detail(context))
        return answer

    def heartbeat(
        self,
        key: str,
        visitor_token: str | None,
        visit_token: str,
        origin: str | None,
        client_address: str,
        now: datetime,
    ) -> datetime:
        """Extend the visit's hold; returns its new end. Raises VisitRefused."""
        config = self._config(key)
        self._check_origin(config, origin)
        self._throttle([(f"hb:{self._address_hash(client_address)}", HEARTBEATS_PER_ADDRESS)], now)
        try:
            public_id = self.signer.read_visitor_token(visitor_token) if visitor_token else None
            claim = self.signer.read_visit_token(visit_token)
        except BadToken as exc:
            raise VisitRefused(Reason.FORGED_TOKEN, str(exc)) from exc
        if claim.project_id != config.project_id:
            raise VisitRefused(Reason.FORGED_TOKEN, "visit token belongs to another project")
        if claim.pool_id is None:
            raise VisitRefused(Reason.NO_HOLD, "this visit shows no pool number")
        pool = config.pools.get(claim.pool_id)
        if pool is None:
            raise VisitRefused(Reason.HOLD_GONE, "the pool is no longer active")
        beat = self.backend.heartbeat(pool, claim.visitor_id, now)
        if beat is None:
            raise VisitRefused(Reason.HOLD_GONE, "the hold has ended; start a new visit")
        if public_id is not None:
            self._note_heartbeat(config.project_id, public_id, now)
        return beat.hold_until

    def allowed_origin(self, key: str, origin: str | None) -> str | None:
        """`origin` if the project may be called from it (for CORS headers), else None."""
        if not origin:
            return None
        config = self.configs.get(key, self._load_config)
        if config is None or not config.allows_host(urlsplit(origin).hostname):
            return None
        return origin

    # --- steps ----------------------------------------------------------------------------

    def check_sizes(self, context: _Context) -> None:
        """Refuse URLs, referrers and cookie sets too big to be a real page's."""
        request = context.request
        for name, value in (("url", request.url), ("referrer", request.referrer)):
            if len(value) > MAX_URL_LENGTH:
                raise VisitRefused(
                    Reason.TOO_LARGE, f"{name} is longer than {MAX_URL_LENGTH} characters"
                )
        if len(request.cookies) > MAX_COOKIES or any(
            len(k) + len(v) > MAX_COOKIE_LENGTH for k, v in request.cookies.items()
        ):
            raise VisitRefused(Reason.TOO_LARGE, "too many or too long cookies")

    def find_project(self, context: _Context) -> None:
        """The project the public key names."""
        context.config = self._config(context.request.key)

    def check_origin(self, context: _Context) -> None:
        """Only pages on the project's allowed domains may start visits (a refused origin is
        noted in the refusal log, under the project its key names)."""
        try:
            self._check_origin(context.project, context.request.origin)
        except VisitRefused:
            self._note(context, NoNumber.ORIGIN_NOT_ALLOWED, context.request.origin or "")
            raise

    def identify_visitor(self, context: _Context) -> None:
        """The visitor's public id from a genuine token, or a new one."""
        token = context.request.visitor_token
        if not token:
            context.public_id = self.signer.new_visitor_id()
            context.trace.append("visitor: new")
            return
        try:
            context.public_id = self.signer.read_visitor_token(token)
        except BadToken as exc:
            raise VisitRefused(Reason.FORGED_TOKEN, str(exc)) from exc
        context.returning = True
        context.trace.append("visitor: returning")

    def throttle(self, context: _Context) -> None:
        """At most VISIT_STARTS_PER_ADDRESS starts a minute from one address and
        VISIT_STARTS_PER_VISITOR for one visitor, counted together (one round trip)."""
        address = self._address_hash(context.request.client_address)
        visitor = f"visit:visitor:{context.project.project_id}:{context.public_id}"
        limits = [
            (f"visit:ip:{address}", VISIT_STARTS_PER_ADDRESS),
            (visitor, VISIT_STARTS_PER_VISITOR),
        ]
        self._throttle(limits, context.now)

    def classify(self, context: _Context) -> None:
        """Bot check, source, rule decision and analytics ids of this page view."""
        request = context.request
        context.bot_kind = bot_kind(request.user_agent)
        context.bot = context.bot_kind is not None
        hosts = frozenset(context.project.allowed_domains)
        classification = classify_visit(VisitFacts(request.url, request.referrer, hosts))
        context.classification = classification
        project = context.project
        context.decision = self.rule_time.apply(project.project_id, classification, project.rules)
        context.analytics = extract_analytics_ids(
            dict(request.cookies),
            click_ids=dict(classification.click_ids),
            now_ms=int(context.now.timestamp() * 1000),
        )
        self._check_bot(context)

    def _check_bot(self, context: _Context) -> None:
        """The owner's lists, then the User-Agent, then the behavioural signals
        (services.bot_signals): a suspected bot gets the pool's default number, and why is
        in the trace, the answer's `bot`/`detail` and the refusal log."""
        request, policy = context.request, context.project.bots
        listed = self.bot_signals.listed(policy, request.user_agent, request.client_address)
        if listed is not None and not listed.bot:
            context.bot, context.bot_kind = False, None
            context.trace.append(f"bot: no, {listed.detail}")
            return
        verdict = listed
        if verdict is None and context.bot:
            context.trace.append(f"bot: user agent ({context.bot_kind}); no pool number is taken")
            return
        if verdict is None:
            verdict = self._behaviour(context)
        if verdict is not None:
            context.bot, context.bot_kind, context.bot_detail = True, verdict.kind, verdict.detail
            context.trace.append(
                f"bot: suspected ({verdict.kind}): {verdict.detail}; no pool number is taken"
            )

    def _behaviour(self, context: _Context) -> Verdict | None:
        """The behavioural signals' verdict; None (a person) if they cannot be counted."""
        request, decision = context.request, context.decision
        signals = VisitSignals(
            project_id=context.project.project_id,
            user_agent=request.user_agent,
            address=request.client_address,
            address_hash=self._address_hash(request.client_address),
            visitor=context.public_id if context.returning else None,
            kept_nothing=not request.visitor_token and not request.cookies,
            pool_view=request.visible
            and decision is not None
            and decision.pool_id is not None
            # a page waiting for intent shows no pool number, so it sends no heartbeats
            and not (context.project.number_allocation == "intent" and not request.intent),
        )
        try:
            return self.bot_signals.verdict(context.project.bots, signals, context.now)
        except Exception:
            log.warning(
                "bot signals could not be counted; the visit counts as a person's", exc_info=True
            )
            return None

    def _note_heartbeat(self, project_id: int, public_id: str, now: datetime) -> None:
        try:
            self.bot_signals.heartbeat(project_id, public_id, now)
        except Exception:
            log.warning("a heartbeat could not be noted for the bot signals", exc_info=True)

    def record_visit(self, context: _Context) -> None:
        """Store the visitor and the visit (or continue the visit in progress), and take the
        number (`assign_number`) in the same transaction; a new visitor's start is one
        statement where the lease backend can do that (`start_new_visitor`)."""
        if not context.returning and not context.bot and self._start_new_visitor(context):
            return
        decision, traced = context.decision, len(context.trace)
        lease_failed = False
        try:
            with write_transaction(self.engine) as connection:
                new_visitor = self._write_visit(connection, context)
                try:
                    self.assign_number(context, connection, new_visitor)
                except Exception:
                    lease_failed = True
                    raise
            return
        except Exception as exc:
            if not lease_failed:
                raise
            if isinstance(exc, ReloadDue):
                log.debug("%s; starting the visit in two transactions", exc)
            else:
                log.warning("lease in the visit's transaction failed (%r); trying again", exc)
        context.decision, context.shown, context.pool_id = decision, None, None
        context.overflow = False
        del context.trace[traced:]
        with write_transaction(self.engine) as connection:
            self._write_visit(connection, context)
        self.assign_number(context)

    def _start_new_visitor(self, context: _Context) -> bool:
        """The backend's one-statement start of a new visitor who takes a pool number; False
        when the backend cannot (or failed, writing nothing): the usual steps follow."""
        original = context.decision
        assert original is not None
        pool = context.project.pools.get(original.pool_id) if original.pool_id else None
        if pool is None or self._awaits_intent(context):
            return False
        if not self.backend.can_start_new_visitor(pool):
            return False
        context.decision = choose_touch(None, original, context.project.attribution_touch)
        visit = {**_NO_VISIT_VALUES, **self._visit_row(context, 0)}
        del visit["visitor_id"]  # the statement takes it from the new visitor row
        try:
            done = self.backend.start_new_visitor(
                pool,
                public_id=context.public_id,
                visit=visit,
                snapshot=self._snapshot(context),
                now=context.now,
            )
        except Exception as exc:
            log.warning("one-statement visit start failed (%r); doing it step by step", exc)
            done = None
        if done is None:
            context.decision = original  # the usual steps choose the touch themselves
            return False
        context.visitor_id, context.visit_id, context.pool_id = (
            done.visitor_id,
            done.visit_id,
            pool.pool_id,
        )
        if done.outcome is None:  # the number chosen had left the pool: lease the usual way
            self.assign_number(context)
        else:
            context.overflow = done.outcome.overflow
        if done.outcome is not None and done.outcome.e164 is not None:
            context.shown = (done.outcome.e164, "default" if done.outcome.overflow else "pool")
        return True

    def assign_number(
        self, context: _Context, connection: Connection | None = None, new_visitor: bool = False
    ) -> None:
        """The number this visitor sees: a pool hold, a static number, the default, or none.

        Inside the visit's transaction (`connection`) a failing lease raises, so the caller
        can roll back and retry; on its own, a failing lease shows the pool's default."""
        decision = context.decision
        assert decision is not None
        pool = context.project.pools.get(decision.pool_id) if decision.pool_id else None
        if pool is not None:
            context.pool_id = pool.pool_id
            if context.bot:
                if pool.default is not None:
                    context.shown = (pool.default.e164, "default")
                return
            if self._awaits_intent(context):
                context.awaiting_intent = True
                context.trace.append("number: on intent; the pool's default until then")
                if pool.default is not None:
                    context.shown = (pool.default.e164, "default")
                return
            snapshot = self._snapshot(context)
            try:
                if connection is None:
                    outcome = self.backend.acquire(
                        pool, context.visitor_id, context.visit_id, snapshot, context.now
                    )
                else:
                    outcome = self.backend.acquire(
                        pool,
                        context.visitor_id,
                        context.visit_id,
                        snapshot,
                        context.now,
                        connection=connection,
                        new_visitor=new_visitor,
                    )
            except Exception:
                if connection is not None:
                    raise
                log.exception("lease failed on pool %s; showing its default", pool.pool_id)
                if pool.default is not None:
                    context.shown = (pool.default.e164, "default")
                return
            context.overflow = outcome.overflow
            if outcome.e164 is not None:
                context.shown = (outcome.e164, "default" if outcome.overflow else "pool")
            return
        static = context.project.statics.get(decision.static_number_id or 0)
        if static is not None and not static.offline_only:
            context.shown = (static.e164, "static")

    @staticmethod
    def _awaits_intent(context: _Context) -> bool:
        """An intent project's visit start that has not shown intent yet takes no number; the
        pages after intent in the same visit (`extra["intent"]` on the visit) keep theirs."""
        if context.project.number_allocation != "intent":
            return False
        return not context.request.intent and not context.intent_shown

    def _write_visit(self, connection: Connection, context: _Context) -> bool:
        """`record_visit`'s rows; returns whether the visitor is new."""
        visitor = None
        if context.returning:  # a new random id cannot be in the table yet
            visitor = connection.execute(
                _FIND_VISITOR,
                {"project_id": context.project.project_id, "public_id": context.public_id},
            ).first()
        assert context.decision is not None
        if visitor is None:
            context.decision = choose_touch(
                None, context.decision, context.project.attribution_touch
            )
            self._insert_visitor_and_visit(connection, context)
            return True
        context.visitor_id = visitor.id
        connection.execute(_VISITOR_SEEN, {"visitor_id": visitor.id, "now": context.now})
        previous = connection.execute(_LAST_VISIT, {"visitor_id": visitor.id}).first()
        prior = _decision_from_json(previous.extra.get("decision")) if previous else None
        if previous is not None and prior is not None and self._continues(previous, context):
            connection.execute(_VISIT_SEEN, {"visit_id": previous.id, "now": context.now})
            extra = previous.extra or {}
            context.intent_shown = bool(extra.get("intent"))
            if context.request.intent and not context.intent_shown:
                marked = {**extra, "intent": True}
                connection.execute(_VISIT_INTENT, {"visit_id": previous.id, "visit_extra": marked})
            context.visit_id = previous.id
            context.decision = prior
            context.trace.append(f"visit: continues visit {previous.id}")
            return False
        context.decision = choose_touch(prior, context.decision, context.project.attribution_touch)
        context.visit_id = connection.execute(
            _INSERT_VISIT, self._visit_row(context, visitor.id)
        ).scalar_one()
        if visitor.first_visit_id is None:
            connection.execute(
                _FIRST_VISIT, {"visitor_id": visitor.id, "visit_id": context.visit_id}
            )
        return False

    def _insert_visitor_and_visit(self, connection: Connection, context: _Context) -> None:
        """A new visitor and its first visit (one statement on PostgreSQL)."""
        project_id, now = context.project.project_id, context.now
        if connection.dialect.name == "postgresql":
            row = dict(_NO_VISIT_VALUES)
            row.update(
                self._visit_row(context, 0),
                visitor_project_id=project_id,
                visitor_public_id=context.public_id,
                visitor_seen_at=now,
            )
            del row["visitor_id"]  # the statement takes it from the new visitor row
            context.visit_id, context.visitor_id = connection.execute(
                _NEW_VISITOR_AND_VISIT, row
            ).one()
            return
        context.visitor_id = connection.execute(
            _INSERT_VISITOR,
            {
                "project_id": project_id,
                "public_id": context.public_id,
                "first_seen_at": now,
                "last_seen_at": now,
            },
        ).scalar_one()
        context.visit_id = connection.execute(
            _INSERT_VISIT, self._visit_row(context, context.visitor_id)
        ).scalar_one()
        connection.execute(
            _FIRST_VISIT, {"visitor_id": context.visitor_id, "visit_id": context.visit_id}
        )

    # --- helpers --------------------------------------------------------------------------

    def _answer(self, context: _Context) -> VisitStarted:
        claim = VisitClaim(
            project_id=context.project.project_id,
            visit_id=context.visit_id,
            visitor_id=context.visitor_id,
            pool_id=None if context.bot else context.pool_id,
        )
        numbers: tuple[SwappedNumber, ...] = ()
        if context.shown is not None:
            e164, kind = context.shown
            numbers = tuple(SwappedNumber(o, e164, kind) for o in context.project.originals)
        host = urlsplit(context.request.url).hostname
        reason = _no_number(context)
        features = context.project.features
        if reason is NoNumber.AWAITING_INTENT:
            features = with_intent_script(features, context.project.originals)
        return VisitStarted(
            visitor_token=self.signer.visitor_token(context.public_id),
            visit_token=self.signer.visit_token(claim),
            cookie_domain=registrable_domain(host) if host else None,
            heartbeat_seconds=HEARTBEAT_SECONDS,
            numbers=numbers,
            selectors=context.project.selectors,
            reason=reason,
            detail=_detail(context, reason),
            bot=context.bot_kind if reason is NoNumber.BOT else None,
            features=features,
        )

    def _note(self, context: _Context, reason: NoNumber, detail: str) -> None:
        request = context.request
        self.refusals.note(
            context.project.project_id,
            reason,
            detail,
            request.url,
            request.user_agent,
            context.now,
        )

    def _config(self, key: str) -> TrackingConfig:
        config = self.configs.get(key, self._load_config) if key else None
        if config is None:
            raise VisitRefused(Reason.UNKNOWN_PROJECT, "no project has this key")
        return config

    def _load_config(self, key: str) -> TrackingConfig | None:
        with self.sessions() as session:
            return load_tracking_config(session, key)

    @staticmethod
    def _check_origin(config: TrackingConfig, origin: str | None) -> None:
        if origin is None:
            return  # not a browser: nothing to protect with CORS
        if not config.allows_host(urlsplit(origin).hostname):
            raise VisitRefused(
                Reason.ORIGIN_NOT_ALLOWED, "this site is not in the project's allowed domains"
            )

    def _throttle(self, limits: list[tuple[str, int]], now: datetime) -> None:
        retry_after = self.limiter.hit_all(limits, RATE_WINDOW, now)
        if retry_after is not None:
            raise VisitRefused(Reason.RATE_LIMITED, "too many requests", retry_after)

    def _address_hash(self, address: str) -> str:
        return hmac.new(self._address_key, address.encode(), hashlib.sha256).hexdigest()[:32]

    def _continues(self, previous: Any, context: _Context) -> bool:
        """A page view within SESSION_TIMEOUT that brings no new campaign continues the visit."""
        if previous.last_seen_at <= context.now - SESSION_TIMEOUT:
            return False
        if previous.is_bot != context.bot:
            return False
        if context.request.intent:
            return True  # the same page view as the start it follows, whatever its URL says
        classification = context.classification
        assert classification is not None
        if classification.click_ids or classification.utm:
            return False
        referrer = classification.referrer_host
        return not referrer or context.project.allows_host(referrer)

    def _visit_row(self, context: _Context, visitor_id: int) -> dict[str, Any]:
        request, classification, decision = (
            context.request,
            context.classification,
            context.decision,
        )
        assert classification is not None and decision is not None
        analytics = context.analytics
        device = describe_device(request.user_agent)
        utm = dict(classification.utm)
        clicks = dict(classification.click_ids)
        if analytics and analytics.gclid and "gclid" not in clicks:
            clicks["gclid"] = analytics.gclid  # a redirect dropped it from the URL; _gcl_aw kept it
        label = decision.classification
        session_ids = dict(analytics.ga_session_ids) if analytics else {}
        values: dict[str, Any] = {
            "landing_url": request.url,
            "landing_path": classification.landing_path,
            "referrer": request.referrer,
            **{f"utm_{k.removeprefix('utm_')}": v for k, v in utm.items()},
            **{k: v for k, v in clicks.items() if k in _CLICK_COLUMNS},
            "source": label.source,
            "medium": label.medium,
            "campaign": label.campaign,
            "keyword": label.keyword,
            "channel": label.channel,
            "ga_client_id": analytics.ga_client_id if analytics else None,
            "ga_session_id": next(iter(sorted(session_ids.values())), None),
            "ym_uid": analytics.ym_uid if analytics else None,
            "fbp": analytics.fbp if analytics else None,
            "fbc": analytics.fbc if analytics else None,
            "ip_hash": self._address_hash(request.client_address),
            "user_agent": request.user_agent,
            "device_type": device.device_type,
            "browser": device.browser,
            "os": device.os,
        }
        values = {k: _fit(k, v) for k, v in values.items() if k in _LENGTHS}
        return {
            "project_id": context.project.project_id,
            "visitor_id": visitor_id,
            "started_at": context.now,
            "last_seen_at": context.now,
            "source_rule_id": decision.rule_id,
            "source_trace": [*context.trace, *decision.trace],
            "is_bot": context.bot,
            "extra": {
                "decision": _decision_to_json(decision),
                "ga_session_ids": session_ids,
                **({"intent": True} if request.intent else {}),
            },
            **values,
        }

    def _snapshot(self, context: _Context) -> dict[str, Any]:
        """What the lease row keeps of the visit: the attribution a later call needs."""
        decision, analytics = context.decision, context.analytics
        assert decision is not None
        label = decision.classification
        return {
            "visit_id": context.visit_id,
            "source": label.source,
            "medium": label.medium,
            "campaign": label.campaign,
            "keyword": label.keyword,
            "channel": label.channel,
            "rule_id": decision.rule_id,
            "landing_page": label.landing_path,
            "referrer_host": label.referrer_host,
            "utm": dict(label.utm),
            "click_ids": dict(label.click_ids),
            "analytics": _jsonable(analytics) if analytics else {},
        }

    def _sweep_expired(self, now: datetime) -> None:
        """Write down ended holds about once a minute per process (jobs may do it too)."""
        clock = time.monotonic()
        with self._sweep_lock:
            if clock - self._last_sweep < EXPIRY_SWEEP_SECONDS:
                return
            self._last_sweep = clock
        try:
            self.backend.expire(now)
        except Exception:
            log.exception("expiring ended holds failed; the next sweep retries")


_NO_NUMBER_DETAIL = {
    NoNumber.ORIGIN_NOT_ALLOWED: "this site is not in the project's allowed domains",
    NoNumber.BOT: "bots (crawlers, headless browsers, testing tools) get no tracking number",
    NoNumber.NO_RULE: "no source rule matched this visit: a pool swaps only when a rule points "
    "at it",
    NoNumber.POOL_EXHAUSTED: "every number of the pool is held: the pool's default number "
    "(if it has one) is shown",
    NoNumber.NUMBER_NOT_SHOWN: "the rule's number cannot be shown now (offline only, inactive, "
    "or the pool did not answer)",
    NoNumber.NO_ORIGINAL_NUMBER: "the project has no main number to replace on the page",
    NoNumber.AWAITING_INTENT: "the project takes a pool number on intent: the pool's default "
    "number shows until a phone number is in view or touched",
}


def _no_number(context: _Context) -> NoNumber | None:
    """Why this visitor gets no tracking number of their own, or None when they get one."""
    if not context.project.originals:
        return NoNumber.NO_ORIGINAL_NUMBER
    if context.shown is not None and context.shown[1] in ("pool", "static"):
        return None
    decision = context.decision
    assert decision is not None
    if context.bot:
        return NoNumber.BOT
    if context.awaiting_intent:
        return NoNumber.AWAITING_INTENT
    if context.overflow:
        return NoNumber.POOL_EXHAUSTED
    if decision.pool_id is None and decision.static_number_id is None:
        return NoNumber.NO_RULE
    return NoNumber.NUMBER_NOT_SHOWN


def _detail(context: _Context, reason: NoNumber | None) -> str:
    """The answer's `detail`: a suspected bot's own reason, else the reason's sentence."""
    if reason is None:
        return ""
    if reason is NoNumber.BOT and context.bot_detail:
        return f"suspected bot: {context.bot_detail}"
    return _NO_NUMBER_DETAIL[reason]


def _log_detail(context: _Context) -> str:
    """What tells refusals of one reason apart in the log: the pool, for an overflow."""
    pool_id = context.decision.pool_id if context.decision else None
    return str(pool_id) if context.overflow and pool_id else ""


VISIT_STEPS: tuple[Step, ...] = (
    TrackingService.check_sizes,
    TrackingService.find_project,
    TrackingService.check_origin,
    TrackingService.identify_visitor,
    TrackingService.throttle,
    TrackingService.classify,
    TrackingService.record_visit,
)

_CLICK_COLUMNS = frozenset({"gclid", "gbraid", "wbraid", "yclid", "fbclid", "msclkid", "ttclid"})


_LENGTHS: dict[str, int | None] = {
    column.name: getattr(column.type, "length", None) for column in _visits.c
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool})


def _fit(column: str, value: Any) -> Any:
    """Cut a string to its column's length (PostgreSQL refuses longer ones)."""
    length = _LENGTHS[column]
    if isinstance(value, str) and length is not None and len(value) > length:
        return value[:length]
    return value


def _jsonable(value: Any) -> Any:
    """`value` as JSON data: what `dataclasses.asdict` gives, with string keys and lists for
    tuples (without asdict's deep copies, which cost more than the rest of a visit start)."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(type(value))
        if names is None:
            names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
        return {name: _jsonable(getattr(value, name)) for name in names}
    return value


def _decision_to_json(decision: Decision) -> dict[str, Any]:
    return cast(dict[str, Any], _jsonable(decision))


def _decision_from_json(data: Any) -> Decision | None:
    """A decision stored on an earlier visit, or None if it cannot be read back."""
    if not isinstance(data, dict):
        return None
    try:
        label = dict(data["classification"])
        label["trace"] = tuple(label.get("trace") or ())
        return Decision(
            classification=Classification(**label),
            rule_id=data.get("rule_id"),
            pool_id=data.get("pool_id"),
            static_number_id=data.get("static_number_id"),
            trace=tuple(data.get("trace") or ()),
        )
    except (KeyError, TypeError, ValueError):
        return None
