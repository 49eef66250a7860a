"""Bot signals besides the User-Agent, cheap enough for a visit start: the suspect's verdict.

`BotSignals.verdict` decides, for a visit start whose User-Agent looks like a person's,
whether the visit is still a bot's, and why (a kind of domain.bot_policy.SIGNAL_KINDS):

* `owner_denied`: the project's deny-list names the visitor (the allow-list wins over every
  other signal, the User-Agent check included; see domain.bot_policy).
* `data_centre`: the address is in a major cloud provider's published ranges (only where
  the owner opted in).
* `busy_address`: more than BUSY_ADDRESS_VISITORS new visitors (no visitor token) from one
  address in BUSY_ADDRESS_WINDOW.
* `no_storage`: the same address and User-Agent started NO_STORAGE_VIEWS page views in
  NO_STORAGE_WINDOW, none with the visitor token the script stores (cookie, else
  localStorage) nor any analytics cookie: a client that keeps nothing between page views.
* `no_heartbeat`: a returning visitor shown a pool number on NO_HEARTBEAT_VIEWS visible page
  views in NO_HEARTBEAT_WINDOW never sent the heartbeat the script sends from a visible tab.

The counts are sliding windows kept like the rate limits (services.rate_limits): in process
by default, in Redis when one is configured, so every app process counts together. A visit
start costs at most one round trip (all of its windows in one pipeline), and none at all
for a project that turned behaviour signals off. Keys hold hashes, never an address.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis

from ringtrail.domain.bot_policy import BotPolicy, parse_address
from ringtrail.domain.datacentres import datacentre_of

BUSY_ADDRESS_VISITORS = 30
BUSY_ADDRESS_WINDOW = timedelta(minutes=10)
NO_STORAGE_VIEWS = 3
NO_STORAGE_WINDOW = timedelta(minutes=10)
NO_HEARTBEAT_VIEWS = 10
NO_HEARTBEAT_WINDOW = timedelta(hours=24)
MAX_TRACKED_KEYS = 100_000
MAX_HITS_PER_KEY = 1_000

DETAILS = {
    "owner_denied": "the project's deny-list names this visitor ({entry})",
    "data_centre": "the visit comes from a data centre ({provider}), and the project counts "
    "those as bots",
    "busy_address": f"more than {BUSY_ADDRESS_VISITORS} new visitors came from this address in "
    f"{int(BUSY_ADDRESS_WINDOW.total_seconds() // 60)} minutes",
    "no_storage": f"{NO_STORAGE_VIEWS} page views from this address and browser kept no "
    "cookie or storage between them",
    "no_heartbeat": f"{NO_HEARTBEAT_VIEWS} page views with a tracking number, and never a "
    "heartbeat from a visible tab",
}
"""What the visit answer's `detail` says for each signal (format fields: entry, provider)."""


class WindowCounter(Protocol):
    """Hits per key inside sliding windows; each call is one round trip."""

    def counts(self, ops: Sequence[tuple[str, timedelta, bool]], now: datetime) -> list[int]:
        """For each (key, window, add): add a hit first when `add`, then count the key's hits
        inside its window."""
        ...


