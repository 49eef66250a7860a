"""Which visit made the phone ring: ranking the holds of the dialled number at the call time.

A call to a static number takes that number's source. A call to a pool number is matched to
the holds of that number around the call's start, each in one phase:

| phase    | the call started …                                              | weight |
|----------|------------------------------------------------------------------|-------:|
| live     | while the visitor's page was still sending heartbeats            |   1.00 |
| grace    | after the last heartbeat, before the hold ended (grace window)   |   0.70 |
| cooling  | after the hold ended, while the number cooled down (not reused)  |   0.35 |
| earlier  | after that, within the look-back window (number since reused)    |   0.10 |

A hold of a visitor who called from the same phone number before counts `KNOWN_CALLER_WEIGHT`
whatever its phase: the caller id is the strongest evidence there is. The best-weighted hold
wins; its confidence is its share of all weights times its own weight (capped at 1), so a lone
live hold gives 1.0, a lone grace hold 0.7, and any rival lowers it. No hold at all leaves the
call unattributed, with the reason. A call to a pool's default number (shown when the pool was
full) keeps the source of that number, but no session can be named.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

PHASE_WEIGHTS = {"live": 1.0, "grace": 0.7, "cooling": 0.35, "earlier": 0.1}
KNOWN_CALLER_WEIGHT = 2.0
DEFAULT_LIVE_SLACK = timedelta(minutes=2)
"""A page whose last heartbeat is this recent still counts as open (heartbeats are ~1/min)."""
DEFAULT_LOOKBACK = timedelta(days=7)
DEFAULT_CLOCK_SKEW = timedelta(seconds=30)
"""Provider clocks and ours differ a little: a hold starting this much after the call counts."""


class NumberKind(StrEnum):
    """What the dialled number is to Ringtrail."""

    STATIC = "static"
    POOL = "pool"
    POOL_DEFAULT = "pool_default"
    UNKNOWN = "unknown"


class AttributionKind(StrEnum):
    """What the attribution on a call rests on: the one vocabulary of `calls.attribution_kind`."""

    STATIC = "static"
    """A static number: the call takes that number's source (an ad, a flyer, a listing)."""
    SESSION = "session"
    """A pool number held by a visitor's session: the call came after that site visit."""
    POOL_SOURCE = "pool_source"
    """The default number of a full pool for one source: after a visit, session unknown."""
    UNATTRIBUTED = "unattributed"
    """Nothing to attribute the call to (an unknown number, no hold in the look-back)."""
    PENDING = "pending"
    """Stored by ingestion before attribution has run (the call's first event only)."""


class CallOrigin(StrEnum):
    """How the caller found the number: the class of an attribution kind in every report."""

    AD = "ad"
    """A static number printed in an ad, a flyer or a listing: the call came straight from it."""
    SITE = "site"
    """A pool number shown on the website: the call came after a visit."""
    UNKNOWN = "unknown"
    """A number Ringtrail could not place (unattributed, or not attributed yet)."""


ORIGIN_OF_KIND: Mapping[AttributionKind, CallOrigin] = MappingProxyType(
    {
        AttributionKind.STATIC: CallOrigin.AD,
        AttributionKind.SESSION: CallOrigin.SITE,
        AttributionKind.POOL_SOURCE: CallOrigin.SITE,
        AttributionKind.UNATTRIBUTED: CallOrigin.UNKNOWN,
        AttributionKind.PENDING: CallOrigin.UNKNOWN,
    }
)
"""The class of every attribution kind; reports, filters and money all split calls by it."""


def origin_of(attribution_kind: str) -> CallOrigin:
    """Where a call came from, read off its stored attribution kind (unknown for other words)."""
    try:
        return ORIGIN_OF_KIND[AttributionKind(attribution_kind)]
    except ValueError:
        return CallOrigin.UNKNOWN


def kinds_of(origin: CallOrigin) -> tuple[str, ...]:
    """The stored attribution kinds of one class, as SQL filters need them."""
    return tuple(kind.value for kind, of in ORIGIN_OF_KIND.items() if of is origin)


