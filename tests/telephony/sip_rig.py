"""A real SIP rig for tests: Kamailio from deploy/kamailio/, SIPp callers and PBXs, RabbitMQ.

Every process is started on free loopback ports and killed by the fixture that made it. A
missing tool fails the test with a clear message (never skips): the SIP tests need
`kamailio` (with the rabbitmq, jansson modules), `sipp` and a RabbitMQ server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import pytest

ROOT = Path(__file__).parents[2]
KAMAILIO_CFG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
AMQP_URL = os.environ.get("RINGTRAIL_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
DID = "380441234567"
CALLER = "380501112233"

BUSY_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ringtrail busy pbx">
  <recv request="INVITE" />
  <send><![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
  <recv request="ACK" />
</scenario>
"""

BUSY_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ringtrail caller meets a busy line">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [caller] <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:[caller]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="100" optional="true" />
  <recv response="486" />
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
      From: [caller] <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
</scenario>
"""


def require_tool(name: str) -> str:
    """The path of `name`, or fail the test saying what to install."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is required for the SIP tests and is not on PATH "
            "(apt-get install kamailio kamailio-rabbitmq-modules kamailio-extra-modules "
            "sip-tester)",
            pytrace=False,
        )
    return path


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A loopback port nobody is bound to right now (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}", pytrace=False)
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


# RabbitMQ ------------------------------------------------------------------------------------


@contextmanager
def amqp_channel(url: str = AMQP_URL) -> Iterator[Any]:
    """A channel on the test broker; fails the test when RabbitMQ does not answer."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(url))
    except pika.exceptions.AMQPError as exc:
        pytest.fail(f"RabbitMQ at {url} does not answer: {exc!r}", pytrace=False)
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


@contextmanager
def private_queue(prefix: str = "ringtrail-test") -> Iterator[str]:
    """A durable queue name of this test's own, with its dead-letter queue deleted after."""
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    with amqp_channel() as channel:
        channel.queue_declare(queue=name, durable=True)
    try:
        yield name
    finally:
        with amqp_channel() as channel:
            channel.queue_delete(queue=name)
            channel.queue_delete(queue=f"{name}.dead")


def publish(queue: str, *bodies: bytes | str) -> None:
    """Publish persistent messages to `queue` the way Kamailio does (default exchange)."""
    with amqp_channel() as channel:
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish(
                exchange="",
                routing_key=queue,
                body=body.encode() if isinstance(body, str) else body,
                properties=pika.BasicProperties(
                    content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent
                ),
            )


def queue_depth(queue: str) -> int:
    """Messages ready in `queue` (not counting ones a consumer holds unacknowledged)."""
    with amqp_channel() as channel:
        count: int = channel.queue_declare(queue=queue, passive=True).method.message_count
        return count


def queue_consumers(queue: str) -> int:
    with amqp_channel() as channel:
        count: int = channel.queue_declare(queue=queue, passive=True).method.consumer_count
        return count


def drain(queue: str) -> list[tuple[Any, bytes]]:
    """Take every message from `queue` (acknowledged): (properties, body) pairs."""
    taken = []
    with amqp_channel() as channel:
        while True:
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))