class MemoryWindowCounter:
    """Per-process windows: a bounded deque of hit times per key, at most `max_keys` keys."""

    def __init__(self, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def counts(self, ops: Sequence[tuple[str, timedelta, bool]], now: datetime) -> list[int]:
        out = []
        with self._lock:
            for key, window, add in ops:
                hits = self._hits.get(key)
                if hits is None:
                    if not add:
                        out.append(0)
                        continue
                    if len(self._hits) >= self._max_keys:
                        del self._hits[next(iter(self._hits))]  # the oldest key goes
                    hits = self._hits[key] = deque(maxlen=MAX_HITS_PER_KEY)
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if add:
                    hits.append(now)
                out.append(len(hits))
        return out


class RedisWindowCounter:
    """Windows in Redis sorted sets, every op of a call in one pipeline."""

    def __init__(self, client: redis.Redis, prefix: str = "ringtrail:bots") -> None:
        self.prefix = prefix
        self._client = client

    def counts(self, ops: Sequence[tuple[str, timedelta, bool]], now: datetime) -> list[int]:
        now_ms = int(now.timestamp() * 1000)
        pipe = self._client.pipeline(transaction=False)
        for key, window, add in ops:
            name, window_ms = f"{self.prefix}:{key}", int(window.total_seconds() * 1000)
            pipe.zremrangebyscore(name, "-inf", now_ms - window_ms)
            if add:
                pipe.zadd(name, {uuid.uuid4().hex: now_ms})
                pipe.pexpire(name, window_ms)
            pipe.zcard(name)
        replies = pipe.execute()
        out, at = [], 0
        for _key, _window, add in ops:
            at += 4 if add else 2
            out.append(int(replies[at - 1]))
        return out


@dataclass(frozen=True)
class VisitSignals:
    """What a visit start shows of its client, besides the User-Agent."""

    project_id: int
    user_agent: str
    address: str
    address_hash: str
    visitor: str | None  # the returning visitor's public id; None for a new visitor
    kept_nothing: bool  # no visitor token and no analytics cookie came with it
    pool_view: bool  # a visible page view whose rule points at a pool


@dataclass(frozen=True)
class Verdict:
    """A signal's answer: `bot` true with `kind` for a suspected bot, false with kind
    "owner_allowed" when the allow-list lets the visitor through; `detail` says why."""

    bot: bool
    kind: str
    detail: str


class BotSignals:
    """The behavioural and owner's signals of visit starts and heartbeats. Thread-safe."""

    def __init__(self, counter: WindowCounter | None = None) -> None:
        self.counter = counter or MemoryWindowCounter()

    def listed(self, policy: BotPolicy, user_agent: str, address: str) -> Verdict | None:
        """The owner's lists' word on this visitor, if they have one."""
        found = policy.listed(user_agent, address)
        if found is None:
            return None
        verdict, entry = found
        if verdict == "deny":
            return Verdict(True, "owner_denied", DETAILS["owner_denied"].format(entry=entry))
        return Verdict(False, "owner_allowed", f"the project's allow-list names it ({entry})")

    def verdict(self, policy: BotPolicy, visit: VisitSignals, now: datetime) -> Verdict | None:
        """A suspected bot's kind and why, or None for a visit that looks like a person's."""
        if policy.data_centres:
            provider = datacentre_of(parse_address(visit.address))
            if provider is not None:
                detail = DETAILS["data_centre"].format(provider=provider)
                return Verdict(True, "data_centre", detail)
        if not policy.behaviour:
            return None
        project = visit.project_id
        ops: list[tuple[str, timedelta, bool]] = []
        if visit.visitor is None:
            ops.append((f"new:{project}:{visit.address_hash}", BUSY_ADDRESS_WINDOW, True))
            if visit.kept_nothing:
                client = _digest(f"{visit.address_hash}|{visit.user_agent}")
                ops.append((f"bare:{project}:{client}", NO_STORAGE_WINDOW, True))
        else:
            ops.append((f"views:{project}:{visit.visitor}", NO_HEARTBEAT_WINDOW, visit.pool_view))
            ops.append((f"beat:{project}:{visit.visitor}", NO_HEARTBEAT_WINDOW, False))
        counts = self.counter.counts(ops, now)
        if visit.visitor is None:
            if counts[0] > BUSY_ADDRESS_VISITORS:
                return Verdict(True, "busy_address", DETAILS["busy_address"])
            if len(counts) > 1 and counts[1] >= NO_STORAGE_VIEWS:
                return Verdict(True, "no_storage", DETAILS["no_storage"])
            return None
        views, beats = counts
        if views > NO_HEARTBEAT_VIEWS and beats == 0:
            return Verdict(True, "no_heartbeat", DETAILS["no_heartbeat"])
        return None

    def heartbeat(self, project_id: int, visitor: str, now: datetime) -> None:
        """Note a heartbeat from a visible tab (the script sends none from a hidden one)."""
        self.counter.counts([(f"beat:{project_id}:{visitor}", NO_HEARTBEAT_WINDOW, True)], now)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
