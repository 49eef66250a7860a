"""Per-provider recording resolvers: turn a provider's recording URL into a download request.

A call's `provider` picks the resolver (`RESOLVERS`); providers not listed get a plain GET of
the URL. A resolver adds what the provider needs: credentials (Twilio's basic auth), a file
format, or an API call that exchanges a reference for a short-lived URL (Zadarma, Binotel). It also
names the provider's documented recording hosts (`hosts`): the download goes nowhere else,
but to the hosts the project's owner adds on the account. Adding a provider touches this
registry only: write a class with `hosts` and `resolve` and register it below (or call
`register_resolver` from the provider's package).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import httpx

from ringtrail.recordings.fetch import DownloadRequest, FetchFailed, describe_url
from ringtrail.recordings.hosts import RecordingHosts, listed_hosts
from ringtrail.recordings.policy import FailureKind
from ringtrail.settings import Settings
from ringtrail.telephony import twilio
from ringtrail.telephony.binotel_api import BinotelRecordingResolver
from ringtrail.telephony.zadarma_api import ZadarmaRecordingResolver


@dataclass(frozen=True)
class ProviderAccount:
    """What a resolver may use of the project's account with the provider."""

    account_ref: str | None
    secret: str | None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def recording_hosts(self) -> tuple[str, ...]:
        """The hosts the owner allows recordings from, besides the provider's own."""
        return listed_hosts(self.config)


class RecordingResolver(Protocol):
    """Makes the download request for a recording URL of one provider."""

    hosts: RecordingHosts
    """The provider's documented recording hosts (none for a provider that has no fixed ones)."""

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        """The request to make; may call the provider's API with `http`.

        Raises FetchFailed when the recording cannot be located (its `kind` says whether
        trying again later may help).
        """
        ...


class PlainResolver:
    """A plain GET of the URL, no credentials, from `hosts` (and those the owner lists)."""

    def __init__(self, hosts: RecordingHosts | None = None) -> None:
        self.hosts = hosts or RecordingHosts()

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        return DownloadRequest(url)


class TwilioResolver:
    """Twilio: basic auth with AccountSid and auth token; a format extension on the URL.

    Twilio's RecordingUrl has no extension and serves WAV by default; appending `.mp3` gets
    MP3 (about a tenth of the size), `.wav` asks for WAV explicitly. The account's
    `config["recording_format"]` picks (`mp3` by default). With "HTTP basic authentication
    for media access" on, the media URL needs the AccountSid and auth token: they are sent to
    Twilio's own API hosts only, never to another host named in a URL.
    """

    FORMATS = ("mp3", "wav")
    hosts = RecordingHosts(twilio.RECORDING_HOSTS, twilio.RECORDING_REDIRECT_HOSTS)

    def resolve(
        self, url: str, account: ProviderAccount | None, http: httpx.Client
    ) -> DownloadRequest:
        parts = urlsplit(url)
        if not self.hosts.allows(parts.hostname or "", redirected=False):
            raise FetchFailed(
                f"not a Twilio recording URL: {describe_url(url)}", FailureKind.PERMANENT
            )
        fmt = str((account.config if account else {}).get("recording_format", "mp3")).lower()
        if fmt not in self.FORMATS:
            fmt = "mp3"
        path = parts.path
        if not path.lower().endswith((".mp3", ".wav")):
            path = f"{path.rstrip('/')}.{fmt}"
        auth = None
        if account is not None and account.account_ref and account.secret:
            auth = (account.account_ref, account.secret)
        return DownloadRequest(urlunsplit(parts._replace(path=path)), auth=auth)


RESOLVERS: dict[str, RecordingResolver] = {
    "twilio": TwilioResolver(),
    "zadarma": ZadarmaRecordingResolver(),
    "binotel": BinotelRecordingResolver(),
}
_PLAIN = PlainResolver()


def register_resolver(provider: str, resolver: RecordingResolver) -> None:
    """Use `resolver` for the recordings of calls whose `provider` is `provider`."""
    RESOLVERS[provider] = resolver


def resolver_for(provider: str, settings: Settings | None = None) -> RecordingResolver:
    """The resolver for a call's provider (a plain GET for providers without one).

    A resolver that calls a provider's API whose address is a setting has a `configured`
    method: with `settings` given, it answers the resolver for those settings.
    """
    resolver = RESOLVERS.get(provider, _PLAIN)
    configure = getattr(resolver, "configured", None)
    if settings is not None and callable(configure):
        return cast(RecordingResolver, configure(settings))
    return resolver
