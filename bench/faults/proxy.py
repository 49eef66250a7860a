"""A TCP proxy between the app processes and PostgreSQL that can cut the connection.

It runs its own event loop in a thread, so the load generator's work never delays the
database traffic. `cut()` takes the database away without touching PostgreSQL:

- `drop`: every open connection is reset and the port stops listening, so new connections
  are refused (a server or link that is gone);
- `blackhole`: open connections stay open but carry nothing further, and new ones are
  accepted and then hear nothing (a partition); when the cut ends they are all reset.

`heal()` lets connections through again. A PostgreSQL restart behind the proxy closes the
upstream side, which the proxy passes on by closing the client's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

CUT_MODES = ("drop", "blackhole")
CHUNK = 65536


class _Link:
    """One client connection and, once open, its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def reset(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class CuttableProxy:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`upstream_port`."""

    def __init__(self, port: int, upstream_port: int, mode: str = "drop") -> None:
        if mode not in CUT_MODES:
            raise ValueError(f"cut mode must be one of {CUT_MODES}")
        self.port = port
        self.upstream_port = upstream_port
        self.mode = mode
        self.connections = 0
        self._links: set[_Link] = set()
        self._cut = False
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="db-proxy", daemon=True)

    # --- control, from any thread ------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        """Take the database away until `heal()`."""
        self._call(self._cut_now())

    def heal(self) -> None:
        self._call(self._heal_now())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._close_now())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    # --- the loop's side -----------------------------------------------------------------

    async def _listen(self) -> None:
        if self._flowing is None:
            self._flowing = asyncio.Event()
            self._flowing.set()
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def _cut_now(self) -> None:
        assert self._flowing is not None
        self._cut = True
        if self.mode == "drop":
            if self._server is not None:
                self._server.close()
                self._server = None
            self._reset_all()
        else:
            self._flowing.clear()

    async def _heal_now(self) -> None:
        assert self._flowing is not None
        if self.mode == "blackhole":
            self._reset_all()  # what was held during the partition is broken for good
            self._flowing.set()
        self._cut = False
        if self._server is None:
            await self._listen()

    async def _close_now(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._reset_all()

    def _reset_all(self) -> None:
        for link in list(self._links):
            link.reset()
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        link = _Link(writer)
        self._links.add(link)
        if self._cut:  # blackhole: accepted, then silence until the cut ends
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:  # PostgreSQL is restarting: the client sees its connection closed
            self._drop(link)
            return
        if link not in self._links:  # reset while connecting
            up_writer.transport.abort()
            return
        link.upstream = up_writer
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link)),
            asyncio.create_task(self._pump(up_reader, writer, link)),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link
    ) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return
        self._drop(link)

    def _drop(self, link: _Link) -> None:
        """Close both sides (one side ended: PostgreSQL or the client closed)."""
        self._links.discard(link)
        for side in (link.client, link.upstream):
            if side is not None:
                side.close()
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
