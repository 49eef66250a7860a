"""Shared set-up of callback widget tests: a project with Twilio and the widget switched on."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ringtrail.domain.callback_widget import CONFIG_KEY, checked_settings
from ringtrail.settings import Settings
from ringtrail.storage.models import Project, TelephonyAccount
from tests.twilio_stub import TwilioStub

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-for-callback-tests"
BUSINESS = "+380441234567"
FROM_NUMBER = "+380443334455"
CUSTOMER = "+380501234567"
BASE = "http://testserver"
ALL_DAY = {"days": [0, 1, 2, 3, 4, 5, 6], "opens": "00:00", "closes": "00:00"}


@dataclass
class Widget:
    """The project under test and the Twilio stub its calls go to."""

    project_id: int
    key: str
    stub: TwilioStub


@pytest.fixture(name="twilio_stub")
def twilio_stub_fixture() -> Iterator[TwilioStub]:
    """The local Twilio REST server (import this fixture into a test module to use it)."""
    stub = TwilioStub(ACCOUNT_SID, TOKEN).start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture(name="settings")
def settings_fixture(database_url: str, tmp_path: Path, twilio_stub: TwilioStub) -> Settings:
    """The test settings, with Twilio's REST API at the local stub."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
        twilio_api_base_url=twilio_stub.base_url,
    )


def closed_today(zone: str) -> dict[str, Any]:
    """Working hours that are closed all of today (open only tomorrow, 09:00-18:00)."""
    tomorrow = (datetime.now(ZoneInfo(zone)).weekday() + 1) % 7
    return {"days": [tomorrow], "opens": "09:00", "closes": "18:00"}


def enable_widget(db: Session, project: Project, **changes: Any) -> None:
    """Switch the widget on with the test's numbers, open all day unless `hours` says."""
    raw: dict[str, Any] = {
        "enabled": True,
        "business_number": BUSINESS,
        "caller_id": FROM_NUMBER,
        "hours": ALL_DAY,
        "max_attempts": 1,
        "delay": {"seconds": 0},
        **changes,
    }
    widget = checked_settings(raw, project.default_country).to_json()
    project.extra = {**(project.extra or {}), CONFIG_KEY: widget}
    db.commit()


def add_twilio_account(db: Session, project: Project) -> None:
    db.add(
        TelephonyAccount(
            project_id=project.id,
            provider="twilio",
            account_ref=ACCOUNT_SID,
            secret=TOKEN,
            config={},
            is_active=True,
        )
    )
    db.commit()


def ask(
    client: TestClient,
    key: str,
    phone: str = CUSTOMER,
    *,
    origin: str | None = None,
    **extra: Any,
) -> Any:
    """POST /w/v1/callback as the widget does (JSON sent as text/plain)."""
    body = {
        "key": key,
        "phone": phone,
        "lang": "en",
        "url": "https://acme-realty.example/",
        **extra,
    }
    headers = {"Content-Type": "text/plain"}
    if origin:
        headers["Origin"] = origin
    return client.post("/w/v1/callback", content=json.dumps(body), headers=headers)


def signed_post(client: TestClient, path: str, form: Mapping[str, str]) -> Any:
    """A Twilio callback to `path`, signed as Twilio signs it."""
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, dict(form))
    return client.post(path, data=dict(form), headers={"X-Twilio-Signature": signature})
