"""The senders: website visitors through the tracking API and a PBX through the signed webhook.

Every request goes through `Balancer`, which spreads them round-robin over the API processes
and, like nginx's `proxy_next_upstream error`, passes a request whose connection is refused on
to the next process. Above it the senders behave like real ones:

- a visitor starts a visit (a Google Ads click, so it takes a pool number), views a second
  page, sends heartbeats while its tab is open, then leaves; a failed request is not
  retried (the tracking script shows the page's own numbers and tries at the next beat);
- the PBX sends each call as three events (started, answered, ended), each with a stable
  `event_id`, and retries an event with backoff until it is accepted (2xx) or the run's
  deadline passes; a retry is signed anew and sent to the next process.

What each side was told is kept in `Ledger`, for the checks afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ringtrail.telephony.signed import sign

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
"""A provider gives up on a webhook after about 10 to 15 s; a browser waits longer."""


@dataclass(frozen=True)
class Attempt:
    """One HTTP request as sent to one process, and how it ended (`outcome`: "ok", "http 503",
    "http 4xx", "connection refused", "timeout" or "connection dropped")."""

    kind: str
    port: int
    sent: float
    done: float
    outcome: str

    @property
    def failed(self) -> bool:
        """A failure of the service (a 4xx is an answer, not a failure)."""
        return self.outcome != "ok" and not self.outcome.startswith("http 4")


@dataclass
class Hold:
    """A pool number one visitor was told it holds, from `shown` (when it learnt so) until
    `until` (the latest end it was told, or for a visit start the least it can be)."""

    visitor_id: int
    number: str
    shown: float
    until: float


@dataclass
class Delivery:
    """One call event and what its sender went through to deliver it."""

    event_id: str
    call_id: str
    kind: str
    attempts: int = 0
    refused: int = 0
    accepted: bool = False
    rejected: str | None = None


@dataclass
class Ledger:
    """What the senders sent and were told."""

    attempts: list[Attempt] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    visits: list[tuple[int, int]] = field(default_factory=list)  # (visit id, visitor id)
    lost_holds: list[str] = field(default_factory=list)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    talk_seconds: dict[str, int] = field(default_factory=dict)


def classify(exc: httpx.HTTPError) -> str:
    """The kind of a transport error."""
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "connection dropped"


class Balancer:
    """Round-robin over the API processes, passing refused connections on to the next one."""

    def __init__(self, ports: list[int], ledger: Ledger) -> None:
        self.ports = ports
        self.ledger = ledger
        self._turn = 0
        self.client = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=300)
        )

    async def post(
        self, kind: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[httpx.Response | None, float]:
        """The answer (None if no process gave one) and when the request was first sent."""
        first_sent: float | None = None
        for _ in self.ports:
            port = self.ports[self._turn % len(self.ports)]
            self._turn += 1
            sent = time.time()
            first_sent = first_sent or sent
            try:
                response = await self.client.post(
                    f"http://127.0.0.1:{port}{path}", content=body, headers=headers
                )
            except httpx.HTTPError as exc:
                outcome = classify(exc)
                self.ledger.attempts.append(Attempt(kind, port, sent, time.time(), outcome))
                if outcome == "connection refused":
                    continue
                return None, first_sent
            status = response.status_code
            outcome = "ok" if status < 300 else f"http {status}"
            if status == 503 and "retry-after" not in response.headers:
                outcome += " without Retry-After"
            self.ledger.attempts.append(Attempt(kind, port, sent, time.time(), outcome))
            return response, first_sent
        return None, first_sent or time.time()

    async def close(self) -> None:
        await self.client.aclose()


@dataclass(frozen=True)
class Shape:
    """How the load looks: rates, a visitor's stay, the run's deadline for call events."""

    visit_rate: float
    call_rate: float
    stay: tuple[float, float]
    heartbeat_seconds: float
    grace_seconds: float
    retry_cap: float


class Senders:
    """Visitors and a PBX against one project until `stop()`; call events until its grace."""

    def __init__(
        self,
        balancer: Balancer,
        ledger: Ledger,
        *,
        public_key: str,
        webhook_secret: str,
        site: str,
        default_number: str,
        shape: Shape,
        seed: int,
    ) -> None:
        self.balancer = balancer
        self.ledger = ledger
        self.key = public_key
        self.secret = webhook_secret
        self.site = site
        self.default_number = default_number
        self.shape = shape
        self.random = random.Random(seed)
        self.run_id = f"{seed:x}{int(time.time()):x}"
        self.live: dict[int, str] = {}  # visitor id -> number it holds now (for calls)
        self.stop_at = 0.0
        self.deadline = 0.0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Start visitors and calls at their rates until `stop()`, then wait for the visitors
        to leave and the call events to be delivered."""
        self.stop_at = self.deadline = float("inf")
        tasks = [
            asyncio.create_task(self._arrivals(self.shape.visit_rate, self._visitor)),
            asyncio.create_task(self._arrivals(self.shape.call_rate, self._call)),
        ]
        await asyncio.gather(*tasks)

    def stop(self, grace: float) -> None:
        """No new visitors or calls from now; events still refused get `grace` more seconds."""
        self.stop_at = time.time()
        self.deadline = self.stop_at + grace
        self._stopping.set()

    async def _arrivals(self, rate: float, start: Any) -> None:
        """Poisson arrivals at `rate` a second until `stop_at`, each its own task."""
        children: set[asyncio.Task[None]] = set()
        index = 0
        while rate > 0:
            await asyncio.sleep(self.random.expovariate(rate))
            if time.time() >= self.stop_at:
                break
            index += 1
            task = asyncio.create_task(start(index))
            children.add(task)
            task.add_done_callback(children.discard)
        if children:
            await asyncio.gather(*children)

    # --- visitors ------------------------------------------------------------------------

    async def _visitor(self, index: int) -> None:
        address = f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
        headers = {
            "Content-Type": "text/plain",
            "Origin": f"https://{self.site}",
            "User-Agent": BROWSER,
            "X-Forwarded-For": address,
        }
        landing = (
            f"https://{self.site}/flats?utm_source=google&utm_medium=cpc&utm_campaign=fault"
            f"&gclid=fault-{self.run_id}-{index}"
        )
        started = await self._page(headers, None, landing, "https://www.google.com/")
        if started is None:
            return
        visitor_token, visit_token, hold = started
        stay_ends = time.time() + self.random.uniform(*self.shape.stay)
        page_at = time.time() + self.random.uniform(1.0, self.shape.heartbeat_seconds)
        while True:
            wake = min(page_at, time.time() + self.shape.heartbeat_seconds)
            with contextlib.suppress(TimeoutError):  # the run's end wakes every visitor
                await asyncio.wait_for(self._stopping.wait(), max(0.0, wake - time.time()))
            if time.time() >= min(stay_ends, self.stop_at):
                break
            if page_at <= time.time():
                page_at = float("inf")
                url = f"https://{self.site}/contacts"
                again = await self._page(
                    headers, visitor_token, url, f"https://{self.site}/flats", hold
                )
                if again is not None:
                    visitor_token, visit_token, hold = again
            elif hold is not None:
                hold = await self._heartbeat(headers, visitor_token, visit_token, hold)
        if hold is not None:
            self.live.pop(hold.visitor_id, None)

    async def _page(
        self,
        headers: dict[str, str],
        visitor_token: str | None,
        url: str,
        referrer: str,
        hold: Hold | None = None,
    ) -> tuple[str, str, Hold | None] | None:
        """A page view: the visitor and visit tokens and the hold it shows, None on failure."""
        body = {
            "key": self.key,
            "visitor": visitor_token,
            "url": url,
            "referrer": referrer,
            "cookies": {"_ga": f"GA1.1.{self.random.randint(10**8, 10**9)}.1700000000"},
            "visible": True,
        }
        kind = "visit start" if visitor_token is None else "page view"
        response, sent = await self.balancer.post(
            kind, "/t/v1/visit", json.dumps(body).encode(), headers
        )
        if response is None or response.status_code != 200:
            return None
        answer = response.json()
        parts = answer["visit"].split(".")
        visit_id, visitor_id = int(parts[1]), int(parts[2])
        self.ledger.visits.append((visit_id, visitor_id))
        pool = {n["number"] for n in answer["numbers"] if n["kind"] == "pool"}
        received = time.time()
        if hold is not None and (pool != {hold.number}) and sent < hold.until:
            self.ledger.lost_holds.append(
                f"visitor {visitor_id} was shown {sorted(pool) or 'no pool number'} on its "
                f"next page while it held {hold.number} for {hold.until - sent:.1f} s more"
            )
        new_hold = None
        if pool:
            (number,) = pool
            new_hold = self._confirm(
                visitor_id, number, received, sent + self.shape.grace_seconds, hold
            )
            self.live[visitor_id] = number
        return answer["visitor"], answer["visit"], new_hold

    async def _heartbeat(
        self, headers: dict[str, str], visitor_token: str, visit_token: str, hold: Hold
    ) -> Hold | None:
        body = {"key": self.key, "visitor": visitor_token, "visit": visit_token}
        response, sent = await self.balancer.post(
            "heartbeat", "/t/v1/heartbeat", json.dumps(body).encode(), headers
        )
        if response is None or response.status_code >= 500:
            return hold  # the script tries again at the next beat
        if response.status_code in (404, 410):
            if sent < hold.until:
                self.ledger.lost_holds.append(
                    f"visitor {hold.visitor_id} was told its hold of {hold.number} is gone "
                    f"({response.status_code}) {hold.until - sent:.1f} s before it was to end"
                )
            self.live.pop(hold.visitor_id, None)
            return None
        if response.status_code != 200:
            return hold
        until = datetime.fromisoformat(response.json()["hold_until"]).timestamp()
        return self._confirm(hold.visitor_id, hold.number, time.time(), until, hold)

    def _confirm(
        self, visitor_id: int, number: str, received: float, until: float, hold: Hold | None
    ) -> Hold:
        """Note that the visitor was told it holds `number` until at least `until`: the same
        hold if the answer came while the last one was surely still running, else a new one."""
        if hold is not None and hold.number == number and received < hold.until:
            hold.until = max(hold.until, until)
            return hold
        fresh = Hold(visitor_id, number, received, until)
        self.ledger.holds.append(fresh)
        return fresh

    # --- calls ---------------------------------------------------------------------------

    async def _call(self, index: int) -> None:
        call_id = f"fault-{self.run_id}-{index}"
        held = list(self.live.values())
        dialled = self.random.choice(held) if held and self.random.random() < 0.8 else None
        caller = f"+38067{self.random.randint(1_000_000, 9_999_999)}"
        talk = self.random.randint(1, 600)
        self.ledger.talk_seconds[call_id] = talk
        started = {"to": dialled or self.default_number, "from": caller}
        ended = {"outcome": "answered", "total_seconds": talk + 5, "talk_seconds": talk}
        for kind, extra in (("started", started), ("answered", {}), ("ended", ended)):
            event = {
                "event": f"call.{kind}",
                "call_id": call_id,
                "event_id": f"{call_id}:{kind}",
                "occurred_at": datetime.now(UTC).isoformat(),
                **extra,
            }
            await self._deliver(call_id, kind, event)
            await asyncio.sleep(self.random.uniform(0.2, 1.0))

    async def _deliver(self, call_id: str, kind: str, event: dict[str, Any]) -> None:
        """Send one event until it is accepted, refused for good (4xx), or the deadline."""
        delivery = Delivery(event["event_id"], call_id, kind)
        self.ledger.deliveries[delivery.event_id] = delivery
        body = json.dumps(event).encode()
        path = f"/hooks/v1/{self.key}/calls"
        while True:
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "X-Ringtrail-Timestamp": str(stamp),
                "X-Ringtrail-Signature": sign(self.secret, stamp, body),
            }
            delivery.attempts += 1
            response, _ = await self.balancer.post("call event", path, body, headers)
            if response is not None and response.status_code < 300:
                delivery.accepted = True
                return
            status = response.status_code if response is not None else 0
            if 400 <= status < 500 and status not in (408, 429):
                delivery.rejected = f"{status}: {response.text[:200] if response else ''}"
                return
            delivery.refused += 1
            if time.time() >= self.deadline:
                return
            backoff = min(self.shape.retry_cap, 0.25 * 2 ** min(delivery.refused, 8))
            await asyncio.sleep(backoff * self.random.uniform(0.5, 1.0))