class HoldPhase(StrEnum):
    """Where a hold stood when the call started."""

    LIVE = "live"
    GRACE = "grace"
    COOLING = "cooling"
    EARLIER = "earlier"


@dataclass(frozen=True)
class SourceLabel:
    """Source, medium and campaign as reports show them."""

    source: str | None
    medium: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class DialledNumber:
    """The tracking number a call reached, as attribution needs it."""

    kind: NumberKind
    e164: str
    number_id: int | None = None
    pool_id: int | None = None
    label: SourceLabel | None = None


@dataclass(frozen=True)
class HoldRecord:
    """One hold of the dialled number from the lease history, with its session snapshot."""

    lease_id: int
    visitor_id: int | None
    visit_id: int | None
    leased_at: datetime
    last_heartbeat_at: datetime
    hold_until: datetime
    released_at: datetime | None = None
    cooldown_until: datetime | None = None
    snapshot: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ended_at(self) -> datetime:
        """When the hold ended (or will end without another heartbeat)."""
        return self.released_at or self.hold_until


@dataclass(frozen=True)
class AttributionPolicy:
    """The windows of matching; the defaults suit the tracking script's one-minute heartbeat."""

    cooldown: timedelta = timedelta(minutes=30)
    live_slack: timedelta = DEFAULT_LIVE_SLACK
    lookback: timedelta = DEFAULT_LOOKBACK
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW


@dataclass(frozen=True)
class Candidate:
    """A hold that may have made the call, with its phase and weight."""

    hold: HoldRecord
    phase: HoldPhase
    weight: float
    known_caller: bool

    def to_json(self, share: float) -> dict[str, Any]:
        """How the candidate is stored on the call (`candidates`)."""
        return {
            "lease_id": self.hold.lease_id,
            "visitor_id": self.hold.visitor_id,
            "visit_id": self.hold.visit_id,
            "phase": self.phase.value,
            "weight": round(self.weight, 4),
            "share": round(share, 4),
            "known_caller": self.known_caller,
            "leased_at": self.hold.leased_at.isoformat(),
            "ended_at": self.hold.ended_at.isoformat(),
            "source": self.hold.snapshot.get("source"),
            "campaign": self.hold.snapshot.get("campaign"),
        }


@dataclass(frozen=True)
class Attribution:
    """What the call is attributed to, how sure, why, and who else was in the running."""

    kind: AttributionKind
    confidence: float
    reason: str
    label: SourceLabel | None = None
    chosen: Candidate | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def snapshot(self) -> Mapping[str, Any]:
        """The session data copied onto the call (empty without a session)."""
        return self.chosen.hold.snapshot if self.chosen else {}

    def candidates_json(self) -> list[dict[str, Any]]:
        """The ranked candidates as stored on the call."""
        total = sum(c.weight for c in self.candidates) or 1.0
        return [c.to_json(c.weight / total) for c in self.candidates]


def phase_of(hold: HoldRecord, call_at: datetime, policy: AttributionPolicy) -> HoldPhase | None:
    """The hold's phase at `call_at`, or None when the hold cannot have made the call."""
    if call_at < hold.leased_at - policy.clock_skew:
        return None
    ended = hold.ended_at
    if call_at <= min(hold.last_heartbeat_at + policy.live_slack, ended):
        return HoldPhase.LIVE
    if call_at <= ended:
        return HoldPhase.GRACE
    cooled = hold.cooldown_until or ended + policy.cooldown
    if call_at <= cooled:
        return HoldPhase.COOLING
    if call_at - ended <= policy.lookback:
        return HoldPhase.EARLIER
    return None


def rank_candidates(
    holds: Iterable[HoldRecord],
    call_at: datetime,
    policy: AttributionPolicy,
    known_visitors: Collection[int] = (),
) -> tuple[Candidate, ...]:
    """Every hold that may have made the call, best first (ties: the most recent hold)."""
    candidates = []
    for hold in holds:
        phase = phase_of(hold, call_at, policy)
        if phase is None:
            continue
        known = hold.visitor_id is not None and hold.visitor_id in known_visitors
        weight = KNOWN_CALLER_WEIGHT if known else PHASE_WEIGHTS[phase.value]
        candidates.append(Candidate(hold, phase, weight, known))
    candidates.sort(key=lambda c: (-c.weight, -c.hold.leased_at.timestamp(), -c.hold.lease_id))
    return tuple(candidates)


