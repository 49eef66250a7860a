"""Real-browser fixtures: Debian's Chromium via Playwright, a site server, the live Ringtrail app.

A page under test is served by `site` on one port (like the customer's site) and loads
`/t.js` from the real app under uvicorn on another port, so every request is cross-origin
exactly as in production. Chromium must be installed (`apt-get install chromium`): without it
the suite fails, it never skips.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime
from ringtrail.services.accounts import get_or_create_organization
from ringtrail.services.pools import create_pool
from ringtrail.services.projects import create_project
from ringtrail.services.source_rules import add_rule
from ringtrail.web.app import create_app

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "src" / "ringtrail" / "web" / "tracking" / "static" / "t.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CO_UK = "ringtrail-shop.co.uk"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # A registrable domain under a multi-label public suffix, served from this machine, for
    # the cookie-domain test (the last two labels, "co.uk", would be refused by the browser).
    f"--host-resolver-rules=MAP {CO_UK} 127.0.0.1, MAP *.{CO_UK} 127.0.0.1",
]
DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
# How long a test waits for the page to load t.js and swap. Generous for a machine busy with
# the suite's other workers: the wait ends as soon as the numbers are in. (The script's own
# 3 s give-up on an unanswered visit start is lengthened to match by `tag()`'s data-wait.)
SWAP_TIMEOUT_MS = 15000


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Site:
    """The customer's web site: serves registered pages and a copy of t.js, on its own port."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/t.js":
                    body, kind = SCRIPT.read_bytes(), "application/javascript; charset=utf-8"
                elif path in site.pages:
                    body, kind = site.pages[path].encode(), "text/html; charset=utf-8"
                else:
                    body, kind = b"not found", "text/plain"
                self.send_response(200 if body != b"not found" else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, path: str, html: str) -> str:
        """Serve `html` at `path`; returns the page's URL."""
        self.pages[path] = html
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlowVisits:
    """ASGI wrapper: the real app, with every visit start answered `delay` seconds late."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app = app
        self.delay = delay
        self.answered = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/t/v1/visit":
            await asyncio.sleep(self.delay)
            self.answered += 1
        await self.app(scope, receive, send)


@dataclass
class LiveApp:
    """The Ringtrail app under uvicorn in a thread."""

    app: Any
    port: int = 0
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the Ringtrail app did not start under uvicorn", pytrace=False)
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)


@dataclass
class TrackedSite:
    """A project set up for swapping: its key, originals, pool numbers and default number."""

    key: str
    originals: list[str]
    pool: list[str]
    default: str


@dataclass
class Watched:
    """A page with what its JavaScript reported and what the browser logged about the network.

    `errors` holds what the page's scripts produced: uncaught exceptions, `console.error` and
    `console.warn` calls, and browser log errors of any source but the network. `network_log`
    holds Chromium's own network lines ("Failed to load resource: ..."), which the browser
    writes for every failed request whatever the script does: no page script can silence them,
    so they are checked separately.
    """

    page: Page
    errors: list[str] = field(default_factory=list)
    network_log: list[str] = field(default_factory=list)
    visit_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; the suite fails (never skips) when it is missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is not installed: the browser tests need it (apt-get install -y chromium)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The customer's site server (pages are registered per test)."""
    server = Site()
    yield server
    server.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Makes browser contexts (separate visitors) with a desktop Chrome user agent."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            user_agent=DESKTOP_CHROME, viewport={"width": 1100, "height": 900}
        )
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def watch(page: Page) -> Watched:
    """Record the page's script errors, the browser's network log and visit-start requests."""
    watched = Watched(page)
    devtools = page.context.new_cdp_session(page)

    def on_console_call(event: dict[str, Any]) -> None:
        if event["type"] in ("error", "warning", "assert"):
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in event["args"]
            )
            watched.errors.append(f"console.{event['type']}: {text}")

    def on_exception(event: dict[str, Any]) -> None:
        details = event["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text", "")
        watched.errors.append(f"exception: {text}")

    def on_log_entry(event: dict[str, Any]) -> None:
        entry = event["entry"]
        if entry["level"] != "error":
            return
        line = f"{entry['text']} ({entry.get('url', '')})"
        if entry["source"] == "network":
            watched.network_log.append(line)
        else:
            watched.errors.append(f"{entry['source']}: {line}")

    devtools.on("Runtime.consoleAPICalled", on_console_call)
    devtools.on("Runtime.exceptionThrown", on_exception)
    devtools.on("Log.entryAdded", on_log_entry)
    devtools.send("Runtime.enable")
    devtools.send("Log.enable")
    page.on(
        "request",
        lambda request: (
            watched.visit_requests.append(request.url)
            if request.url.endswith("/t/v1/visit")
            else None
        ),
    )
    return watched


def wait_for_numbers(page: Page) -> list[dict[str, str]]:
    """Wait until the script has applied the server's numbers; returns them."""
    page.wait_for_function(
        "() => window.ringtrail && window.ringtrail.numbers.length > 0", timeout=SWAP_TIMEOUT_MS
    )
    numbers: list[dict[str, str]] = page.evaluate("window.ringtrail.numbers")
    return numbers


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page in test-artifacts/ (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tag(
    api: LiveApp | str, key: str, extra: str = "", wait_ms: int | None = SWAP_TIMEOUT_MS
) -> str:
    """The script tag a customer pastes; `api` is the app or a URL for t.js.

    `data-wait` lets the script wait as long as the test does for the visit's answer on a busy
    machine; `wait_ms=None` keeps the script's own 3 s give-up (the tests of late answers).
    """
    src = f"{api.base}/t.js" if isinstance(api, LiveApp) else api
    wait = f' data-wait="{wait_ms}"' if wait_ms else ""
    return f'<script async src="{src}" data-key="{key}"{wait}{extra}></script>'


def page_html(body: str, head: str = "") -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "<title>Call +380441234567</title>"
        f"{head}</head><body style='font:16px sans-serif'>{body}</body></html>"
    )


@pytest.fixture
def live_app(runtime: Runtime) -> Iterator[LiveApp]:
    """The real Ringtrail app on the test database, listening on a free port."""
    server = LiveApp(create_app(runtime))
    server.start()
    yield server
    server.stop()


def set_up_site(
    db: Session,
    *,
    name: str = "Browser Shop",
    country: str = "UA",
    main: str = "+380441234567",
    extra: tuple[str, ...] = ("+380447654321",),
    pool: tuple[str, ...] = ("+380445550001",),
    default: str = "+380445559999",
    selectors: tuple[str, ...] = (),
    domains: tuple[str, ...] = ("127.0.0.1", "localhost"),
) -> TrackedSite:
    """A project on 127.0.0.1 whose catch-all rule shows numbers from one pool."""
    organization = get_or_create_organization(db, name)
    project = create_project(
        db,
        organization,
        name,
        default_country=country,
        timezone="Europe/Kyiv",
        currency="UAH",
        allowed_domains=list(domains),
        main_number=main,
    )
    project.replace_numbers = list(extra)
    project.swap_selectors = list(selectors)
    created = create_pool(db, project, {"name": "Website"}, numbers=pool, default_number=default)
    add_rule(db, project, {"name": "Everyone", "conditions": [], "pool_id": created.id})
    db.commit()
    return TrackedSite(project.public_key, [main, *extra], list(pool), default)
