# ruff: noqa: RUF001  (Russian and Ukrainian texts on purpose)
"""The widget's pure rules: settings, working hours, outcomes, languages."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ringtrail.domain.callback_widget import (
    Outcome,
    WidgetSettings,
    WidgetSettingsError,
    WorkingHours,
    attempt_outcome,
    checked_settings,
    format_local,
    is_open,
    next_opening,
    page_language,
    when_to_call,
)
from ringtrail.domain.lead_guard import Refusal, Refused, check_daily_calls, check_submission

KYIV = ZoneInfo("Europe/Kyiv")
WEEKDAYS = WorkingHours((0, 1, 2, 3, 4), time(9), time(18))


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV).astimezone(UTC)  # type: ignore[misc]


def test_working_hours_are_read_in_the_projects_zone() -> None:
    assert is_open(WEEKDAYS, kyiv(2025, 3, 3, 9, 0), KYIV)  # Monday 09:00
    assert not is_open(WEEKDAYS, kyiv(2025, 3, 3, 8, 59), KYIV)
    assert not is_open(WEEKDAYS, kyiv(2025, 3, 3, 18, 0), KYIV)
    assert not is_open(WEEKDAYS, kyiv(2025, 3, 8, 12, 0), KYIV)  # Saturday
    whole_day = WorkingHours((5,), time(0), time(0))
    assert is_open(whole_day, kyiv(2025, 3, 8, 23, 59), KYIV)


def test_the_next_opening_skips_closed_days_and_follows_daylight_saving() -> None:
    friday_evening = kyiv(2025, 3, 28, 19, 0)
    opening = next_opening(WEEKDAYS, friday_evening, KYIV)
    # Summer time starts on Sunday the 30th: Monday 09:00 is 06:00 UTC, not 07:00.
    assert opening == datetime(2025, 3, 31, 6, 0, tzinfo=UTC)
    assert when_to_call(WEEKDAYS, friday_evening, KYIV) == (opening, False)
    morning = kyiv(2025, 3, 31, 10, 0)
    assert when_to_call(WEEKDAYS, morning, KYIV) == (morning, True)
    assert next_opening(WorkingHours((), time(9), time(18)), morning, KYIV) is None


def test_settings_are_checked_and_numbers_read_in_the_projects_country() -> None:
    settings = checked_settings(
        {
            "enabled": True,
            "business_number": "044 123 45 67",
            "hours": {"days": [4, 0, 0], "opens": "08:30", "closes": "20:00"},
            "texts": {"ru": {"button": "  Перезвоните  ", "title": ""}},
            "limits": {"blocked_numbers": "050 999 88 77\n+380509998876, +380509998876"},
        },
        "UA",
    )
    assert settings.business_number == "+380441234567"
    assert settings.hours == WorkingHours((0, 4), time(8, 30), time(20))
    assert settings.text("ru", "button") == "Перезвоните"
    assert settings.text("ru", "title") == "Мы вам перезвоним"
    assert settings.limits.blocked_numbers == ("+380509998877", "+380509998876")
    assert WidgetSettings.of({"callback_widget": settings.to_json()}) == settings


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"language": "de"}, "language"),
        ({"hours": {"opens": "25:00"}}, "hours.opens"),
        ({"hours": {"opens": "18:00", "closes": "09:00"}}, "hours.closes"),
        ({"hours": {"days": [7]}}, "hours.days"),
        ({"limits": {"per_address_per_hour": 0}}, "limits.per_address_per_hour"),
        ({"limits": {"blocked_numbers": ["12"]}}, "limits.blocked_numbers"),
        ({"texts": {"de": {"button": "x"}}}, "texts.de"),
        ({"texts": {"en": {"button": "x" * 201}}}, "texts.en.button"),
        ({"business_number": "12"}, "business_number"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_wrong_setting_is_named(raw: dict[str, object], field: str) -> None:
    with pytest.raises(WidgetSettingsError) as caught:
        checked_settings(raw, "UA")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("business", "customer", "outcome"),
    [
        ("no-answer", None, Outcome.BUSINESS_NO_ANSWER),
        ("busy", None, Outcome.BUSINESS_NO_ANSWER),
        ("failed", None, Outcome.FAILED),
        ("completed", None, Outcome.BUSINESS_NO_ANSWER),
        ("completed", "no-answer", Outcome.CUSTOMER_NO_ANSWER),
        ("completed", "busy", Outcome.CUSTOMER_NO_ANSWER),
        ("completed", "completed", Outcome.CONNECTED),
        ("in-progress", None, None),
    ],
)
def test_the_outcome_of_an_attempt(
    business: str, customer: str | None, outcome: Outcome | None
) -> None:
    assert attempt_outcome(business, customer) == outcome


def test_the_language_and_the_callback_time_as_the_visitor_reads_them() -> None:
    assert page_language("auto", "uk-UA") == "uk"
    assert page_language("auto", "de") == "en"
    assert page_language("ru", "uk") == "ru"
    now = kyiv(2025, 3, 3, 20, 0)  # Monday evening
    assert format_local(kyiv(2025, 3, 4, 9, 0), KYIV, "en", now) == "tomorrow at 09:00"
    assert format_local(kyiv(2025, 3, 3, 21, 0), KYIV, "uk", now) == "о 21:00"
    assert format_local(kyiv(2025, 3, 6, 9, 0), KYIV, "ru", now) == "в чт 06.03 в 09:00"


def test_pure_anti_abuse_checks() -> None:
    def refused(**values: object) -> Refusal:
        with pytest.raises(Refused) as caught:
            check_submission(**{"phone": "0501234567", "honeypot": "", "default_country": "UA",
                                "blocked": (), **values})  # type: ignore[arg-type]  # fmt: skip
        return caught.value.reason

    assert refused(honeypot="x") is Refusal.HONEYPOT
    assert refused(phone="123") is Refusal.INVALID_PHONE
    assert refused(phone="") is Refusal.INVALID_PHONE
    assert refused(phone="+44 909 8790000") in (Refusal.UNCALLABLE_PHONE, Refusal.INVALID_PHONE)
    assert refused(blocked=("+380501234567",)) is Refusal.BLOCKED_NUMBER
    ok = check_submission(phone="050 123 45 67", honeypot=None, default_country="UA", blocked=())
    assert ok.phone_e164 == "+380501234567"
    assert check_submission(phone=None, honeypot=None, default_country="UA", blocked=(),
                            phone_required=False).phone_e164 is None  # fmt: skip
    check_daily_calls(2, 3)
    with pytest.raises(Refused):
        check_daily_calls(3, 3)
