"""Benchmark of call ingestion on PostgreSQL: events per second, in process and over HTTP.

    python bench/ingest_bench.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

It creates its own database, seeds a project with a pool of --pool-size numbers and
--holds past holds of those numbers (so attribution ranks real candidates), then ingests
calls of four events each (started, answered, ended, recording ready):

- `service`: `CallIngestion.ingest_many` called from --threads threads, --batch events per
  call (one transaction each), as a queue consumer (`ringtrail sip-events`) would;
- `http`: the real app (--workers `ringtrail serve` processes) receiving the generic signed
  webhook, --concurrency requests in flight, --batch events per request; and once more with
  one event per request, the way Twilio and most providers deliver.

Every event is new (no duplicates), so each one is stored and its call rebuilt. Prints a
table and writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracking_bench as tb  # noqa: E402

from ringtrail.domain.calls import CallEvent  # noqa: E402
from ringtrail.runtime import bootstrap  # noqa: E402
from ringtrail.services.call_ingestion import CallIngestion  # noqa: E402
from ringtrail.settings import Settings  # noqa: E402
from ringtrail.storage.models import NumberLease, Project, TrackingNumber  # noqa: E402
from ringtrail.telephony.signed import sign  # noqa: E402

EVENTS_PER_CALL = 4


def seed_holds(url: str, holds: int) -> tuple[int, list[str]]:
    """Past holds spread over the pool's numbers in the last week; returns project, numbers."""
    engine = create_engine(tb.sqlalchemy_url(url))
    now = datetime.now(UTC)
    rng = random.Random(7)
    with engine.begin() as connection:
        project_id = connection.execute(select(Project.id)).scalar_one()
        numbers = connection.execute(
            select(TrackingNumber.id, TrackingNumber.e164, TrackingNumber.pool_id).where(
                TrackingNumber.is_pool_default.is_(False)
            )
        ).all()
        per_number: dict[int, datetime] = {}
        rows = []
        for index in range(holds):
            number = numbers[index % len(numbers)]
            start = per_number.get(number.id, now - timedelta(days=7)) + timedelta(
                minutes=rng.randint(30, 120)
            )
            per_number[number.id] = start
            heartbeat = start + timedelta(minutes=rng.randint(1, 10))
            until = heartbeat + timedelta(minutes=15)
            rows.append(
                {
                    "project_id": project_id,
                    "pool_id": number.pool_id,
                    "number_id": number.id,
                    "leased_at": start,
                    "last_heartbeat_at": heartbeat,
                    "hold_until": until,
                    "released_at": until if until < now else None,
                    "cooldown_until": until + timedelta(minutes=30) if until < now else None,
                    "snapshot": {"source": "google", "medium": "cpc", "campaign": f"c{index % 40}"},
                }
            )
        for offset in range(0, len(rows), 5000):
            connection.execute(insert(NumberLease), rows[offset : offset + 5000])
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return project_id, [n.e164 for n in numbers]


def call_events(call_id: str, number: str, at: datetime) -> list[dict[str, Any]]:
    """The four webhook events of one answered, recorded call."""
    caller = f"+38050{random.randint(0, 9_999_999):07d}"
    return [
        {"event": "call.started", "call_id": call_id, "occurred_at": at.isoformat(),
         "to": number, "from": caller},
        {"event": "call.answered", "call_id": call_id,
         "occurred_at": (at + timedelta(seconds=8)).isoformat()},
        {"event": "call.ended", "call_id": call_id,
         "occurred_at": (at + timedelta(seconds=98)).isoformat(), "outcome": "answered",
         "total_seconds": 98, "talk_seconds": 90},
        {"event": "call.recording_ready", "call_id": call_id,
         "occurred_at": (at + timedelta(seconds=100)).isoformat(),
         "recording_url": f"https://recordings.example/{call_id}.wav", "recording_duration": 90},
    ]  # fmt: skip


def make_calls(prefix: str, count: int, numbers: list[str]) -> list[list[dict[str, Any]]]:
    """`count` calls, one every 0.2 s up to now, each to a random pool number."""
    now = datetime.now(UTC)
    return [
        call_events(
            f"{prefix}-{index}",
            random.choice(numbers),
            now - timedelta(seconds=(count - index) / 5),
        )
        for index in range(count)
    ]


def to_events(project_id: int, raw: list[dict[str, Any]]) -> list[CallEvent]:
    from ringtrail.telephony.signed import parse

    return parse(json.dumps({"events": raw}).encode(), project_id)


