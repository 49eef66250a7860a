"""A small client for Zadarma's REST API: signed requests, and the link to a call's recording.

Authentication (Zadarma's API docs and official SDKs): the parameters, with `format=json`
added, are sorted by name and URL-encoded (spaces as `+`); the header is
`Authorization: <user key>:<base64(hex(HMAC-SHA1(secret, path + query + md5(query))))>`,
where `path` is the method path with its version, such as `/v1/pbx/record/request/`.
Used by the recordings job to turn a `zadarma-record:` reference into a download link
(`ZadarmaRecordingResolver`, the recordings resolver for provider `zadarma`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from ringtrail.recordings.fetch import DownloadRequest, FetchFailed
from ringtrail.recordings.hosts import RecordingHosts
from ringtrail.recordings.policy import FailureKind
from ringtrail.telephony.rest_client import RestClient
from ringtrail.telephony.zadarma import parse_recording_ref

if TYPE_CHECKING:  # the resolvers registry imports this module
    from ringtrail.recordings.resolvers import ProviderAccount

API_URL = "https://api.zadarma.com"
RECORDING_HOSTS = ("api.zadarma.com", "*.zadarma.com")
"""Where the links Zadarma's API gives for recordings point (`/v1/pbx/record/download/...`)."""
RECORD_REQUEST_PATH = "/v1/pbx/record/request/"
MIN_LINK_LIFETIME = 180
MAX_LINK_LIFETIME = 5_184_000


class ZadarmaApiError(RuntimeError):
    """Zadarma answered with an error, or with something that is not its JSON."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class RecordingLink:
    """Where a recording can be downloaded, and until when (Zadarma's text, PBX time)."""

    url: str
    lifetime_till: str | None


def query_string(params: Mapping[str, str]) -> str:
    """Parameters sorted by name and URL-encoded the way Zadarma signs them."""
    return urlencode(sorted(params.items()))


def auth_header(user_key: str, secret: str, path: str, params: Mapping[str, str]) -> str:
    """The `Authorization` header value for a request to `path` with `params`."""
    query = query_string(params)
    text = path + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 (Zadarma's scheme)
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return f"{user_key}:{base64.b64encode(digest.encode()).decode()}"


class ZadarmaApi(RestClient):
    """Zadarma's REST API for one account (`user_key` and `secret` from its API page)."""

    def __init__(
        self,
        user_key: str,
        secret: str,
        *,
        base_url: str = API_URL,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, client, timeout)
        self.user_key = user_key
        self.secret = secret

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """A signed GET of `path`; the decoded JSON of a successful answer."""
        signed = {**(params or {}), "format": "json"}
        headers = {"Authorization": auth_header(self.user_key, self.secret, path, signed)}
        url = f"{self.base_url}{path}?{query_string(signed)}"
        try:
            response = self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise ZadarmaApiError(f"Zadarma API unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise ZadarmaApiError(
                f"Zadarma API answered {response.status_code} without JSON",
                status_code=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise ZadarmaApiError("Zadarma API answered a non-object", status_code=200)
        if response.status_code >= 400 or body.get("status") == "error":
            message = str(body.get("message") or f"HTTP {response.status_code}")
            raise ZadarmaApiError(f"Zadarma API error: {message}", status_code=response.status_code)
        return body

    def request_recording(
        self,
        *,
        call_id: str | None = None,
        pbx_call_id: str | None = None,
        lifetime: int | None = None,
    ) -> RecordingLink:
        """A download link for a recording, by its `call_id` (preferred) or the PBX call id."""
        params = {
            name: value
            for name, value in (("call_id", call_id), ("pbx_call_id", pbx_call_id))
            if value
        }
        if not params:
            raise ValueError("call_id or pbx_call_id is required")
        if lifetime is not None:
            if not MIN_LINK_LIFETIME <= lifetime <= MAX_LINK_LIFETIME:
                raise ValueError(
                    f"lifetime must be {MIN_LINK_LIFETIME} to {MAX_LINK_LIFETIME} seconds"
                )
            params["lifetime"] = str(lifetime)
        body = self.get(RECORD_REQUEST_PATH, params)
        link = body.get("link")
        if not link:
            links = body.get("links") or []
            link = links[0] if isinstance(links, list) and links else None
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise ZadarmaApiError("Zadarma API gave no recording link", status_code=200)
        lifetime_till = body.get("lifetime_till")
        return RecordingLink(url=link, lifetime_till=str(lifetime_till) if lifetime_till else None)


def resolve_recording_url(reference: str, api: ZadarmaApi) -> str:
    """The download URL for a `zadarma-record:<pbx_call_id>:<call_id>` reference, fetched now."""
    pbx_call_id, call_id = parse_recording_ref(reference)
    return api.request_recording(call_id=call_id, pbx_call_id=pbx_call_id).url


class ZadarmaRecordingResolver:
    """Recordings resolver for Zadarma: a `zadarma-record:` reference → a fresh download link.

    Uses the account's `account_ref` (API key) and `secret`. The API host is fixed per
    process (`base_url`), never taken from a project's settings, so no tenant can point the
    worker at another host. A plain http(s) URL is downloaded as it is, from Zadarma's hosts
    (`RECORDING_HOSTS`) only, like the links the API gives.
    """

    hosts = RecordingHosts(RECORDING_HOSTS)

    def __init__(self, base_url: str = API_URL) -> None:
        self.base_url = base_url

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        if url.startswith(("https://", "http://")):
            return DownloadRequest(url)
        try:
            pbx_call_id, call_id = parse_recording_ref(url)
        except ValueError as exc:
            raise FetchFailed(str(exc), FailureKind.PERMANENT) from None
        if account is None or not account.account_ref or not account.secret:
            raise FetchFailed(
                "the Zadarma account needs its API key (account_ref) and secret to fetch "
                "recordings",
                FailureKind.REJECTED,
            )
        api = ZadarmaApi(account.account_ref, account.secret, base_url=self.base_url, client=http)
        try:
            link = api.request_recording(call_id=call_id, pbx_call_id=pbx_call_id)
        except ZadarmaApiError as exc:
            # A 4xx is a refusal; an error in a 200 answer is usually "not saved yet" (Zadarma
            # needs about 40 s after the call), worth waiting for like a network error.
            status = exc.status_code
            refused = status is not None and 400 <= status < 500 and status != 429
            kind = FailureKind.REJECTED if refused else FailureKind.TRANSIENT
            raise FetchFailed(str(exc), kind, exc.status_code) from None
        return DownloadRequest(link.url)
