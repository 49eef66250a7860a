"""Benchmark of the tracking API: visit starts against a bare JSON endpoint, per lease backend.

    python bench/tracking_bench.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each lease backend (SQL, Redis) it creates its own database, seeds a project with a pool
of --pool-size numbers, serves the real app with `ringtrail serve` (--processes of them, the
load spread evenly, as a reverse proxy would) in subprocesses, and drives it from
another process at a fixed rate (open loop: latency counts from the moment a request was due,
so a server that falls behind is not flattered), first GET /t/v1/ping, then POST /t/v1/visit
with a new visitor each time. It then measures capacity (closed loop, --concurrency requests
in flight). Prints a table and writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ringtrail.settings import Settings  # noqa: E402
from ringtrail.storage import migrate  # noqa: E402
from ringtrail.storage.models import (  # noqa: E402
    Organization,
    Pool,
    Project,
    SourceRule,
    TrackingNumber,
)

SITE = "bench.example"
WARM_UP_SECONDS = 1.0
MAIN_NUMBER = "+380441230000"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


# --- database ---------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return Settings(database_url=url).sqlalchemy_url


def create_database(admin_url: str) -> str:
    """A fresh database on the server of `admin_url`; returns its URL."""
    name = f"ringtrail_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def seed(url: str, pool_size: int) -> str:
    """A project on `SITE` whose Google Ads visits take numbers from a pool; returns its key."""
    migrate.upgrade(sqlalchemy_url(url))
    engine = create_engine(sqlalchemy_url(url))
    key = uuid.uuid4().hex
    with engine.begin() as connection:
        org_id = connection.execute(
            insert(Organization).values(name="Bench", slug="bench", created_at=datetime.now(UTC))
        ).inserted_primary_key[0]  # type: ignore[index]
        project_id = connection.execute(
            insert(Project).values(
                organization_id=org_id,
                name="Bench",
                slug="bench",
                public_key=key,
                timezone="UTC",
                currency="USD",
                default_country="UA",
                allowed_domains=[SITE],
                main_number=MAIN_NUMBER,
                replace_numbers=[],
                swap_selectors=[],
                attribution_touch="last",
                grace_minutes=15,
                cooldown_minutes=30,
                unique_call_window_days=30,
                recording_retention_days=365,
                target_call_goal_percent=80,
                webhook_secret="bench",
                extra={},
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        pool_id = connection.execute(
            insert(Pool).values(
                project_id=project_id,
                name="Google Ads",
                is_active=True,
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        rows = [
            {
                "project_id": project_id,
                "e164": f"+38067{index:07d}",
                "kind": "pool",
                "pool_id": pool_id,
                "is_pool_default": index == pool_size,
                "label": "",
                "offline_only": False,
                "is_active": True,
                "created_at": datetime.now(UTC),
            }
            for index in range(pool_size + 1)
        ]
        connection.execute(insert(TrackingNumber), rows)
        connection.execute(
            insert(SourceRule).values(
                project_id=project_id,
                name="Google Ads",
                priority=10,
                conditions=[{"field": "utm_source", "op": "equals", "value": "google"}],
                pool_id=pool_id,
                is_active=True,
                created_at=datetime.now(UTC),
            )
        )
    with engine.connect() as connection:  # statistics, as a database in use has them
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    return key


# --- server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """One `ringtrail serve` process, as production runs it (proxy headers on, which trusts
    X-Forwarded-For from localhost, the proxy's place; garbage collector frozen after start)."""
    command = [sys.executable, "-c", "from ringtrail.cli.main import main; main()", "serve"]
    settings = {
        **env,
        "RINGTRAIL_HOST": "127.0.0.1",
        "RINGTRAIL_PORT": str(port),
        "RINGTRAIL_LOG_LEVEL": "warning",
        "RINGTRAIL_RUN_JOBS": "false",
    }
    process = subprocess.Popen(command, env={**os.environ, **settings}, cwd=ROOT)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/t/v1/ping", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def script_size(port: int) -> dict[str, int] | None:
    """Raw and gzipped size of /t.js, if the app serves one."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/t.js", timeout=5) as response:
            body = response.read()
    except OSError:
        return None
    return {"bytes": len(body), "gzip_bytes": len(gzip.compress(body, compresslevel=9))}


# --- load -------------------------------------------------------------------------------


def ping_request(_index: int, _key: str) -> bytes:
    return b"GET /t/v1/ping HTTP/1.1\r\nHost: bench\r\n\r\n"


def visit_request(index: int, key: str) -> bytes:
    body = json.dumps(
        {
            "key": key,
            "visitor": None,
            "url": f"https://{SITE}/flats?utm_source=google&utm_medium=cpc&utm_campaign=bench"
            f"&gclid=bench-{index}-{uuid.uuid4().hex[:8]}",
            "referrer": "https://www.google.com/",
            "cookies": {"_ga": f"GA1.1.{random.randint(10**8, 10**9)}.1700000000"},
            "visible": True,
        }
    ).encode()
    address = f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
    head = (
        "POST /t/v1/visit HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\n"
        f"Origin: https://{SITE}\r\nUser-Agent: {USER_AGENT}\r\nX-Forwarded-For: {address}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


BUILDERS = {"ping": ping_request, "visit": visit_request}


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    writer.write(payload)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _drive(
    ports: list[int],
    kind: str,
    key: str,
    rate: float | None,
    duration: float,
    concurrency: int,
    offset: int,
) -> dict[str, Any]:
    """Open loop at `rate` req/s, or closed loop (`rate` None) with `concurrency` in flight."""
    build = BUILDERS[kind]
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    samples: list[tuple[float, float, int]] = []  # (due, done, status)
    counter = iter(range(offset, offset + 10_000_000))

    async def connection(closed_loop_until: float | None, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                if closed_loop_until is not None:
                    if time.perf_counter() >= closed_loop_until:
                        return
                    due, payload = time.perf_counter(), build(next(counter), key)
                else:
                    item = await queue.get()
                    if item is None:
                        return
                    due, payload = item
                status = await _exchange(reader, writer, payload)
                samples.append((due, time.perf_counter(), status))
        finally:
            writer.close()

    started = time.perf_counter()
    if rate is None:
        await asyncio.gather(
            *(connection(started + duration, ports[i % len(ports)]) for i in range(concurrency))
        )
    else:
        workers = [
            asyncio.create_task(connection(None, ports[i % len(ports)])) for i in range(concurrency)
        ]
        total = int(rate * duration)
        for index in range(total):
            due = started + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, build(next(counter), key)))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    latencies = sorted((done - due) * 1000 for due, done, _ in samples)
    statuses: dict[str, int] = {}
    for _, _, status in samples:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def pct(p: float) -> float:
        return _percentile(latencies, p)

    seconds: dict[int, list[float]] = {}
    for due, done, _ in samples:
        seconds.setdefault(int(due - started), []).append((done - due) * 1000)
    return {
        "requests": len(samples),
        "seconds": round(elapsed, 2),
        "throughput": round(len(samples) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "statuses": statuses,
        "per_second": [_second(second, seconds[second]) for second in sorted(seconds)],
    }


def _percentile(ordered: list[float], p: float) -> float:
    """The p-th quantile (0..1) of sorted latencies, rounded to 0.01 ms."""
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def _second(second: int, latencies: list[float]) -> dict[str, float]:
    """Latencies of the requests due in one second of a phase (where a queue began)."""
    ordered = sorted(latencies)
    return {
        "second": second,
        "requests": len(ordered),
        "p50_ms": _percentile(ordered, 0.50),
        "p99_ms": _percentile(ordered, 0.99),
    }


def drive(*args: Any) -> dict[str, Any]:
    """Run one load phase (in the load-generator process)."""
    return asyncio.run(_drive(*args))


# --- orchestration ----------------------------------------------------------------------


def server_env(url: str, backend: str, redis_url: str, prefix: str) -> dict[str, str]:
    """Settings of a `serve` process on database `url` with the `backend` lease backend."""
    return {
        "RINGTRAIL_DATABASE_URL": url,
        "RINGTRAIL_LEASE_BACKEND": backend,
        "RINGTRAIL_REDIS_URL": redis_url if backend == "redis" else "",
        "RINGTRAIL_REDIS_KEY_PREFIX": prefix,
        "RINGTRAIL_SECRET_KEY": "bench-secret-key-not-for-production",
        "RINGTRAIL_DATA_DIR": tempfile.mkdtemp(prefix="ringtrail-bench-"),
        "RINGTRAIL_AUTO_MIGRATE": "false",
    }


def forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Delete the keys a Redis-backed run left under `prefix`."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def run_backend(
    options: argparse.Namespace, backend: str, loader: ProcessPoolExecutor
) -> dict[str, Any]:
    url = create_database(options.database_url)
    prefix = f"ringtrail-bench-{uuid.uuid4().hex[:8]}"
    sweep = [float(rate) for rate in options.sweep.split(",") if rate.strip()]
    warm_up = int(options.rate * WARM_UP_SECONDS)
    swept = int(sum(sweep) * options.sweep_seconds)
    try:  # the pool has room for the measured phase whatever the warm-up and sweep took
        key = seed(url, options.pool_size + warm_up + swept)
        ports = [free_port() for _ in range(options.processes)]
        env = server_env(url, backend, options.redis_url, prefix)
        servers = [start_server(env, port) for port in ports]
        try:

            def phase(
                kind: str, rate: float | None, duration: float, offset: int
            ) -> dict[str, Any]:
                return loader.submit(
                    drive, ports, kind, key, rate, duration, options.concurrency, offset
                ).result()

            # warm-up at the target rate: caches, connection pools, prepared statements
            phase("visit", options.rate, WARM_UP_SECONDS, 9_000_000)
            phase("ping", options.rate, WARM_UP_SECONDS, 0)
            swept_phases = [
                {
                    "rate": rate,
                    **phase("visit", rate, options.sweep_seconds, 5_000_000 + i * 100_000),
                }
                for i, rate in enumerate(sweep)
            ]
            result: dict[str, Any] = {
                "sweep": swept_phases,
                "backend": backend,
                "ping": phase("ping", options.rate, options.duration, 0),
                "visit": phase("visit", options.rate, options.duration, 0),
                "ping_capacity": phase("ping", None, options.capacity_seconds, 0),
                "visit_capacity": phase("visit", None, options.capacity_seconds, 1_000_000),
                "script": script_size(ports[0]),
            }
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=10)
        result["ratio_at_rate"] = round(
            result["visit"]["throughput"] / result["ping"]["throughput"], 3
        )
        result["ratio_capacity"] = round(
            result["visit_capacity"]["throughput"] / result["ping_capacity"]["throughput"], 3
        )
        return result
    finally:
        drop_database(options.database_url, url)
        if backend == "redis":
            forget_redis_keys(options.redis_url, prefix)


def print_table(results: list[dict[str, Any]], options: argparse.Namespace) -> None:
    print(f"\nrate {options.rate} req/s for {options.duration} s, pool {options.pool_size}, "
          f"{options.processes} serve process(es), {os.cpu_count()} CPUs")  # fmt: skip
    header = (
        f"{'backend':8} {'phase':15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        "  statuses"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        rows = [
            (phase, result[phase]) for phase in ("ping", "visit", "ping_capacity", "visit_capacity")
        ]
        rows += [(f"visit@{row['rate']:g}", row) for row in result["sweep"]]
        for phase, row in rows:
            print(
                f"{result['backend']:8} {phase:15} {row['throughput']:8.1f} {row['p50_ms']:8.2f} "
                f"{row['p99_ms']:8.2f} {row['max_ms']:8.2f}  {row['statuses']}"
            )
        print(
            f"{result['backend']:8} visit/ping ratio: {result['ratio_at_rate']} at the target "
            f"rate, {result['ratio_capacity']} at capacity; /t.js: {result['script']}"
        )


def server_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every tracking bench takes: where, and which backends."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", required=True, help="PostgreSQL server (any db)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--backends", default="sql,redis")
    return parser


def main() -> None:
    parser = server_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--capacity-seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--processes", type=int, default=1, help="`ringtrail serve` processes, load spread evenly"
    )
    parser.add_argument(
        "--sweep",
        default="",
        help="more visit rates to measure before the main phases, e.g. 100,200,300 (where "
        "the p99 stays low)",
    )
    parser.add_argument("--sweep-seconds", type=float, default=5.0)
    parser.add_argument(
        "--pool-size", type=int, default=5000, help="free numbers left for the measured phase"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    options = parser.parse_args()
    results = []
    with ProcessPoolExecutor(max_workers=1) as loader:
        for backend in options.backends.split(","):
            results.append(run_backend(options, backend.strip(), loader))
    print_table(results, options)
    options.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = options.output / f"tracking-{stamp}.json"
    path.write_text(
        json.dumps(
            {"options": {k: str(v) for k, v in vars(options).items()}, "cpus": os.cpu_count(),
             "results": results},
            indent=2,
        )
    )  # fmt: skip
    print(f"\nwritten to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
