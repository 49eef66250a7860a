"""Fault tolerance: real load on 3 API processes and 2 workers while the services fail.

    python bench/fault_run.py                 # the full run, about four minutes
    python bench/fault_run.py --warmup 8 --gap 15 --cut-seconds 6   # shorter, as CI runs it

Everything runs on 127.0.0.1 in a temporary directory and is removed at the end: a PostgreSQL
cluster of the run's own (initdb), a Redis of its own, a TCP proxy between the app and
PostgreSQL, `ringtrail migrate`, then `--api` `ringtrail serve` processes and `--workers`
`ringtrail worker` processes with one secret key and the same settings. The machine's own
PostgreSQL and Redis are never touched.

Visitors (tracking API) and a PBX (signed webhook) send load round-robin over the API
processes while, one after another with `--gap` seconds between them, an API process is
killed with SIGKILL (and started again by its "supervisor" after `--restart-delay` s), Redis
is stopped and started again, PostgreSQL is restarted with `pg_ctl restart`, and the database
connection is cut at the proxy for `--cut-seconds`. Afterwards the database is checked: every
call event the senders were told was accepted is stored exactly once, every refused one was
retried and stored, no number was held by two visitors at once, every hold has its history,
and the service recovered from each fault within `--recovery-limit` seconds by itself. It
prints the figures and exits 1 if any check failed (2 if a server binary is missing).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from faults import app, checks, figures  # noqa: E402
from faults.load import Balancer, Ledger, Senders, Shape  # noqa: E402
from faults.proxy import CUT_MODES, CuttableProxy  # noqa: E402
from faults.services import (  # noqa: E402
    MissingServer,
    PostgresCluster,
    RedisServer,
    free_port,
)
from sqlalchemy import Engine, create_engine, text  # noqa: E402

FAULTS = ("kill-api", "restart-redis", "restart-postgres", "cut-database")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fault-tolerance run: load on several processes while services fail.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--api", type=int, default=3, help="`ringtrail serve` processes")
    add("--workers", type=int, default=2, help="`ringtrail worker` processes")
    add("--warmup", type=float, default=20, help="seconds of load before the first fault")
    add("--gap", type=float, default=40, help="seconds of load after each fault before the next")
    add("--cut-seconds", type=float, default=30, help="how long the database link is cut")
    add(
        "--cut-mode",
        choices=CUT_MODES,
        default="drop",
        help="drop: reset connections and refuse new ones; blackhole: hold them silent",
    )
    add(
        "--restart-delay",
        type=float,
        default=5,
        help="seconds before the killed API process is started again (its supervisor)",
    )
    add("--redis-down", type=float, default=5, help="seconds Redis stays stopped")
    add(
        "--postgres-stop-mode",
        choices=("fast", "immediate"),
        default="fast",
        help="pg_ctl restart -m MODE: fast shuts down cleanly, immediate as in a crash",
    )
    add("--faults", default=",".join(FAULTS), help="which faults, in order")
    add("--visit-rate", type=float, default=4, help="new visitors a second")
    add("--call-rate", type=float, default=2, help="new calls a second (three events each)")
    add("--pool-size", type=int, default=100, help="numbers in the pool")
    add("--heartbeat-seconds", type=float, default=10, help="a visitor's heartbeat interval")
    add(
        "--stay",
        type=float,
        nargs=2,
        default=(5, 40),
        metavar=("MIN", "MAX"),
        help="how long a visitor stays, seconds",
    )
    add(
        "--grace",
        type=float,
        default=60,
        help="seconds after the load for senders to deliver what is still refused",
    )
    add(
        "--recovery-limit",
        type=float,
        default=20,
        help="seconds after each fault's end by which requests must succeed again",
    )
    add("--seed", type=int, default=1, help="random seed of the load")
    add("--json", type=Path, help="also write the figures and verdicts to this file")
    add("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args(argv)
    unknown = set(args.faults.split(",")) - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s) {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    if args.api < 2:
        parser.error("--api needs at least 2 processes (one of them is killed)")
    return args


class FaultRun:
    """One run: services up, load with faults, checks, figures; `close()` removes it all."""

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir()
        self.postgres = PostgresCluster(root / "postgres", free_port())
        self.redis = RedisServer(root / "redis", free_port())
        self.proxy = CuttableProxy(free_port(), self.postgres.port, args.cut_mode)
        self.api: list[app.Process] = []
        self.workers: list[app.Process] = []
        self.ledger = Ledger()
        self.faults: list[figures.Fault] = []
        self.horizon = 0.0

    # --- set-up --------------------------------------------------------------------------

    def start(self) -> app.Project:
        self.postgres.create()
        self.postgres.start()
        admin = create_engine(
            self.postgres.url(database="postgres").replace("postgresql:", "postgresql+psycopg:"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE ringtrail"))
        admin.dispose()
        self.redis.start()
        self.proxy.start()
        env = app.ringtrail_env(
            self.postgres.url(self.proxy.port, "ringtrail"), self.redis.url, self.root / "data"
        )
        app.ringtrail(env, "migrate")
        self.api = [
            app.serve_process(env, index, free_port(), self.logs) for index in range(self.args.api)
        ]
        self.workers = [
            app.worker_process(env, index, 2, self.logs) for index in range(self.args.workers)
        ]
        for process in (*self.api, *self.workers):
            process.start()
        for process in self.api:
            process.wait_ready()
        return app.set_up_project(env, self.api[0].port or 0, self.args.pool_size)

    # --- the run -------------------------------------------------------------------------

    async def load(self, project: app.Project) -> None:
        ports = [process.port or 0 for process in self.api]
        balancer = Balancer(ports, self.ledger)
        shape = Shape(
            visit_rate=self.args.visit_rate,
            call_rate=self.args.call_rate,
            stay=(self.args.stay[0], self.args.stay[1]),
            heartbeat_seconds=self.args.heartbeat_seconds,
            grace_seconds=project.grace_seconds,
            retry_cap=5.0,
        )
        senders = Senders(
            balancer,
            self.ledger,
            public_key=project.public_key,
            webhook_secret=project.webhook_secret,
            site=app.SITE,
            default_number=project.default_number,
            shape=shape,
            seed=self.args.seed,
        )
        load = asyncio.create_task(senders.run())
        try:
            await asyncio.sleep(self.args.warmup)
            for name in self.args.faults.split(","):
                fault = figures.Fault(name, started=time.time())
                self.faults.append(fault)
                print(f"  {self._at(fault.started)} {name} ...", flush=True)
                await self._inject(fault)
                fault.ended = fault.ended or time.time()
                await asyncio.sleep(self.args.gap)
            senders.stop(self.args.grace)
            await load
        finally:
            load.cancel()
            self.horizon = time.time()
            await balancer.close()

    async def _inject(self, fault: figures.Fault) -> None:
        args = self.args
        if fault.name == "kill-api":
            victim = self.api[1]
            victim.kill()
            await asyncio.sleep(args.restart_delay)
            victim.start()
            fault.ended = time.time()
            began = time.monotonic()
            await asyncio.to_thread(victim.wait_ready)
            fault.note = (
                f"{victim.name} (port {victim.port}) killed; started again after "
                f"{args.restart_delay:g} s, serving {time.monotonic() - began:.1f} s later"
            )
        elif fault.name == "restart-redis":
            await asyncio.to_thread(self.redis.stop)
            await asyncio.sleep(args.redis_down)
            await asyncio.to_thread(self.redis.start)
            fault.note = f"stopped for {args.redis_down:g} s, all keys lost"
        elif fault.name == "restart-postgres":
            began = time.monotonic()
            await asyncio.to_thread(self.postgres.restart, args.postgres_stop_mode)
            fault.note = (
                f"pg_ctl restart -m {args.postgres_stop_mode}: {time.monotonic() - began:.1f} s"
            )
        elif fault.name == "cut-database":
            await asyncio.to_thread(self.proxy.cut)
            await asyncio.sleep(args.cut_seconds)
            await asyncio.to_thread(self.proxy.heal)
            fault.note = f"{args.cut_mode} for {args.cut_seconds:g} s"

    def _at(self, moment: float) -> str:
        return time.strftime("%H:%M:%S", time.localtime(moment))

    # --- afterwards ----------------------------------------------------------------------

    def verdicts(
        self, project: app.Project
    ) -> tuple[list[checks.Check], list[figures.FaultFigures]]:
        """Every check, after waiting for the workers to rebuild the stale report days."""
        engine = create_engine(
            self.postgres.url(database="ringtrail").replace("postgresql:", "postgresql+psycopg:")
        )
        try:
            stale = self._wait_for_workers(engine, timeout=max(30.0, self.args.gap))
            results = [
                *checks.check_calls(engine, project.project_id, self.ledger),
                *checks.check_holds(engine, project.project_id, self.ledger),
            ]
        finally:
            engine.dispose()
        fault_figures = figures.fault_figures(self.ledger.attempts, self.faults, self.horizon)
        slow = figures.failures_without_fault(self.ledger.attempts, self.faults) + [
            f"{f.fault.name}: failures until {f.recovery:.1f} s after its end"
            for f in fault_figures
            if f.recovery > self.args.recovery_limit
        ]
        results.append(
            checks.verdict(
                f"the service recovered by itself within {self.args.recovery_limit:g} s "
                "of each fault's end",
                slow,
                ", ".join(f"{f.fault.name} {f.recovery:.1f} s" for f in fault_figures),
            )
        )
        results.append(
            checks.verdict(
                "every refusal was a 503 with Retry-After or a failed connection, never a 500",
                figures.server_errors(self.ledger.attempts),
                "",
            )
        )
        dead = [
            f"{p.name} exited ({p.popen.returncode if p.popen else '?'})"
            for p in (*self.api, *self.workers)
            if not p.alive
        ]
        results.append(
            checks.verdict(
                "every API and worker process is still running (the killed one replaced)",
                dead,
                f"{len(self.api)} API, {len(self.workers)} workers",
            )
        )
        results.append(
            checks.verdict(
                "the workers caught up after the faults (no report day left stale)",
                [f"{stale} report day(s) still stale"] if stale else [],
                f"{len(self.workers)} workers",
            )
        )
        return results, fault_figures

    def _wait_for_workers(self, engine: Engine, timeout: float) -> int:
        """How many report days are still stale once none is, or after `timeout`."""
        deadline = time.monotonic() + timeout
        while (stale := checks.stale_report_days(engine)) and time.monotonic() < deadline:
            time.sleep(1)
        return stale

    def close(self) -> None:
        for process in (*self.api, *self.workers):
            with contextlib.suppress(Exception):
                process.stop()
        for stop in (self.proxy.close, self.redis.stop, self.postgres.stop):
            with contextlib.suppress(Exception):
                stop()


def report(
    run: FaultRun,
    results: list[checks.Check],
    fault_figures: list[figures.FaultFigures],
    started: float,
) -> dict[str, Any]:
    totals = figures.request_figures(run.ledger)
    seconds = run.horizon - started
    print(
        f"\nrequests: {totals['requests']} sent in {seconds:.0f} s "
        f"({totals['requests'] / max(seconds, 1):.1f}/s), {totals['answered_2xx']} answered 2xx"
    )
    print("errors:   " + (", ".join(f"{k}: {v}" for k, v in totals["errors"].items()) or "none"))
    for kind, counts in totals["by_kind"].items():
        print(f"  {kind:<11} " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    print(
        f"call events: {totals['call_events']} sent, {totals['call_events_accepted']} accepted, "
        f"{totals['call_events_refused_at_first']} refused at first and retried "
        f"({totals['call_event_retries']} retries)"
    )
    print(f"visits answered: {totals['visits_answered']}, pool holds seen: {totals['holds_seen']}")
    print("\nfaults:")
    for item in fault_figures:
        errors = ", ".join(f"{k}: {v}" for k, v in item.errors.most_common()) or "no errors"
        first = f"{item.first_success:.1f} s" if item.first_success is not None else "never"
        print(f"  {item.fault.name:<17} {item.fault.note}")
        print(
            f"  {'':<17} {item.requests} requests, {errors}; "
            f"recovered {item.recovery:.1f} s after its end, first success after {first}"
        )
    print("\nchecks:")
    for result in results:
        print(
            f"  [{'ok' if result.passed else 'FAILED'}] {result.rule}"
            + (f" ({result.detail})" if result.detail else "")
        )
        for example in result.examples:
            print(f"        {example}")
    return {
        **totals,
        "seconds": round(seconds, 1),
        "faults": [
            {
                "name": f.fault.name,
                "note": f.fault.note,
                "requests": f.requests,
                "errors": dict(f.errors),
                "recovery_seconds": round(f.recovery, 2),
                "first_success_seconds": f.first_success and round(f.first_success, 2),
            }
            for f in fault_figures
        ],
        "checks": [
            {"rule": r.rule, "passed": r.passed, "detail": r.detail, "examples": r.examples}
            for r in results
        ],
        "failed_requests": [
            {
                "sent": round(a.sent - started, 3),
                "seconds": round(a.done - a.sent, 3),
                "kind": a.kind,
                "port": a.port,
                "outcome": a.outcome,
            }
            for a in run.ledger.attempts
            if a.failed
        ],
        "fault_times": [
            {
                "name": f.name,
                "started": round(f.started - started, 3),
                "ended": round(f.ended - started, 3),
            }
            for f in run.faults
        ],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    root = Path(tempfile.mkdtemp(prefix="ringtrail-fault-"))
    root.chmod(0o711)  # the cluster's own user must reach its directory inside
    run: FaultRun | None = None
    try:
        run = FaultRun(args, root)
        print(
            f"fault-tolerance run in {root}: {run.postgres.version}, Redis {run.redis.version}",
            flush=True,
        )
        project = run.start()
        print(
            f"  {len(run.api)} API processes on ports {[p.port for p in run.api]}, "
            f"{len(run.workers)} workers; load starts",
            flush=True,
        )
        started = time.time()
        asyncio.run(run.load(project))
        results, fault_figures = run.verdicts(project)
        summary = report(run, results, fault_figures, started)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=2))
        failed = [r for r in results if not r.passed]
        if failed:
            _print_logs(run)
        print(
            f"\n{'FAILED' if failed else 'passed'}: {len(results) - len(failed)} of "
            f"{len(results)} checks held"
        )
        return 1 if failed else 0
    except MissingServer as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except Exception:
        if run is not None:
            _print_logs(run)
        raise
    finally:
        if run is not None:
            run.close()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _print_logs(run: FaultRun) -> None:
    for process in (*run.api, *run.workers):
        tail = process.tail()
        if tail:
            print(f"\n--- last lines of {process.name}'s log ---\n{tail}")


if __name__ == "__main__":
    sys.exit(main())
