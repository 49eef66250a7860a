"""`ringtrail serve`: check the schema, claim the port, then run the app under uvicorn.

With `--workers N` above 1 the process only supervises: N uvicorn worker processes are
started (spawned, not forked) on the socket it bound, each building its own settings,
runtime and connection pools; one that dies is started again; SIGTERM or Ctrl-C stops them
all, each finishing its open requests. Their metrics are summed through a directory of
prometheus_client's multiprocess mode that this process prepares (web.metrics).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors.multiprocess import Multiprocess

from ringtrail import __version__
from ringtrail.cli.context import load_settings, prepare_schema
from ringtrail.cli.errors import CliError
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from ringtrail.web.access_log import redact_access_log
from ringtrail.web.app import create_app
from ringtrail.web.metrics import MULTIPROCESS_ENV, clear_multiprocess_dir, forget_process

WORKER_APP = "ringtrail.cli.serve:worker_app"
WORKER_HEALTHCHECK_SECONDS = 30
"""How long a worker may leave the supervisor's ping unanswered before it is replaced.

uvicorn's default (5 s) is shorter than a worker's start on a busy machine: the worker would
be killed while still importing, again and again.
"""
ONE_PROCESS_ONLY = (
    "--workers {workers} needs PostgreSQL: the embedded SQLite database is served by one "
    "process. Set RINGTRAIL_DATABASE_URL to a PostgreSQL database, and RINGTRAIL_REDIS_URL "
    "so that number holds, rate limits and sign-in lock-outs are shared by the workers "
    "(docs/deployment.md), or run with --workers 1"
)


def claim_port(host: str, port: int) -> socket.socket:
    """Bind `host:port` now, so a taken port is one clear error before anything else starts.

    The bound socket is handed to uvicorn, so nothing can take the port in between.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CliError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"port {port} on {host} is already in use") from exc
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def display_url(host: str, port: int) -> str:
    """The address to print for people: a wildcard host is shown as the loopback one."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def run_server(runtime: Runtime, sock: socket.socket) -> None:
    """Serve the app for `runtime` on the already bound `sock` until stopped (Ctrl-C, SIGTERM)."""
    settings = runtime.settings
    config = uvicorn.Config(
        create_app(runtime, run_jobs=settings.run_jobs, freeze_gc=True),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
    )
    redact_access_log()  # after uvicorn has configured logging
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise CliError("the web server failed to start; see the log above")


def worker_app() -> FastAPI:
    """The app of one `serve --workers` process, built inside it after the spawn.

    Nothing crosses from the supervisor but the socket and the environment: settings,
    engines, pools and Redis clients are this process's own.
    """
    settings = load_settings()
    runtime = bootstrap(settings)
    redact_access_log()  # uvicorn configured this process's logging before loading the app
    return create_app(runtime, run_jobs=settings.run_jobs, freeze_gc=True)


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, also telling whether it stopped on a signal.

    A worker it replaced (died, or SIGHUP) or stopped (SIGTTOU) is dropped from the metrics'
    per-process series.
    """

    stopped_by_signal = False

    def handle_int(self) -> None:
        self.stopped_by_signal = True
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by_signal = True
        super().handle_term()

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        self._forget_gone(before)

    def handle_signals(self) -> None:
        before = self._pids()
        super().handle_signals()
        self._forget_gone(before)

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}

    def _forget_gone(self, before: set[int]) -> None:
        for pid in before - self._pids():
            forget_process(pid)


@contextmanager
def metrics_directory(workers: int) -> Iterator[Path | None]:
    """The multiprocess metrics directory of this run, emptied of any earlier run's figures.

    PROMETHEUS_MULTIPROC_DIR when set (emptied now); else, with several workers, a private
    temporary directory, set in the environment the workers inherit and removed at the end.
    """
    configured = os.environ.get(MULTIPROCESS_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        clear_multiprocess_dir(directory)
        yield directory
        return
    if workers == 1:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="ringtrail-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def run_workers(settings: Settings, sock: socket.socket, workers: int) -> None:
    """Supervise `workers` processes serving on `sock` until stopped (Ctrl-C, SIGTERM)."""
    config = uvicorn.Config(
        WORKER_APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    supervisor = Supervisor(config, sockets=[sock])
    supervisor.run()
    if not supervisor.stopped_by_signal:
        raise CliError("a web worker failed to start; see the log above")


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (RINGTRAIL_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (RINGTRAIL_PORT).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web worker processes sharing the port (more than 1 needs PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Serve the dashboard, the API and the tracking endpoints."""
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    if workers > 1 and settings.is_embedded:
        raise CliError(ONE_PROCESS_ONLY.format(workers=workers))
    settings.resolved_secret_key()  # an unusable key stops the process before it serves
    runtime = bootstrap(settings)
    try:
        prepare_schema(runtime)
        sock = claim_port(settings.host, settings.port)
    except BaseException:
        runtime.close()
        raise
    shown = display_url(settings.host, settings.port)
    with metrics_directory(workers):
        if workers == 1:
            typer.echo(f"Ringtrail {__version__} serving on {shown}", err=True)
            try:
                run_server(runtime, sock)
            finally:
                runtime.close()
            return
        runtime.close()  # the supervisor serves nothing; each worker connects on its own
        if not settings.redis_url:
            typer.echo(
                "warning: without RINGTRAIL_REDIS_URL each worker counts rate limits and "
                "sign-in lock-outs on its own",
                err=True,
            )
        typer.echo(
            f"Ringtrail {__version__} serving on {shown} with {workers} worker processes",
            err=True,
        )
        run_workers(settings, sock, workers)