class TcpProxy:
    """A loopback TCP relay to `target` that can be cut, to play a broker outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port(socket.SOCK_STREAM)
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    client.close()
                    return
                upstream = socket.create_connection(self.target)
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        """Close the listener and every relayed connection: the broker is gone."""
        with self._lock:
            self._cut = True
            with suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self._server.close()
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


# Kamailio and SIPp ---------------------------------------------------------------------------


def make_scenarios(directory: Path) -> dict[str, Path]:
    """Record-Route-aware UAC/UAS scenarios derived from SIPp's built-ins, plus busy ones.

    SIPp's built-in `uac` ignores Record-Route (its BYE would bypass Kamailio, which then
    never sees the call end) and `uas` does not echo it, so both are patched at run time.
    The caller's number comes from `-key caller`.
    """
    sipp = require_tool("sipp")
    built_in = {}
    for name in ("uac", "uas"):
        # `sipp -sd` exits non-zero even when it prints the scenario.
        done = subprocess.run([sipp, "-sd", name], capture_output=True, text=True, check=False)
        assert "<scenario" in done.stdout, done.stderr
        built_in[name] = done.stdout
    uac = built_in["uac"].replace(
        '<recv response="200" rtd="true">', '<recv response="200" rtd="true" rrs="true">'
    )
    for method in ("ACK", "BYE"):
        uac = uac.replace(
            f"{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0",
            f"{method} [next_url] SIP/2.0\n      [routes]",
        )
    uac = uac.replace("sipp <sip:sipp@", "[caller] <sip:[caller]@").replace(
        "Contact: sip:sipp@", "Contact: sip:[caller]@"
    )
    uas = built_in["uas"].replace("[last_Via:]", "[last_Via:]\n      [last_Record-Route:]")
    files = {"uac": uac, "uas": uas, "uac_busy": BUSY_UAC, "uas_busy": BUSY_UAS}
    paths = {}
    for name, text in files.items():
        path = directory / f"{name}.xml"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


@dataclass
class Kamailio:
    """A running Kamailio on deploy/kamailio/kamailio.cfg."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def sip_options_answered(port: int) -> bool:
    """True when a SIP OPTIONS to 127.0.0.1:`port` gets a 200 OK (Kamailio is up)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.3)
        local = sock.getsockname()[1]
        call_id = uuid.uuid4().hex
        request = (
            f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{call_id[:10]}\r\n"
            f"From: <sip:probe@127.0.0.1:{local}>;tag={call_id[:8]}\r\n"
            f"To: <sip:ping@127.0.0.1:{port}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), ("127.0.0.1", port))
        try:
            answer = sock.recv(4096)
        except OSError:
            return False
        return answer.startswith(b"SIP/2.0 200")


@contextmanager
def run_kamailio(
    workdir: Path, *, pbx_port: int, queue: str, amqp_url: str = AMQP_URL, **defines: str
) -> Iterator[Kamailio]:
    """Start Kamailio with the deploy config on a free UDP port; kill it afterwards."""
    binary = require_tool("kamailio")
    port = free_port()
    rundir = workdir / "kamailio"
    rundir.mkdir(parents=True, exist_ok=True)
    values = {
        "LISTEN": f"udp:127.0.0.1:{port}",
        "PBX_URI": f'"sip:127.0.0.1:{pbx_port}"',
        "AMQP_URL": f'"{amqp_url}"',
        "EVENTS_QUEUE": f'"{queue}"',
        "SIP_CHILDREN": "2",
        "RUNTIME_DIR": f'"{rundir}"',
        **defines,
    }
    args = [binary, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-w", str(rundir)]
    for name, value in values.items():
        args += ["-A", f"{name}={value}"]
    log = workdir / "kamailio.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
    kamailio = Kamailio(process, port, log)
    try:
        deadline = time.monotonic() + 20
        while not sip_options_answered(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Kamailio did not start:\n{kamailio.log_text()[-3000:]}")
            time.sleep(0.1)
        yield kamailio
    finally:
        stop_process(process)


@dataclass
class Pbx:
    """The business line behind Kamailio: a SIPp UAS that answers, or one that is busy."""

    scenarios: dict[str, Path]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self, scenario: str) -> None:
        self.stop()
        args = [require_tool("sipp"), "-sf", str(self.scenarios[scenario]), "-i", "127.0.0.1"]
        args += ["-p", str(self.port), "-nostdin"]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.scenarios[scenario].parent,
        )
        time.sleep(0.3)
        assert self.process.poll() is None, "the SIPp PBX exited at start"

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def place_call(
    scenarios: dict[str, Path],
    kamailio_port: int,
    *,
    call_id: str,
    busy: bool = False,
    talk_ms: int = 0,
) -> subprocess.CompletedProcess[str]:
    """One call from CALLER to DID through Kamailio; returns SIPp's result (0 = as scripted)."""
    scenario = scenarios["uac_busy" if busy else "uac"]
    args = [require_tool("sipp"), "-sf", str(scenario), f"127.0.0.1:{kamailio_port}"]
    args += ["-i", "127.0.0.1", "-p", str(free_port()), "-s", DID, "-key", "caller", CALLER]
    args += ["-m", "1", "-nostdin", "-timeout", "30", "-timeout_error", "-cid_str", call_id]
    args += ["-d", str(talk_ms)]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=60, check=False, cwd=scenario.parent
    )
