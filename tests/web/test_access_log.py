"""`ringtrail serve`'s access log: signed recording links are written without their token."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from ringtrail.cli import serve
from ringtrail.runtime import Runtime

TOKEN = "c2VjcmV0LXJlY29yZGluZy1saW5r.1767225600.0123456789abcdef"


def test_the_access_log_never_shows_a_recording_token(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    servers: list[uvicorn.Server] = []

    class WatchedServer(uvicorn.Server):
        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(serve.uvicorn, "Server", WatchedServer)
    # `serve` collects the whole process's garbage before freezing it: cheap in a server, but
    # in a test process holding thousands of earlier tests' objects it took over 20 s on CI.
    monkeypatch.setattr("ringtrail.web.app.gc.collect", lambda *args: 0)
    sock = serve.claim_port("127.0.0.1", 0)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=serve.run_server, args=(runtime, sock), daemon=True)
    thread.start()
    access = logging.getLogger("uvicorn.access")
    try:
        deadline = time.monotonic() + 60
        while not (servers and servers[0].started):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        access.addHandler(caplog.handler)
        caplog.set_level(logging.INFO, logger="uvicorn.access")
        answer: Any = httpx.get(f"http://127.0.0.1:{port}/recordings/{TOKEN}?download=1")
        assert answer.status_code in (403, 404, 410)
        deadline = time.monotonic() + 5
        while not any(r.name == "uvicorn.access" for r in caplog.records):
            assert time.monotonic() < deadline, "no access-log line was written"
            time.sleep(0.05)
    finally:
        access.removeHandler(caplog.handler)
        if servers:
            servers[0].should_exit = True
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/recordings/" in line for line in lines)
    assert not any(TOKEN in line or TOKEN.split(".")[0] in line for line in lines)
