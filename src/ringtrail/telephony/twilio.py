"""Twilio Voice: webhook signatures, call events from Twilio's callbacks, and the TwiML we answer.

Which callback gives which fact (docs/telephony/twilio.md):
- the voice webhook (the number's Voice URL) starts the call: `started`, with the line we
  forward to;
- the number's status callback follows the parent (inbound) call: `queued`/`initiated`/
  `ringing` start it, `in-progress` is the answer (with `answerOnBridge` the caller's leg is
  answered only when the business picks up), `completed`/`busy`/`no-answer`/`failed`/
  `canceled` end it. The parent's `CallDuration` is the total time;
- the <Dial action> callback reports the forwarded leg: `DialCallStatus` is the outcome and
  `DialCallDuration` the talk time, so a `completed` parent with an unanswered Dial is missed;
- the recording status callback (`RecordingStatus=completed`) says the audio can be fetched.

Parsers take the form fields as a plain mapping and the moment they were received (callbacks
without a `Timestamp` happen when they arrive); they return events or raise `InvalidPayload`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from ringtrail.domain.calls import CallEvent, CallEventKind, CallOutcome
from ringtrail.telephony.errors import BadSignature, InvalidPayload

PROVIDER = "twilio"
RECORDING_HOSTS = ("api.twilio.com", "api.*.twilio.com")
"""Where a RecordingUrl may point: the REST API and its regional hosts (api.dublin.ie1...)."""
RECORDING_REDIRECT_HOSTS = (
    "*.twilio.com",
    "*.twiliocdn.com",
    "s3.amazonaws.com",
    "*.s3.amazonaws.com",
    "s3.*.amazonaws.com",
    "*.s3.*.amazonaws.com",
    "s3-external-1.amazonaws.com",
)
"""Where Twilio's media answer may redirect the download: its CDN and its S3 storage."""
SIGNATURE_HEADER = "X-Twilio-Signature"
NOT_VERIFIED = f"{SIGNATURE_HEADER} does not match this request"
"""The one refusal for an unknown AccountSid, an account without a token and a wrong signature:
answering them alike tells nobody which AccountSids this installation knows."""
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
DEFAULT_ALGORITHM = "HMAC_SHA1"
DIAL_TIMEOUT_SECONDS = 30
"""How long the business line rings before the Dial gives up (Twilio's own default is 30)."""

RECORD_MODE = "record-from-answer-dual"
"""Caller and business on separate channels, from the answer: what transcription wants."""

UNROUTED_MESSAGE = "Sorry, this number cannot take your call right now. Please try again later."

STARTING_STATUSES = frozenset({"queued", "initiated", "ringing"})
ENDING_OUTCOMES: Mapping[str, CallOutcome | None] = {
    # The parent's `completed` says nothing about whether anyone answered: the Dial does.
    "completed": None,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.CANCELED,
}
DIAL_OUTCOMES: Mapping[str, CallOutcome] = {
    "completed": CallOutcome.ANSWERED,
    "answered": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.CANCELED,
}


class _FormParams(dict[str, list[str]]):
    """Form fields with every value kept, in the shape RequestValidator reads (`getlist`)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def check_signature(
    auth_token: str | None,
    url: str,
    params: Mapping[str, Sequence[str]],
    signature: str | None,
    *,
    signature_settings: str | None = None,
) -> None:
    """Raise `BadSignature` unless `signature` is Twilio's for `url` and the form `params`.

    `url` is the public address Twilio requested, query included. Fails closed: no token, no
    signature or an algorithm the library does not know are all refusals.
    """
    if not auth_token:
        raise BadSignature(NOT_VERIFIED)
    if not signature:
        raise BadSignature(f"missing {SIGNATURE_HEADER} header")
    algorithm = _signature_algorithm(signature_settings)
    fields = _FormParams({name: list(values) for name, values in params.items()})
    validator = RequestValidator(auth_token)
    # Only newer releases of the library take an algorithm; the default needs none.
    extra = () if algorithm == DEFAULT_ALGORITHM else (algorithm,)
    if not validator.validate(url, fields, signature, *extra):
        raise BadSignature(NOT_VERIFIED)


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio sends for `url` and `params` (for tests and tooling)."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def _signature_algorithm(settings_header: str | None) -> str:
    """The algorithm named in the signature settings header; HMAC-SHA1 without one."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip()
    return DEFAULT_ALGORITHM


def voice_events(
    params: Mapping[str, str], *, received_at: datetime, forwarded_to: str | None = None
) -> list[CallEvent]:
    """The `started` event of the voice webhook; `forwarded_to` is the line we dial."""
    call_sid = _required(params, "CallSid")
    return [
        _event(
            params,
            call_sid,
            CallEventKind.STARTED,
            received_at,
            "voice",
            forwarded_to=forwarded_to,
        )
    ]


def status_events(
    params: Mapping[str, str], *, received_at: datetime, forwarded: bool = True
) -> list[CallEvent]:
    """Events from a status callback of the parent call.

    `forwarded` is False when our TwiML had nobody to dial (a message, then hang up): Twilio
    itself answered to say it, so `in-progress` is no answer and the end means no answer.
    Child legs and outbound calls are not calls to a tracking number and give no events.
    """
    call_sid = _required(params, "CallSid")
    status = _required(params, "CallStatus")
    if params.get("ParentCallSid") or params.get("Direction", "inbound") != "inbound":
        return []
    occurred_at = _timestamp(params, received_at)
    extra = f"status-{status}"
    if status in STARTING_STATUSES:
        return [_event(params, call_sid, CallEventKind.STARTED, occurred_at, extra)]
    if status == "in-progress":
        if not forwarded:
            return []
        return [_event(params, call_sid, CallEventKind.ANSWERED, occurred_at, extra)]
    if status not in ENDING_OUTCOMES:
        raise InvalidPayload(f"unknown CallStatus {status!r}")
    outcome = ENDING_OUTCOMES[status]
    if outcome is None and not forwarded:
        outcome = CallOutcome.NO_ANSWER
    total = _seconds(params, "CallDuration")
    if total == 0:
        # Twilio leaves the duration empty (or 0) for calls never answered; the start and
        # end times then give the ringing time, which is what `total_seconds` means.
        total = None
    return [
        _event(
            params,
            call_sid,
            CallEventKind.ENDED,
            occurred_at,
            extra,
            outcome=outcome,
            total_seconds=total,
        )
    ]


