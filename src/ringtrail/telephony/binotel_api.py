"""A small client for Binotel's REST API, and the recordings resolver that uses it.

Binotel's API (developers.binotel.ua, version 4.0): every method is a `POST` of a JSON object
to `<base>/<group>/<method>.json` holding the account's `key` and `secret` besides the
method's parameters; the answer is JSON with `status` `success`, or `error` with `code` and
`message`. `stats/call-record` takes a call's `generalCallID` and answers
`{"status": "success", "url": "..."}`: a link to the audio that lives about 15 minutes.

The recording link in Binotel's webhook (`linkToCallRecordInMyBusiness`) opens Binotel's
signed-in cabinet, so recordings are fetched this way instead: a call's recording is the
reference `binotel-record:<generalCallID>` (ringtrail.telephony.binotel), which
`BinotelRecordingResolver` exchanges for a fresh link at every try, with the project's
Binotel key (`account_ref`) and secret; a link that has expired by the time it is
downloaded (403, 404 or 410) is asked for again once (`DownloadRequest.renew`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ringtrail.recordings.fetch import DownloadRequest, FetchFailed
from ringtrail.recordings.hosts import RecordingHosts
from ringtrail.recordings.policy import FailureKind
from ringtrail.telephony.binotel import parse_recording_ref
from ringtrail.telephony.rest_client import RestClient

if TYPE_CHECKING:  # the resolvers registry imports this module
    from ringtrail.recordings.resolvers import ProviderAccount
    from ringtrail.settings import Settings

API_URL = "https://api.binotel.com/api/4.0"
CALL_RECORD_METHOD = "stats/call-record"
LINK_LIFETIME_SECONDS = 15 * 60
RECORDING_HOSTS = ("*.binotel.com", "*.binotel.ua", "*.s3.amazonaws.com", "*.s3.*.amazonaws.com")
"""Where the links of `stats/call-record` point: Binotel's hosts and the S3 buckets it stores
recordings in (`cdnNNNN.s3.eu-west-1.amazonaws.com`). Such a link only ever comes from the
API, over an authenticated request to the operator's `RINGTRAIL_BINOTEL_API_URL`."""
_CREDENTIAL_WORDS = ("key", "secret", "auth", "access")


class BinotelApiError(RuntimeError):
    """Binotel answered with an error, or with something that is not its JSON."""

    def __init__(
        self, message: str, *, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code

    @property
    def is_refusal(self) -> bool:
        """Whether trying again cannot help: the credentials or the request are refused."""
        if self.status_code in (401, 403):
            return True
        if self.status_code is not None and 400 <= self.status_code < 500:
            return self.status_code != 429
        text = str(self).lower()
        return any(word in text for word in _CREDENTIAL_WORDS)


class BinotelApi(RestClient):
    """Binotel's REST API for one account (`key` and `secret` issued by Binotel)."""

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        base_url: str = API_URL,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, client, timeout)
        self.key = key
        self.secret = secret

    def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """POST `method` (`group/name`) with `params`; the decoded answer when it succeeded."""
        body = {**params, "key": self.key, "secret": self.secret}
        try:
            response = self._client.post(f"{self.base_url}/{method}.json", json=body)
        except httpx.HTTPError as exc:
            raise BinotelApiError(f"Binotel API unreachable: {type(exc).__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            raise BinotelApiError(
                f"Binotel API answered {response.status_code} without JSON",
                status_code=response.status_code,
            ) from None
        if not isinstance(answer, dict):
            raise BinotelApiError("Binotel API answered a non-object", status_code=200)
        if response.status_code >= 400 or answer.get("status") != "success":
            code = answer.get("code")
            message = str(answer.get("message") or f"HTTP {response.status_code}")
            where = f" (code {code})" if code not in (None, "") else ""
            raise BinotelApiError(
                f"Binotel API error{where}: {message}"[:500],
                status_code=response.status_code,
                code=None if code is None else str(code),
            )
        return answer

    def call_record_url(self, general_call_id: str) -> str:
        """A download link (about 15 minutes' life) for the recording of a call."""
        answer = self.call(CALL_RECORD_METHOD, {"generalCallID": general_call_id})
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BinotelApiError("Binotel API gave no recording link", status_code=200)
        return url


class BinotelRecordingResolver:
    """Recordings resolver for Binotel: `binotel-record:<generalCallID>` → a fresh link.

    Uses the account's `account_ref` (Binotel's API key) and `secret`. The API's address is
    the operator's (`RINGTRAIL_BINOTEL_API_URL`, `configured`), never a project's, so no
    tenant can point the worker at another host. A cabinet link queued before recordings came
    from the API is exchanged too (its `fileName` is the call id); any other http(s) URL is
    downloaded as it is, from Binotel's hosts only.
    """

    hosts = RecordingHosts(RECORDING_HOSTS)

    def __init__(self, base_url: str = API_URL) -> None:
        self.base_url = base_url.rstrip("/")

    def configured(self, settings: Settings) -> BinotelRecordingResolver:
        """This resolver for the API address the settings name."""
        return BinotelRecordingResolver(settings.binotel_api_url)

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        if url.startswith(("https://", "http://")):
            general_call_id = _cabinet_call_id(url)
            if general_call_id is None:
                return DownloadRequest(url)
        else:
            try:
                general_call_id = parse_recording_ref(url)
            except ValueError as exc:
                raise FetchFailed(str(exc), FailureKind.PERMANENT) from None
        if account is None or not account.account_ref or not account.secret:
            raise FetchFailed(
                "the Binotel account needs its API key (account_ref) and secret to fetch "
                "recordings",
                FailureKind.REJECTED,
            )
        api = BinotelApi(account.account_ref, account.secret, base_url=self.base_url, client=http)

        def fresh_link() -> DownloadRequest:
            try:
                return DownloadRequest(api.call_record_url(general_call_id))
            except BinotelApiError as exc:
                # A refusal (credentials, a call that is not the account's) will not change;
                # anything else (no file yet, Binotel busy or down) is worth waiting for.
                kind = FailureKind.REJECTED if exc.is_refusal else FailureKind.TRANSIENT
                raise FetchFailed(str(exc), kind, exc.status_code) from None

        first = fresh_link()
        return DownloadRequest(first.url, renew=fresh_link)


def _cabinet_call_id(url: str) -> str | None:
    """The call id in a cabinet link (`my.binotel.ua/?module=cdrs&...&fileName=<id>.mp3`)."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != "my.binotel.ua":
        return None
    name = next((value for key, value in parse_qsl(parts.query) if key == "fileName"), "")
    stem = name.rsplit(".", 1)[0]
    return stem if stem.isdigit() and len(stem) <= 40 else None
