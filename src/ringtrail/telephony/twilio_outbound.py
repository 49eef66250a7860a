"""Twilio outbound calls for the callback widget: the TwiML of a callback and the REST client.

A callback rings the business first. When it answers, Twilio runs the TwiML given to
Calls create: `<Say>` tells who is waiting (in the project's language), then `<Dial>` rings
the customer, records the talk (both channels, from the answer) and reports its outcome to
the Dial `action`; the customer's `<Number>` reports its answer to its own status callback,
the moment that ends "seconds to connect". The business leg's status callback
(`initiated ringing answered completed`) reports whether the business answered at all.

Calls are created through the official `twilio` library; its API base URL is a setting
(`RINGTRAIL_TWILIO_API_BASE_URL`) so a local server speaking Twilio's REST API can stand in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from ringtrail.telephony.twilio import RECORD_MODE

BUSINESS_RING_SECONDS = 30
CUSTOMER_RING_SECONDS = 30
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
MAX_TWIML = 4000
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CallbackUrls:
    """Where Twilio reports a callback's legs (absolute public URLs)."""

    business_status: str
    dial_done: str
    customer_status: str
    recording: str


class PlacingFailed(Exception):
    """Twilio did not take the call; `transient` when trying again later may work."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class OutboundCaller(Protocol):
    """Creates an outbound call and returns its CallSid."""

    def create_call(
        self,
        account_sid: str,
        auth_token: str,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str,
    ) -> str:
        """Place the call; raises `PlacingFailed`."""
        ...


def callback_twiml(
    *,
    announcement: str,
    language: str,
    customer: str,
    caller_id: str,
    urls: CallbackUrls,
) -> str:
    """What the business hears and what Twilio does next: say who waits, ring the customer."""
    response = VoiceResponse()
    response.say(announcement, language=language)
    dial = response.dial(
        action=urls.dial_done,
        method="POST",
        timeout=CUSTOMER_RING_SECONDS,
        caller_id=caller_id,
        record=RECORD_MODE,
        recording_status_callback=urls.recording,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    dial.number(
        customer,
        status_callback=urls.customer_status,
        status_callback_event="answered completed",
        status_callback_method="POST",
    )
    body = str(response.to_xml())
    if len(body) > MAX_TWIML:
        raise PlacingFailed("the callback's TwiML is longer than Twilio takes", transient=False)
    return body


class TwilioRestCaller:
    """Calls create through the `twilio` library, against `base_url`."""

    def __init__(self, base_url: str = "https://api.twilio.com", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def create_call(
        self,
        account_sid: str,
        auth_token: str,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str,
    ) -> str:
        client = Client(account_sid, auth_token)
        client.api.base_url = self.base_url
        client.http_client.timeout = self.timeout
        try:
            call = client.calls.create(
                to=to,
                from_=from_,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(STATUS_EVENTS),
                timeout=BUSINESS_RING_SECONDS,
            )
        except TwilioRestException as exc:
            raise PlacingFailed(
                f"Twilio refused the call ({exc.status}, code {exc.code}): {exc.msg}",
                transient=exc.status in TRANSIENT_STATUSES,
            ) from exc
        except (TwilioException, OSError) as exc:
            raise PlacingFailed(f"Twilio could not be reached: {exc}", transient=True) from exc
        except Exception as exc:  # requests' connection errors and timeouts
            raise PlacingFailed(f"Twilio could not be reached: {exc}", transient=True) from exc
        return str(call.sid)
