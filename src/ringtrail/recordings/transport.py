"""The network layer of recording fetches: checked addresses, checked again on every hop.

`GuardedTransport` resolves a host name itself, refuses the connection unless every address
the name resolves to passes `AddressRules`, and then connects to one of those very addresses:
the name is never resolved twice, so a DNS answer that changes in between (DNS rebinding)
cannot slip another address past the check. TLS still verifies the certificate of the host
name. Redirects are followed by `fetch.download`, one request at a time, so each hop goes
through this check again. `time_limit` bounds a whole download, however slowly a server
drips its bytes: every connect, read and write gets at most the time that is left.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import ip_address
from typing import Any

import httpcore
import httpx

from ringtrail.recordings.addresses import AddressRefused, AddressRules, IPAddress

Resolver = Callable[..., list[tuple[Any, ...]]]
_deadline: ContextVar[float | None] = ContextVar("recording_fetch_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Within the block, network waits of this thread end `seconds` from now at the latest."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_is_up() -> bool:
    """Whether the `time_limit` around the caller has run out."""
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the time limit of the download ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every wait ends by the deadline of the current download."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses `rules` allow, after resolving names itself."""

    def __init__(self, rules: AddressRules, resolve: Resolver | None = None) -> None:
        self._rules = rules
        self._resolve = resolve
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in self.checked_addresses(host, port):
            try:
                stream = self._plain.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        raise failure

    def checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to, all allowed; AddressRefused names the first not."""
        resolve = self._resolve or socket.getaddrinfo  # looked up now: tests replace it
        try:
            answers = resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
        for address in addresses:
            reason = self._rules.why_refused(_parsed(address))
            if reason is not None:
                verb = "is" if _is_address(host) else "resolves to"
                raise AddressRefused(f"{host} {verb} {reason}")
        return addresses

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressRefused("recording fetches never use Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _parsed(address: str) -> IPAddress:
    return ip_address(address.split("%", 1)[0])  # an IPv6 scope (`fe80::1%eth0`) is no part


def _is_address(host: str) -> bool:
    try:
        _parsed(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on a `GuardedBackend`, with no proxy from the environment."""

    def __init__(self, rules: AddressRules, resolve: Resolver | None = None) -> None:
        super().__init__(trust_env=False)
        # httpx offers no way to hand its connection pool a network backend: replace the pool.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(rules, resolve),
        )
