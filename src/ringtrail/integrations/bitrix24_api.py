"""A small Bitrix24 REST client: one method call, over an incoming webhook or an OAuth app.

Webhook: `POST <webhook URL><method>.json` with a JSON body; the URL's code is the secret.
OAuth (a local app): `POST <client_endpoint><method>.json` with `auth=<access token>` in the
body; an `expired_token` answer refreshes the pair once at the OAuth server
(`GET /oauth/token/?grant_type=refresh_token...`, which returns a new refresh token too) and
repeats the call. The new pair goes to the `TokenStore`, so the next call (and, with a
persistent store, the next process) uses it.

Bitrix24 answers `{"result": ..., "time": {...}}` or `{"error": "...", "error_description":
"..."}`; `Bitrix24Error` carries the code, the HTTP status and whether trying again later can
help (QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT come as 503, OPERATION_TIME_LIMIT as 429).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any, Protocol

import httpx

DEFAULT_OAUTH_SERVER = "https://oauth.bitrix.info"
RETRY_CODES = frozenset(
    {"QUERY_LIMIT_EXCEEDED", "OVERLOAD_LIMIT", "OPERATION_TIME_LIMIT", "INTERNAL_SERVER_ERROR"}
)
AUTH_CODES = frozenset({"NO_AUTH_FOUND", "expired_token", "invalid_token", "INVALID_CREDENTIALS"})
WORDS = {
    "NO_AUTH_FOUND": "Bitrix24 does not know this webhook or app token: it was deleted, "
    "expired or mistyped; connect Bitrix24 again",
    "invalid_token": "Bitrix24 refused the app's access token; connect Bitrix24 again",
    "expired_token": "the Bitrix24 access token expired and could not be renewed; "
    "connect Bitrix24 again",
    "INVALID_CREDENTIALS": "Bitrix24 refused the credentials; connect Bitrix24 again",
    "insufficient_scope": "the Bitrix24 webhook or app lacks a permission it needs "
    "(crm, telephony): add it in Bitrix24",
    "ACCESS_DENIED": "Bitrix24 denied access: REST needs a commercial plan, "
    "and the connecting user needs rights to CRM",
    "WRONG_AUTH_TYPE": "Bitrix24 lets only an app (OAuth) connection do this, not a webhook",
    "QUERY_LIMIT_EXCEEDED": "Bitrix24's request limit for the portal is reached; "
    "trying again later",
    "OVERLOAD_LIMIT": "Bitrix24 is overloaded; trying again later",
    "OPERATION_TIME_LIMIT": "Bitrix24's time limit for this method is used up; trying again later",
    "invalid_grant": "Bitrix24 refused to renew the app's token (the refresh token expired "
    "or was replaced); connect Bitrix24 again",
}


class Bitrix24Error(Exception):
    """A call Bitrix24 refused or could not take; `retry`: trying again later may help."""

    def __init__(
        self, code: str, description: str, status_code: int | None, *, retry: bool
    ) -> None:
        self.code = code
        self.description = description
        self.status_code = status_code
        self.retry = retry
        super().__init__(self.words)

    @property
    def words(self) -> str:
        known = WORDS.get(self.code)
        if known:
            return known
        detail = f": {self.description}" if self.description not in ("", self.code) else ""
        if self.retry:
            return f"Bitrix24 could not take it now ({self.code}{detail}); trying again later"
        return f"Bitrix24 refused it ({self.code}{detail})"


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str


class TokenStore(Protocol):
    """Where renewed OAuth tokens are kept, by the app's client id and portal."""

    def get(self, key: str) -> OAuthTokens | None: ...

    def put(self, key: str, tokens: OAuthTokens) -> None: ...


class MemoryTokenStore:
    """Renewed tokens for this process's life (the stored config has the first pair)."""

    def __init__(self) -> None:
        self._tokens: dict[str, OAuthTokens] = {}
        self._lock = Lock()

    def get(self, key: str) -> OAuthTokens | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: str, tokens: OAuthTokens) -> None:
        with self._lock:
            self._tokens[key] = tokens


