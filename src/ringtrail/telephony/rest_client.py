"""The HTTP side shared by the providers' REST API clients: a base URL and a connection pool
that the client closes only when it made it itself."""

from __future__ import annotations

from typing import Self

import httpx


class RestClient:
    """A provider REST API at `base_url`, over `client` or a pool of its own."""

    def __init__(self, base_url: str, client: httpx.Client | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None

    def close(self) -> None:
        """Close the HTTP connection pool if this client made it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
