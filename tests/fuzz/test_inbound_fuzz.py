"""Hypothesis on every webhook and the tracking endpoints: hostile input gets a 4xx, never a 5xx.

Each request is correctly signed (or comes from an allowed address), so the generated data
reaches the parsers and the ingestion behind them: odd text (NUL, lone surrogates, very long
strings), JSON nested thousands deep, dates from year 1 to 9999, huge numbers, missing and
extra fields. A provider retries a 5xx forever, so every refusal must be a 4xx with a reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import hypothesis.strategies as st
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ringtrail.runtime import Runtime
from ringtrail.services.tracking import add_number
from ringtrail.storage.models import TelephonyAccount
from ringtrail.telephony import signed, zadarma
from ringtrail.telephony.errors import InvalidPayload
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.fuzz.conftest import count_request, examples

FIXTURES = Path(__file__).parents[1] / "telephony" / "fixtures"
NUMBER = "+380441230001"
TWILIO_TOKEN = "twilio-auth-token-for-fuzzing"
ZADARMA_SECRET = "zadarma-secret-for-fuzzing"
BINOTEL_SERVER = "194.88.218.116"
EXAMPLES = 200

FUZZ = settings(
    max_examples=examples(EXAMPLES),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)

ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zs", "So"]), max_size=10),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff x", "x" * 5000, "‮", "%00", "../.."]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    ODD_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=16,
)
OFFSETS = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
ANY_DATE = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).flatmap(
        lambda moment: OFFSETS.map(lambda zone: moment.replace(tzinfo=zone).isoformat())
    ),
    st.sampled_from(["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-14:00", "2026-02-30"]),
    ODD_TEXT,
)
DEEP_JSON = st.integers(min_value=1, max_value=5000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def mutated(form: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """A form with some values replaced by odd text, some keys dropped and some added."""
    keys = sorted(form)
    return st.tuples(
        st.dictionaries(st.sampled_from(keys), ODD_TEXT, max_size=len(keys)),
        st.sets(st.sampled_from(keys), max_size=3),
        st.dictionaries(ODD_TEXT, ODD_TEXT, max_size=2),
    ).map(
        lambda change: {
            key: value
            for key, value in {**form, **change[0], **change[2]}.items()
            if key not in change[1]
        }
    )


def sendable(form: dict[str, str]) -> dict[str, str]:
    """The form as a client can send it: lone surrogates cannot be URL-encoded, so become '?'."""
    return {
        key.encode("utf-8", "replace").decode(): value.encode("utf-8", "replace").decode()
        for key, value in form.items()
    }


def recorded_form(name: str) -> dict[str, str]:
    body = (FIXTURES / name).read_text().strip()
    return dict(parse_qsl(body, keep_blank_values=True))


@pytest.fixture
def accounts(db: Session, world: World) -> World:
    """Our project's number and its Twilio, Zadarma and Binotel accounts."""
    project = world.ours.project
    add_number(db, project, {"number": NUMBER, "kind": "static", "source": "flyer"})
    sid = recorded_form("twilio_voice_inbound.txt")["AccountSid"]
    for provider, ref, secret, config in [
        ("twilio", sid, TWILIO_TOKEN, {}),
        ("zadarma", "user-key-1", ZADARMA_SECRET, {}),
        ("binotel", None, None, {"allowed_ips": ["194.88.218.0/24"]}),
    ]:
        db.add(
            TelephonyAccount(
                project_id=project.id,
                provider=provider,
                account_ref=ref,
                secret=secret,
                config=config,
                is_active=True,
            )
        )
    db.commit()
    return world


def answered(response: Any, where: str) -> None:
    count_request(where)
    assert response.status_code < 500, (where, response.status_code, response.text[:300])


SIGNED_EVENT = st.fixed_dictionaries(
    {
        "event": st.one_of(
            st.sampled_from(
                ["call.started", "call.answered", "call.ended", "call.recording_ready"]
            ),
            ODD_TEXT,
        ),
        "call_id": ODD_TEXT,
        "occurred_at": ANY_DATE,
    },
    optional={
        "event_id": ODD_TEXT,
        "to": st.one_of(st.just(NUMBER), ODD_TEXT),
        "from": ODD_TEXT,
        "outcome": st.one_of(st.sampled_from(["answered", "busy"]), ODD_TEXT),
        "total_seconds": JSON_LEAVES,
        "talk_seconds": JSON_LEAVES,
        "recording_url": ODD_TEXT,
        "meta": JSON_VALUES,
    },
)
SIGNED_BODY = st.one_of(
    SIGNED_EVENT.map(json.dumps),
    st.lists(SIGNED_EVENT, min_size=1, max_size=3).map(lambda e: json.dumps({"events": e})),
    JSON_VALUES.map(json.dumps),
    DEEP_JSON,
    st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
)


@pytest.mark.usefixtures("no_errors_logged")
def test_the_signed_webhook_answers_any_signed_body_with_a_4xx_or_success(
    client: TestClient, accounts: World
) -> None:
    project = accounts.ours.project

    @given(body=SIGNED_BODY)
    @FUZZ
    def send(body: str) -> None:
        raw = body.encode("utf-8", "surrogatepass")
        sent_at = int(time.time())
        response = client.post(
            f"/hooks/v1/{project.public_key}/calls",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Ringtrail-Timestamp": str(sent_at),
                "X-Ringtrail-Signature": signed.sign(project.webhook_secret, sent_at, raw),
            },
        )
        answered(response, "signed webhook")

    send()


