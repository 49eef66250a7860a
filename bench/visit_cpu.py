"""CPU per visit start: the app process and its PostgreSQL backends, one request at a time.

    python bench/visit_cpu.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each lease backend it seeds a database as tracking_bench.py does, serves the app with one
`ringtrail serve` process, sends --warm-up visit starts, then --requests more one after the
other (no queue, no contention), and reads the CPU time (user + system, from /proc) that the
app process and the PostgreSQL backends serving its database spent on them. Where the rate
benchmark says how fast, this says whose CPU it is. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import psycopg
import tracking_bench as tb

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process; 0 for one that has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def backends_of(admin_url: str, database: str) -> list[int]:
    """PostgreSQL backend processes connected to `database`."""
    with psycopg.connect(admin_url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [row[0] for row in rows]


async def visit_starts(port: int, key: str, count: int, offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for index in range(offset, offset + count):
            status = await tb._exchange(reader, writer, tb.visit_request(index, key))
            if status != 200:
                raise RuntimeError(f"visit start answered {status}")
    finally:
        writer.close()


def measure(options: argparse.Namespace, backend: str) -> dict[str, float]:
    admin = options.database_url
    url = tb.create_database(admin)
    database = url.rsplit("/", 1)[1]
    prefix = f"ringtrail-cpu-{os.getpid()}"
    try:
        key = tb.seed(url, options.warm_up + options.requests)
        port = tb.free_port()
        env = tb.server_env(url, backend, options.redis_url, prefix)
        server = tb.start_server(env, port)
        try:
            asyncio.run(visit_starts(port, key, options.warm_up, 0))
            backends = backends_of(admin, database)
            app, db = cpu_seconds(server.pid), sum(map(cpu_seconds, backends))
            started = time.perf_counter()
            asyncio.run(visit_starts(port, key, options.requests, options.warm_up))
            wall = time.perf_counter() - started
            app = cpu_seconds(server.pid) - app
            db = sum(map(cpu_seconds, backends)) - db
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        tb.drop_database(admin, url)
        if backend == "redis":
            tb.forget_redis_keys(options.redis_url, prefix)
    per = 1000 / options.requests
    return {"wall_ms": wall * per, "app_cpu_ms": app * per, "postgres_cpu_ms": db * per}


def main() -> None:
    parser = tb.server_arguments(__doc__.splitlines()[0])
    parser.add_argument("--warm-up", type=int, default=300)
    parser.add_argument("--requests", type=int, default=1500)
    options = parser.parse_args()
    print(f"{'backend':8} {'wall ms':>8} {'app CPU ms':>11} {'PostgreSQL CPU ms':>18}")
    for backend in options.backends.split(","):
        row = measure(options, backend.strip())
        print(
            f"{backend:8} {row['wall_ms']:8.2f} {row['app_cpu_ms']:11.2f} "
            f"{row['postgres_cpu_ms']:18.2f}"
        )


if __name__ == "__main__":
    main()
