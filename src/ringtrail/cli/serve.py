"""`ringtrail serve`: check the schema, claim the port, then run the app under uvicorn."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer
import uvicorn

from ringtrail import __version__
from ringtrail.cli.context import load_settings, prepare_schema
from ringtrail.cli.errors import CliError
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.web.access_log import redact_access_log
from ringtrail.web.app import create_app


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


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (RINGTRAIL_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (RINGTRAIL_PORT).")
    ] = None,
) -> None:
    """Serve the dashboard, the API and the tracking endpoints."""
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    settings.resolved_secret_key()  # an unusable key stops the process before it serves
    runtime = bootstrap(settings)
    try:
        prepare_schema(runtime)
        sock = claim_port(settings.host, settings.port)
        typer.echo(
            f"Ringtrail {__version__} serving on {display_url(settings.host, settings.port)}",
            err=True,
        )
        run_server(runtime, sock)
    finally:
        runtime.close()