@dataclass(frozen=True)
class Connection:
    """How to reach one portal: `webhook_url`, or an OAuth app's endpoint and keys."""

    webhook_url: str | None = None
    client_endpoint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    tokens: OAuthTokens | None = None
    oauth_server: str = DEFAULT_OAUTH_SERVER
    timeout_seconds: float = 20.0

    @property
    def is_app(self) -> bool:
        return self.webhook_url is None

    @property
    def store_key(self) -> str:
        return f"{self.client_id}@{self.client_endpoint}"


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def error_of(response: httpx.Response) -> Bitrix24Error | None:
    """The error a Bitrix24 answer carries (None: it carries a result)."""
    body = _body(response)
    code = response.status_code
    if 200 <= code < 300 and "error" not in body:
        if "result" not in body:
            return Bitrix24Error("NO_RESULT", "the answer has no result", code, retry=True)
        return None
    name = str(body.get("error") or f"HTTP_{code}")
    description = str(body.get("error_description") or "")
    retry = name in RETRY_CODES or code >= 500 or code == 429
    if name in AUTH_CODES or name in ("insufficient_scope", "ACCESS_DENIED"):
        retry = False
    return Bitrix24Error(name, description, code, retry=retry)


class Bitrix24Api:
    """Calls REST methods of one portal through `client`."""

    def __init__(
        self, client: httpx.Client, connection: Connection, store: TokenStore | None = None
    ) -> None:
        self.client = client
        self.connection = connection
        self.store = store or MemoryTokenStore()

    def _tokens(self) -> OAuthTokens:
        kept = self.store.get(self.connection.store_key)
        given = self.connection.tokens
        if kept is not None:
            return kept
        if given is None:
            raise Bitrix24Error("NO_AUTH_FOUND", "no access token", None, retry=False)
        return given

    def _url(self, method: str) -> str:
        base = self.connection.webhook_url or self.connection.client_endpoint or ""
        return base.rstrip("/") + "/" + method + ".json"

    def _post(self, method: str, params: Mapping[str, Any], token: str | None) -> httpx.Response:
        body = dict(params)
        if token is not None:
            body["auth"] = token
        try:
            return self.client.post(
                self._url(method), json=body, timeout=self.connection.timeout_seconds
            )
        except httpx.TimeoutException:
            raise Bitrix24Error(
                "TIMEOUT", f"no answer to {method} in time", None, retry=True
            ) from None
        except httpx.TransportError as exc:
            raise Bitrix24Error("UNREACHABLE", str(exc), None, retry=True) from None

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """The `result` of `method`; Bitrix24Error when refused or unreachable."""
        params = params or {}
        if not self.connection.is_app:
            response = self._post(method, params, None)
        else:
            response = self._post(method, params, self._tokens().access_token)
            if _body(response).get("error") == "expired_token":
                self.refresh()
                response = self._post(method, params, self._tokens().access_token)
        error = error_of(response)
        if error is not None:
            raise error
        return _body(response)["result"]

    def refresh(self) -> OAuthTokens:
        """Renew the app's token pair at the OAuth server and keep the new pair."""
        connection = self.connection
        url = connection.oauth_server.rstrip("/") + "/oauth/token/"
        query = {
            "grant_type": "refresh_token",
            "client_id": connection.client_id or "",
            "client_secret": connection.client_secret or "",
            "refresh_token": self._tokens().refresh_token,
        }
        try:
            response = self.client.get(url, params=query, timeout=connection.timeout_seconds)
        except httpx.TransportError as exc:
            raise Bitrix24Error("UNREACHABLE", str(exc), None, retry=True) from None
        body = _body(response)
        if response.status_code >= 500:
            raise Bitrix24Error(
                f"HTTP_{response.status_code}", "", response.status_code, retry=True
            )
        if "access_token" not in body or "refresh_token" not in body:
            code = str(body.get("error") or "invalid_grant")
            description = str(body.get("error_description") or "")
            raise Bitrix24Error(code, description, response.status_code, retry=False)
        tokens = OAuthTokens(str(body["access_token"]), str(body["refresh_token"]))
        self.store.put(connection.store_key, tokens)
        return tokens