TWILIO_FORMS = [
    ("/hooks/twilio/voice", "twilio_voice_inbound.txt"),
    ("/hooks/twilio/status", "twilio_status_completed.txt"),
    ("/hooks/twilio/dial-done", "twilio_dial_completed.txt"),
    ("/hooks/twilio/recording", "twilio_recording_completed.txt"),
]


@pytest.mark.usefixtures("no_errors_logged", "accounts")
def test_twilio_webhooks_answer_any_signed_form_with_a_4xx_or_success(
    client: TestClient,
) -> None:
    validator = RequestValidator(TWILIO_TOKEN)
    cases = st.sampled_from(TWILIO_FORMS).flatmap(
        lambda case: st.tuples(st.just(case[0]), mutated(recorded_form(case[1])))
    )

    @given(case=cases, odd_timestamp=maybe(ANY_DATE))
    @FUZZ
    def send(case: tuple[str, dict[str, str]], odd_timestamp: str | None) -> None:
        path, form = case
        if odd_timestamp is not None:
            form = {**form, "Timestamp": odd_timestamp}
        form = sendable(form)
        signature = validator.compute_signature(f"http://testserver{path}", form)
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        answered(response, "twilio")

    send()


ZADARMA_FORMS = st.sampled_from(["NOTIFY_START", "NOTIFY_ANSWER", "NOTIFY_END"]).map(
    lambda event: {
        "event": event,
        "pbx_call_id": "in_fuzz_1",
        "call_start": "2026-03-10 12:00:00",
        "caller_id": "+380501234567",
        "called_did": NUMBER.lstrip("+"),
        "internal": "100",
        "destination": "100",
        "duration": "42",
        "disposition": "answered",
        "status_code": "16",
        "is_recorded": "1",
        "call_id_with_rec": "rec-1",
    }
)


@pytest.mark.usefixtures("no_errors_logged")
def test_zadarma_answers_any_signed_notification_with_a_4xx_or_success(
    client: TestClient, accounts: World
) -> None:
    key = accounts.ours.project.public_key

    @given(form=ZADARMA_FORMS.flatmap(mutated))
    @FUZZ
    def send(form: dict[str, str]) -> None:
        form = sendable(form)
        try:
            headers = {"Signature": zadarma.sign(ZADARMA_SECRET, zadarma.signed_text(form))}
        except InvalidPayload:  # a form Zadarma would not sign goes unsigned
            headers = {}
        answered(client.post(f"/hooks/zadarma/{key}", data=form, headers=headers), "zadarma")

    send()


@pytest.fixture
def binotel_client(runtime: Runtime) -> Iterator[TestClient]:
    """A client whose requests come from Binotel's server."""
    with TestClient(create_app(runtime), client=(BINOTEL_SERVER, 40000)) as client:
        yield client


@pytest.mark.usefixtures("no_errors_logged")
def test_binotel_answers_any_form_from_its_server_with_a_4xx_or_success(
    binotel_client: TestClient, accounts: World
) -> None:
    key = accounts.ours.project.public_key
    recorded = recorded_form("binotel_call_completed_tracking.txt")

    @given(form=mutated(recorded), raw=maybe(st.binary(max_size=200)))
    @FUZZ
    def send(form: dict[str, str], raw: bytes | None) -> None:
        body = raw if raw is not None else urlencode(form, encoding="utf-8", errors="replace")
        response = binotel_client.post(
            f"/hooks/binotel/{key}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        answered(response, "binotel")

    send()


VISIT_BODY = st.fixed_dictionaries(
    {"url": st.one_of(st.just("https://acme-realty.example/?gclid=x"), ODD_TEXT)},
    optional={
        "visitor": maybe(ODD_TEXT),
        "referrer": ODD_TEXT,
        "cookies": st.one_of(st.dictionaries(ODD_TEXT, ODD_TEXT, max_size=4), JSON_VALUES),
        "visible": JSON_LEAVES,
        "extra": JSON_VALUES,
    },
)


@pytest.mark.usefixtures("no_errors_logged")
def test_the_tracking_endpoints_answer_anything_with_a_4xx_or_success(
    client: TestClient, world: World
) -> None:
    key = world.ours.project.public_key
    origin = "https://acme-realty.example"
    bodies = st.one_of(
        VISIT_BODY.map(lambda body: ("/t/v1/visit", json.dumps({"key": key, **body}))),
        st.fixed_dictionaries(
            {"key": st.just(key), "visit": ODD_TEXT, "visitor": maybe(ODD_TEXT)},
            optional={"visible": JSON_LEAVES, "seconds": JSON_LEAVES},
        ).map(lambda body: ("/t/v1/heartbeat", json.dumps(body))),
        st.tuples(st.sampled_from(["/t/v1/visit", "/t/v1/heartbeat"]), DEEP_JSON),
        st.tuples(st.sampled_from(["/t/v1/visit", "/t/v1/heartbeat"]), JSON_VALUES.map(json.dumps)),
    )

    @given(case=bodies)
    @FUZZ
    def send(case: tuple[str, str]) -> None:
        path, body = case
        response = client.post(
            path,
            content=body.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": "Mozilla/5.0"},
        )
        answered(response, "tracking")

    send()