def attribute_call(
    number: DialledNumber,
    call_at: datetime,
    holds: Iterable[HoldRecord] = (),
    *,
    policy: AttributionPolicy | None = None,
    known_visitors: Collection[int] = (),
) -> Attribution:
    """Attribute a call that started at `call_at` to `number` (see the module docstring)."""
    policy = policy or AttributionPolicy()
    if number.kind is NumberKind.UNKNOWN:
        return Attribution(
            AttributionKind.UNATTRIBUTED, 0.0, f"{number.e164} is not a tracking number"
        )
    if number.kind is NumberKind.STATIC:
        source = number.label.source if number.label else None
        return Attribution(
            AttributionKind.STATIC,
            1.0,
            f"static number for {source or 'an unnamed source'}",
            label=number.label,
        )
    if number.kind is NumberKind.POOL_DEFAULT:
        if number.label is None or not number.label.source:
            return Attribution(
                AttributionKind.UNATTRIBUTED,
                0.0,
                "default number of a full pool that serves several sources: no session, "
                "no single source",
            )
        return Attribution(
            AttributionKind.POOL_SOURCE,
            1.0,
            f"default number of a full pool for {number.label.source}: source known, "
            "session unknown",
            label=number.label,
        )
    candidates = rank_candidates(holds, call_at, policy, known_visitors)
    if not candidates:
        return Attribution(
            AttributionKind.UNATTRIBUTED,
            0.0,
            f"no hold of {number.e164} covered the call time or the "
            f"{policy.lookback.days}-day look-back before it",
        )
    best = candidates[0]
    total = sum(c.weight for c in candidates)
    confidence = round(min(best.weight, 1.0) * best.weight / total, 4)
    snapshot = best.hold.snapshot
    label = SourceLabel(snapshot.get("source"), snapshot.get("medium"), snapshot.get("campaign"))
    reason = f"{best.phase.value} hold of visitor {best.hold.visitor_id}"
    if best.known_caller:
        reason += " (the caller has called from this visitor's sessions before)"
    if len(candidates) > 1:
        reason += f"; {len(candidates) - 1} other hold(s) of this number in the window"
    return Attribution(
        AttributionKind.SESSION,
        confidence,
        reason,
        label=label,
        chosen=best,
        candidates=candidates,
    )


@dataclass(frozen=True)
class EarlierCall:
    """A call the same caller made to the project before."""

    call_id: int
    started_at: datetime
    visitor_id: int | None
    lead_id: int | None


@dataclass(frozen=True)
class CallerStanding:
    """First-time, unique and repeat (worded in domain/calls.py), and a caller's earlier links."""

    first_time: bool
    unique: bool
    first_call_id: int | None
    known_visitors: tuple[int, ...]
    previous_visitor_id: int | None
    previous_lead_id: int | None

    @property
    def repeat(self) -> bool:
        """Not unique: the caller called within the unique-call window (domain/calls.py REPEAT)."""
        return not self.unique


def caller_standing(
    earlier: Iterable[EarlierCall], call_at: datetime, unique_window: timedelta
) -> CallerStanding:
    """Classify a caller from their earlier calls (none may start after `call_at`).

    Unique means no call from the same number within `unique_window` before this one; a
    repeat call inside the window joins the lead of the caller's latest call.
    """
    before = sorted((c for c in earlier if c.started_at <= call_at), key=lambda c: c.started_at)
    if not before:
        return CallerStanding(True, True, None, (), None, None)
    latest = before[-1]
    unique = call_at - latest.started_at > unique_window
    visitors = tuple(dict.fromkeys(c.visitor_id for c in reversed(before) if c.visitor_id))
    lead = next((c.lead_id for c in reversed(before) if c.lead_id is not None), None)
    return CallerStanding(
        first_time=False,
        unique=unique,
        first_call_id=before[0].call_id,
        known_visitors=visitors,
        previous_visitor_id=visitors[0] if visitors else None,
        previous_lead_id=None if unique else lead,
    )
