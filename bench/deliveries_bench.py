"""Drain a backlog of pending deliveries to a local HTTP server with the real worker pass.

    python bench/deliveries_bench.py --database-url postgresql://postgres@127.0.0.1:5432/test \
        [--count 100000] [--batch 500] [--concurrency 16]

Creates a fresh PostgreSQL database on that server (dropped at the end), a project with one
destination of a bench kind (a JSON POST per delivery, like a CRM webhook), `--count` ended
calls and one pending "conversion" delivery per call (bulk-inserted), then calls
`services.deliveries.worker.deliver_due` until nothing is due, as the jobs runner does. The
server is uvicorn with a trivial ASGI app in its own process, answering 200 and counting the
distinct dedupe keys it received. Prints deliveries per second and checks that every
delivery was accepted and arrived once.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import tracking_bench as tb  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from ringtrail.integrations import registry  # noqa: E402
from ringtrail.integrations.base import (  # noqa: E402
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.runtime import bootstrap  # noqa: E402
from ringtrail.services.accounts import get_or_create_organization  # noqa: E402
from ringtrail.services.deliveries.destinations import create_destination  # noqa: E402
from ringtrail.services.deliveries.worker import deliver_due  # noqa: E402
from ringtrail.services.projects import create_project  # noqa: E402
from ringtrail.settings import Settings  # noqa: E402
from ringtrail.storage import migrate  # noqa: E402
from ringtrail.storage.models import Call, OutboundDelivery  # noqa: E402

KIND = "bench_sink"
CHUNK = 5000


class BenchConfig(BaseModel):
    url: str
    token: str


class BenchDestination:
    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "Bench sink"
    config_model: ClassVar[type[BaseModel]] = BenchConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})
    on_change: ClassVar[OnChange] = "nothing"

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        key = f"{facts.subject_kind}-{facts.subject_id}-{conversion.event}"
        payload = {
            "event": conversion.name,
            "phone": facts.phone_e164,
            "at": facts.occurred_at.isoformat(),
            "talk_seconds": facts.talk_seconds,
            "dedupe_key": key,
        }
        return Prepared(payload, key)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        assert isinstance(config, BenchConfig)
        answer = client.post(
            config.url, json=prepared.payload, headers={"Authorization": config.token}
        )
        if answer.status_code < 300:
            return SendResult("accepted", answer.status_code, {})
        if answer.status_code >= 500:
            return SendResult("retry", answer.status_code, {}, "server error")
        return SendResult("rejected", answer.status_code, {}, "refused")

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        return dict(payload)


def register() -> None:
    module = types.ModuleType("bench_sink_destination")
    module.DESTINATION = BenchDestination()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    registry.KINDS[KIND] = module.__name__
    registry.destination.cache_clear()


# -- the server (run with --serve PORT in its own process) ----------------------------------

_keys: set[str] = set()
_requests = [0]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "GET":
        raw = json.dumps({"requests": _requests[0], "keys": len(_keys)}).encode()
    else:
        _requests[0] += 1
        _keys.add(json.loads(body)["dedupe_key"])
        raw = b'{"ok":true}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the bench ----------------------------------------------------------------------------


def seed(url: str, sink_url: str, count: int) -> None:
    migrate.upgrade(tb.sqlalchemy_url(url))
    runtime = bootstrap(Settings(database_url=url, secret_key="bench-secret-key-0123456789abcdef"))
    try:
        with runtime.sessions() as db:
            organization = get_or_create_organization(db, "Bench")
            project = create_project(db, organization, "Bench", default_country="UA")
            destination = create_destination(
                db,
                project,
                kind=KIND,
                name="Bench sink",
                config={"url": sink_url, "token": "bench-token-1234"},
            )
            db.commit()
            project_id, destination_id = project.id, destination.id
        started = datetime.now(UTC) - timedelta(hours=1)
        with runtime.engine.begin() as connection:
            for first in range(0, count, CHUNK):
                size = min(CHUNK, count - first)
                calls = [
                    {
                        "project_id": project_id,
                        "provider": "bench",
                        "provider_call_id": f"bench-{first + i}",
                        "direction": "inbound",
                        "caller_e164": f"+38067{first + i:07d}",
                        "dialled_e164": "+380441234567",
                        "started_at": started,
                        "answered_at": started + timedelta(seconds=5),
                        "ended_at": started + timedelta(seconds=95),
                        "duration_seconds": 95,
                        "talk_seconds": 90,
                        "status": "answered",
                        "needs_callback": False,
                        "attribution_kind": "unattributed",
                        "attribution_reason": "",
                        "confidence": 0.0,
                        "candidates": [],
                        "snapshot": {},
                        "created_at": started,
                    }
                    for i in range(size)
                ]
                ids = connection.execute(insert(Call).returning(Call.id), calls).scalars().all()
                connection.execute(
                    insert(OutboundDelivery),
                    [
                        {
                            "project_id": project_id,
                            "destination": str(destination_id),
                            "destination_id": destination_id,
                            "subject_kind": "call",
                            "subject_id": call_id,
                            "event_name": "conversion",
                            "sequence": 0,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": started,
                            "payload": {},
                            "response": {},
                            "created_at": started,
                        }
                        for call_id in ids
                    ],
                )
    finally:
        runtime.close()


def drain(url: str, options: argparse.Namespace) -> dict[str, Any]:
    runtime = bootstrap(Settings(database_url=url, secret_key="bench-secret-key-0123456789abcdef"))
    cache: dict[int, Any] = {}
    passes = 0
    limits = httpx.Limits(
        max_connections=options.concurrency, max_keepalive_connections=options.concurrency
    )
    try:
        with httpx.Client(timeout=10, limits=limits) as client:
            started = time.perf_counter()
            cpu = time.process_time()
            while True:
                report = deliver_due(
                    runtime.sessions,
                    client,
                    datetime.now(UTC),
                    limit=options.batch,
                    concurrency=options.concurrency,
                    destinations_cache=cache,
                )
                passes += 1
                if not report.claimed:
                    break
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu
        with runtime.sessions() as db:
            statuses = dict(
                db.execute(
                    select(OutboundDelivery.status, func.count()).group_by(OutboundDelivery.status)
                ).all()
            )
    finally:
        runtime.close()
    return {
        "seconds": round(elapsed, 2),
        "worker_cpu_seconds": round(cpu_used, 2),
        "passes": passes,
        "statuses": statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server (any database on it)")
    parser.add_argument("--count", type=int, default=100_000, help="pending deliveries")
    parser.add_argument("--batch", type=int, default=500, help="deliveries per pass")
    parser.add_argument("--concurrency", type=int, default=16, help="sends at once")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.serve)
        return 0
    if not options.database_url:
        parser.error("--database-url is required")
    register()
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])  # noqa: S603
    sink = f"http://127.0.0.1:{port}/collect"
    url = tb.create_database(options.database_url)
    try:
        for _ in range(100):
            try:
                httpx.get(sink, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        seeding = time.perf_counter()
        seed(url, sink, options.count)
        print(f"seeded {options.count} pending deliveries in {time.perf_counter() - seeding:.1f} s")
        figures = drain(url, options)
        stats = httpx.get(sink, timeout=5).json()
    finally:
        server.terminate()
        server.wait(10)
        tb.drop_database(options.database_url, url)
    rate = options.count / figures["seconds"] if figures["seconds"] else 0.0
    print(
        f"drained {options.count} deliveries in {figures['seconds']} s: {rate:.0f}/s "
        f"({figures['passes']} passes of up to {options.batch}, {options.concurrency} at once, "
        f"worker CPU {figures['worker_cpu_seconds']} s)"
    )
    print(
        f"statuses: {figures['statuses']}; server: {stats['requests']} requests, "
        f"{stats['keys']} distinct dedupe keys"
    )
    ok = figures["statuses"] == {"accepted": options.count} and stats["keys"] == options.count
    print("every delivery accepted and received once: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