def dial_events(params: Mapping[str, str], *, received_at: datetime) -> list[CallEvent]:
    """Events from the <Dial action> callback: the forwarded leg's outcome and talk time.

    A recording made by the Dial is announced here too, under the same key as the
    recording callback's, so whichever arrives first counts and the other is a redelivery.
    """
    call_sid = _required(params, "CallSid")
    dial_status = _required(params, "DialCallStatus")
    outcome = DIAL_OUTCOMES.get(dial_status)
    if outcome is None:
        raise InvalidPayload(f"unknown DialCallStatus {dial_status!r}")
    talk = _seconds(params, "DialCallDuration") if outcome is CallOutcome.ANSWERED else 0
    extra = f"dial-{params.get('DialCallSid') or dial_status}"
    events = [
        _event(
            params,
            call_sid,
            CallEventKind.ENDED,
            received_at,
            extra,
            outcome=outcome,
            talk_seconds=talk,
        )
    ]
    if params.get("RecordingUrl"):
        events.append(_recording_event(params, call_sid, received_at))
    return events


def recording_events(params: Mapping[str, str], *, received_at: datetime) -> list[CallEvent]:
    """`recording_ready` when a recording is complete; nothing for other recording statuses."""
    call_sid = _required(params, "CallSid")
    if _required(params, "RecordingStatus") != "completed":
        return []
    _required(params, "RecordingUrl")
    return [_recording_event(params, call_sid, received_at)]


def forward_twiml(
    forward_to: str,
    *,
    caller: str | None,
    action_url: str,
    recording_callback_url: str,
    timeout: int = DIAL_TIMEOUT_SECONDS,
) -> str:
    """TwiML that rings `forward_to`, showing the caller's number, and records the talk.

    `answerOnBridge` keeps the caller hearing ringing (and the call unanswered and unbilled)
    until the business picks up, so the parent call's answer is the business's answer.
    """
    response = VoiceResponse()
    dial = response.dial(
        action=action_url,
        method="POST",
        timeout=timeout,
        caller_id=caller if _is_e164(caller) else None,
        answer_on_bridge=True,
        record=RECORD_MODE,
        recording_status_callback=recording_callback_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    dial.number(forward_to)
    return str(response.to_xml())


def unrouted_twiml(message: str = UNROUTED_MESSAGE) -> str:
    """TwiML for a call with nowhere to go: a polite message, then hang up."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response.to_xml())


def hangup_twiml() -> str:
    """TwiML that ends the call (the answer to the <Dial action> callback)."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def recording_media_url(url: str) -> str:
    """The recording's audio address: Twilio's URL with `.wav` unless it names a format."""
    last_segment = urlsplit(url).path.rsplit("/", 1)[-1]
    return url if "." in last_segment else f"{url}.wav"


def _recording_event(params: Mapping[str, str], call_sid: str, received_at: datetime) -> CallEvent:
    url = params["RecordingUrl"]
    recording_sid = params.get("RecordingSid") or urlsplit(url).path.rstrip("/").rsplit("/")[-1]
    return _event(
        params,
        call_sid,
        CallEventKind.RECORDING_READY,
        received_at,
        recording_sid,
        recording_url=recording_media_url(url),
        recording_duration=_seconds(params, "RecordingDuration"),
    )


def _event(
    params: Mapping[str, str],
    call_sid: str,
    kind: CallEventKind,
    occurred_at: datetime,
    extra: str,
    *,
    forwarded_to: str | None = None,
    outcome: CallOutcome | None = None,
    total_seconds: int | None = None,
    talk_seconds: int | None = None,
    recording_url: str | None = None,
    recording_duration: int | None = None,
) -> CallEvent:
    return CallEvent(
        provider=PROVIDER,
        provider_call_id=call_sid,
        kind=kind,
        occurred_at=occurred_at,
        dedupe_key=f"{PROVIDER}:{call_sid}:{kind}:{extra}",
        dialled=params.get("To") or None,
        caller=params.get("From") or None,
        forwarded_to=forwarded_to,
        outcome=outcome,
        total_seconds=total_seconds,
        talk_seconds=talk_seconds,
        recording_url=recording_url,
        recording_duration=recording_duration,
        payload=dict(params),
    )


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise InvalidPayload(f"{name} is missing")
    return value


def _seconds(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidPayload(f"{name} must be a whole number of seconds, not {raw!r}")
    return int(raw)


def _timestamp(params: Mapping[str, str], received_at: datetime) -> datetime:
    """The callback's `Timestamp` (RFC 2822, UTC), or when it arrived if it has none."""
    raw = params.get("Timestamp", "").strip()
    if not raw:
        return received_at
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidPayload(f"Timestamp is not an RFC 2822 date: {raw!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_e164(number: str | None) -> bool:
    """A caller id Twilio accepts as `callerId`; anonymous or SIP callers are left out."""
    return number is not None and number.startswith("+") and number[1:].isdigit()
