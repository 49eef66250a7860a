"""A throwaway PostgreSQL cluster and Redis server of the run's own, on free loopback ports.

Nothing here touches a server the machine already runs: the cluster is made with `initdb` in
the run's temporary directory (as the `postgres` user when the run is root, since PostgreSQL
refuses to run as root) and driven with `pg_ctl`; Redis runs with no persistence, so a restart
loses every key, as a Redis without a disk would.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


class MissingServer(RuntimeError):
    """A server binary the run needs is not installed; the message says which and how."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.1)


def postgres_bin_dir() -> Path:
    """The directory of the newest installed PostgreSQL server's `initdb` and `pg_ctl`."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
    )
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    raise MissingServer(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found; install the "
        "postgresql package (Debian: apt-get install postgresql)"
    )


def redis_server_binary() -> str:
    """The path of `redis-server`."""
    found = shutil.which("redis-server")
    if not found:
        raise MissingServer("redis-server was not found; install it (apt-get install redis-server)")
    return found


class PostgresCluster:
    """A PostgreSQL cluster in `root`, listening on 127.0.0.1:`port` with trust authentication."""

    def __init__(self, root: Path, port: int) -> None:
        self.bin = postgres_bin_dir()
        self.root = root
        self.data = root / "data"
        self.log = root / "postgresql.log"
        self.port = port
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            try:
                self._uid = pwd.getpwnam(self.user).pw_uid
            except KeyError:
                raise MissingServer(
                    "running as root needs a `postgres` user to own the throwaway cluster"
                ) from None

    @property
    def version(self) -> str:
        """The server's major version, from its binaries' directory or `pg_ctl --version`."""
        return subprocess.run(  # noqa: S603
            [str(self.bin / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()

    def url(self, port: int | None = None, database: str = "postgres") -> str:
        """A URL for `database` on this cluster, or through a proxy on `port`."""
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(  # noqa: S603
            command, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}".strip())

    def create(self) -> None:
        """initdb, then the settings: loopback only, our port, no fsync (a test cluster)."""
        self.root.mkdir(mode=0o700)
        if self.user is not None:
            os.chown(self.root, self._uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "300",
            "shared_buffers": "64MB",
            # Durability against a crash of the machine is not under test; a server restart
            # and a killed connection are, and neither needs fsync.
            "fsync": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# fault-tolerance run\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart`: every connection is closed by the server, then it starts again."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "-t",
                  "60", "restart")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


class RedisServer:
    """A redis-server on 127.0.0.1:`port` with nothing saved to disk."""

    def __init__(self, root: Path, port: int) -> None:
        self.binary = redis_server_binary()
        self.root = root
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def version(self) -> str:
        return subprocess.run(  # noqa: S603
            [self.binary, "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[2]

    def start(self) -> None:
        self.root.mkdir(exist_ok=True)
        command = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.root),
            "--logfile", str(self.root / "redis.log"),
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=self.root)  # noqa: S603
        wait_for_port(self.port, 20)

    def stop(self) -> None:
        """SIGTERM (with nothing to save it exits at once), then wait."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
