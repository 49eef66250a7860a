"""`ringtrail demo`: a fresh SQLite database filled with the demo project, then served."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ringtrail.cli.context import load_settings
from ringtrail.cli.serve import claim_port, display_url, run_server
from ringtrail.demo.audio import DEMO_RECORDING_KEY, demo_recording_wav
from ringtrail.demo.generator import DEFAULT_DAYS, DEFAULT_SEED, generate_demo
from ringtrail.recordings.factory import make_store
from ringtrail.runtime import bootstrap
from ringtrail.services.reports.rollups import rebuild_project
from ringtrail.storage import migrate
from ringtrail.storage.db import unit_of_work

DATABASE_FILE = "demo.db"


def _remove_database(directory: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        (directory / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)


def demo(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Where the demo database lives (default: <data dir>/demo)."
        ),
    ] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only create the database, do not serve it.")
    ] = False,
    days: Annotated[
        int, typer.Option(min=1, max=730, help="Days of history to generate.")
    ] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = (
        DEFAULT_SEED
    ),
) -> None:
    """Try Ringtrail on generated data: (re)creates a demo database and serves it."""
    directory = (data_dir or load_settings().data_dir / "demo").expanduser().absolute()
    settings = load_settings(
        data_dir=directory,
        database_url=f"sqlite:///{directory / DATABASE_FILE}",
        redis_url="",
        public_url="",
        host=host,
        port=port,
        auto_migrate=True,
    )
    sock = None if no_serve else claim_port(host, port)
    try:
        began = time.perf_counter()
        directory.mkdir(parents=True, exist_ok=True)
        _remove_database(directory)
        migrate.upgrade(settings.sqlalchemy_url)
        runtime = bootstrap(settings)
        now = datetime.now(UTC)
        with unit_of_work(runtime.sessions) as db:
            summary = generate_demo(db, now, days=days, seed=seed)
        with unit_of_work(runtime.sessions) as db:
            rebuild_project(db, summary.project_id, now=now)
        make_store(settings).put(DEMO_RECORDING_KEY, demo_recording_wav(), "audio/wav")
        counts = summary.counts
        typer.echo(
            f"demo database ready in {time.perf_counter() - began:.1f} s: {summary.project_name}, "
            f"{days} days, {counts['visits']} visits, {counts['calls']} calls, "
            f"{counts['deals']} deals ({directory / DATABASE_FILE})"
        )
        url = display_url(host, port)
        typer.echo(f"sign in at {url}/login as {summary.email} with password {summary.password}")
        if sock is None:
            runtime.close()
            return
        run_server(runtime, sock)
    finally:
        if sock is not None:
            sock.close()
