"""The Ringtrail side of the run: its settings, `ringtrail` commands, and the `serve` and
`worker` processes, each started the way an operator would start it.

The set-up goes through the command line and the REST API, as an operator's would: a user, a
project, an API key, then a pool of numbers and a source rule that sends Google Ads visits to
it. Only the project's webhook secret is read from the database (no command shows it).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

SITE = "fault.example"
MAIN_NUMBER = "+380441110000"
DEFAULT_NUMBER = "+380446600000"
OWNER_EMAIL = "operator@fault.example"
ORGANIZATION = "Fault run"


def pool_numbers(size: int) -> list[str]:
    """`size` distinct Kyiv numbers for the pool."""
    return [f"+3804477{index:05d}" for index in range(size)]


def ringtrail_env(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    """The environment every process gets: the same settings and secret key, nothing else of
    the caller's RINGTRAIL_* settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RINGTRAIL_")}
    source = str(Path(__file__).resolve().parents[2] / "src")  # the code this script runs
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")])),
            "RINGTRAIL_DATABASE_URL": database_url,
            "RINGTRAIL_REDIS_URL": redis_url,
            "RINGTRAIL_SECRET_KEY": secrets.token_urlsafe(48),
            "RINGTRAIL_DATA_DIR": str(data_dir),
            "RINGTRAIL_HOST": "127.0.0.1",
            "RINGTRAIL_RUN_JOBS": "false",
            "RINGTRAIL_LOG_LEVEL": "warning",
        }
    )
    return env


def ringtrail(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run one `ringtrail` command; its standard output, or RuntimeError with its output."""
    command = [sys.executable, "-m", "ringtrail.cli.main", *args]
    result = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"ringtrail {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


@dataclass
class Process:
    """One `ringtrail serve` or `ringtrail worker` process and its log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        command = [sys.executable, "-m", "ringtrail.cli.main", *self.args]
        self.popen = subprocess.Popen(  # noqa: S603
            command, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.starts += 1

    def wait_ready(self, timeout: float = 120) -> None:
        """For `serve`: return once it answers; RuntimeError if it exits or stays silent.

        Generous: a process starting while the machine is busy (the test suite's other
        workers) takes far longer to import the app than one on a quiet machine."""
        if self.port is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/t/v1/ping", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9, as the out-of-memory killer or a crash would end it."""
        if self.popen is not None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; SIGKILL after 15 s."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def serve_process(env: dict[str, str], index: int, port: int, logs: Path) -> Process:
    return Process(
        f"api-{index}", ["serve", "--port", str(port)], env, logs / f"api-{index}.log", port
    )


def worker_process(env: dict[str, str], index: int, interval: float, logs: Path) -> Process:
    args = ["worker", "--interval", f"{interval:g}"]
    return Process(f"worker-{index}", args, env, logs / f"worker-{index}.log")


@dataclass(frozen=True)
class Project:
    """What the senders need: ids, the public key, the webhook secret and the pool."""

    project_id: int
    public_key: str
    webhook_secret: str
    pool_id: int
    numbers: tuple[str, ...]
    default_number: str
    grace_seconds: float


def set_up_project(env: dict[str, str], api_port: int, pool_size: int) -> Project:
    """A user, a project on SITE and an owner key (CLI); a pool and a rule (REST API)."""
    ringtrail(
        {**env, "RINGTRAIL_PASSWORD": secrets.token_urlsafe(12)},
        "user", "create", "--email", OWNER_EMAIL, "--name", "Operator",
    )  # fmt: skip
    created = ringtrail(
        env,
        "project", "create", "--name", "Fault run", "--organization", ORGANIZATION,
        "--owner-email", OWNER_EMAIL, "--timezone", "Europe/Kyiv", "--country", "UA",
        "--domain", SITE, "--main-number", MAIN_NUMBER,
    )  # fmt: skip
    project_id = int(_match(r"created project (\d+)", created))
    public_key = _match(r"public key: (\S+)", created)
    key = ringtrail(
        env,
        "apikey", "create", "--organization", ORGANIZATION, "--role", "owner",
        "--name", "fault run", "--project", str(project_id),
    ).strip().splitlines()[-1]  # fmt: skip
    numbers = pool_numbers(pool_size)
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}/api/v1/projects/{project_id}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    with api:
        pool = api.post(
            "/pools",
            json={
                "name": "Google Ads",
                "numbers": numbers,
                "default_number": DEFAULT_NUMBER,
                "grace_minutes": 1,
                "cooldown_minutes": 0,
            },
        )
        pool.raise_for_status()
        pool_id = int(pool.json()["id"])
        rule = api.post(
            "/source-rules",
            json={
                "name": "Google Ads",
                "priority": 10,
                "conditions": [{"field": "utm_source", "op": "equals", "value": "google"}],
                "source": "google",
                "medium": "cpc",
                "pool_id": pool_id,
            },
        )
        rule.raise_for_status()
    return Project(
        project_id=project_id,
        public_key=public_key,
        webhook_secret=_webhook_secret(env, project_id),
        pool_id=pool_id,
        numbers=tuple(numbers),
        default_number=DEFAULT_NUMBER,
        grace_seconds=60.0,
    )


def _webhook_secret(env: dict[str, str], project_id: int) -> str:
    """The project's webhook secret, decrypted with the run's keys (from the database)."""
    from ringtrail.runtime import bootstrap
    from ringtrail.settings import Settings
    from ringtrail.storage.models import Project as ProjectRow

    settings = Settings(
        database_url=env["RINGTRAIL_DATABASE_URL"],
        secret_key=env["RINGTRAIL_SECRET_KEY"],
        data_dir=Path(env["RINGTRAIL_DATA_DIR"]),
    )
    runtime = bootstrap(settings)
    try:
        with runtime.sessions() as db:
            project = db.get(ProjectRow, project_id)
            assert project is not None
            return str(project.webhook_secret)
    finally:
        runtime.close()


def _match(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"unexpected output: {text!r}")
    return found.group(1)