def run_service(url: str, project_id: int, numbers: list[str], options: Any) -> dict[str, Any]:
    """CallIngestion.ingest_many from threads, --batch events per transaction."""
    settings = Settings(
        database_url=url, secret_key="bench-secret-key-not-for-production", run_jobs=False
    )
    runtime = bootstrap(settings)
    ingestion = CallIngestion(runtime.sessions)
    calls = make_calls("svc", options.calls, numbers)
    flat = [event for call in calls for event in call]
    batches = [
        to_events(project_id, flat[i : i + options.batch])
        for i in range(0, len(flat), options.batch)
    ]
    lock = threading.Lock()
    latencies: list[float] = []

    def worker() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            started = time.perf_counter()
            ingestion.ingest_many(batch, project_id=project_id)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(options.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    runtime.close()
    return {
        "mode": "service",
        "threads": options.threads,
        "batch": options.batch,
        "events": len(flat),
        "seconds": round(elapsed, 2),
        "events_per_second": round(len(flat) / elapsed),
        **_percentiles(latencies, "batch"),
    }


async def _post_all(
    bases: list[str], key: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float], int]:
    queue = list(reversed(bodies))
    latencies: list[float] = []
    failures = 0

    async def client_loop(client: httpx.AsyncClient, base: str) -> None:
        nonlocal failures
        while queue:
            body = queue.pop()
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "X-Ringtrail-Timestamp": str(stamp),
                "X-Ringtrail-Signature": sign("bench", stamp, body),
            }
            started = time.perf_counter()
            response = await client.post(
                f"{base}/hooks/v1/{key}/calls", content=body, headers=headers
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(client_loop(client, bases[i % len(bases)]) for i in range(concurrency))
        )
        return time.perf_counter() - started, latencies, failures


def run_http(
    url: str, key: str, numbers: list[str], options: Any, batch: int, prefix: str
) -> dict[str, Any]:
    """The signed webhook under uvicorn, `batch` events per request."""
    ports = [tb.free_port() for _ in range(options.workers)]
    env = {
        "RINGTRAIL_DATABASE_URL": url,
        "RINGTRAIL_SECRET_KEY": "bench-secret-key-not-for-production",
        "RINGTRAIL_RUN_JOBS": "false",
        "RINGTRAIL_LOG_LEVEL": "warning",
    }
    servers = [tb.start_server(env, port) for port in ports]
    try:
        count = options.calls if batch > 1 else max(options.calls // 4, 1)
        calls = make_calls(prefix, count, numbers)
        flat = [event for call in calls for event in call]
        if batch == 1:
            # As providers send them: each call's events in order, calls overlapping in time.
            bodies = [json.dumps(call[step]).encode() for step in range(4) for call in calls]
        else:
            bodies = [
                json.dumps({"events": flat[i : i + batch]}).encode()
                for i in range(0, len(flat), batch)
            ]
        elapsed, latencies, failures = asyncio.run(
            _post_all(
                [f"http://127.0.0.1:{port}" for port in ports], key, bodies, options.concurrency
            )
        )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    return {
        "mode": "http",
        "workers": options.workers,
        "batch": batch,
        "concurrency": options.concurrency,
        "events": len(flat),
        "failures": failures,
        "seconds": round(elapsed, 2),
        "events_per_second": round(len(flat) / elapsed),
        **_percentiles(latencies, "request"),
    }


def _percentiles(values: list[float], name: str) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        f"{name}_p50_ms": round(statistics.median(ordered) * 1000, 1),
        f"{name}_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL server (any db)")
    parser.add_argument("--calls", type=int, default=5000, help="calls per run (4 events each)")
    parser.add_argument("--batch", type=int, default=100, help="events per transaction/request")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=2, help="`ringtrail serve` processes, requests spread evenly"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pool-size", type=int, default=2000)
    parser.add_argument("--holds", type=int, default=50_000)
    parser.add_argument("--modes", default="service,http,http-single")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    options = parser.parse_args()

    url = tb.create_database(options.database_url)
    results = []
    try:
        key = tb.seed(url, options.pool_size)
        project_id, numbers = seed_holds(url, options.holds)
        modes = options.modes.split(",")
        if "service" in modes:
            results.append(run_service(url, project_id, numbers, options))
        if "http" in modes:
            results.append(run_http(url, key, numbers, options, options.batch, "http"))
        if "http-single" in modes:
            results.append(run_http(url, key, numbers, options, 1, "one"))
    finally:
        tb.drop_database(options.database_url, url)

    print(f"{'mode':<8} {'batch':>5} {'events':>7} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for row in results:
        p50 = row.get("batch_p50_ms", row.get("request_p50_ms"))
        p99 = row.get("batch_p99_ms", row.get("request_p99_ms"))
        print(
            f"{row['mode']:<8} {row['batch']:>5} {row['events']:>7} "
            f"{row['events_per_second']:>9} {p50:>8} {p99:>8}"
        )
    options.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = options.output / f"ingest-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "options": vars(options) | {"output": None},
                "results": results,
            },
            indent=2,
        )
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
