"""The callback widget's settings, working hours and the outcome of a callback attempt.

A project keeps its widget settings in `Project.extra["callback_widget"]`; `checked_settings`
validates what the owner sends and fills the defaults, `WidgetSettings.of` reads the stored
dict (tolerating older or partial ones). Working hours are local to the project's time zone:
`is_open` says whether a moment is inside them and `next_opening` when they next start.
`attempt_outcome` turns what Twilio reported about one attempt (the business leg and the
customer leg) into one of `Outcome`.
"""

# ruff: noqa: RUF001  (the widget's Russian and Ukrainian texts are Cyrillic on purpose)

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ringtrail.domain.phones import InvalidPhoneNumber, to_e164

CONFIG_KEY = "callback_widget"
LANGUAGES = ("en", "ru", "uk")
POSITIONS = ("bottom-right", "bottom-left")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_TEXT = 200
MAX_BLOCKED = 1000

TEXT_KEYS = (
    "button",
    "title",
    "prompt",
    "submit",
    "countdown",
    "scheduled",
    "invalid_phone",
    "refused",
    "announcement",
)
"""What the widget says; `countdown` and `scheduled` take `{seconds}` and `{time}`,
`announcement` (what the business hears) takes `{phone}`."""

DEFAULT_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "button": "Call me back",
        "title": "We will call you back",
        "prompt": "Leave your number and we will call you in a few seconds.",
        "submit": "Call me",
        "countdown": "Calling you in {seconds} s",
        "scheduled": "We are closed now. We will call you {time}.",
        "invalid_phone": "Please enter a valid phone number.",
        "refused": "We cannot take your request right now. Please call us instead.",
        "announcement": "A website visitor asked for a callback. Connecting you to {phone}.",
    },
    "ru": {
        "button": "Перезвоните мне",
        "title": "Мы вам перезвоним",
        "prompt": "Оставьте номер, и мы позвоним через несколько секунд.",
        "submit": "Позвонить мне",
        "countdown": "Звоним вам через {seconds} с",
        "scheduled": "Сейчас мы не работаем. Мы позвоним вам {time}.",
        "invalid_phone": "Введите правильный номер телефона.",
        "refused": "Сейчас мы не можем принять заявку. Пожалуйста, позвоните нам.",
        "announcement": "Посетитель сайта заказал обратный звонок. Соединяем с номером {phone}.",
    },
    "uk": {
        "button": "Передзвоніть мені",
        "title": "Ми вам передзвонимо",
        "prompt": "Залиште номер, і ми зателефонуємо за кілька секунд.",
        "submit": "Зателефонувати мені",
        "countdown": "Телефонуємо вам за {seconds} с",
        "scheduled": "Зараз ми не працюємо. Ми зателефонуємо вам {time}.",
        "invalid_phone": "Введіть правильний номер телефону.",
        "refused": "Зараз ми не можемо прийняти заявку. Будь ласка, зателефонуйте нам.",
        "announcement": "Відвідувач сайту замовив зворотний дзвінок. З'єднуємо з номером {phone}.",
    },
}

SAY_LANGUAGES: Mapping[str, str] = {"en": "en-US", "ru": "ru-RU", "uk": "uk-UA"}
"""The `<Say language>` of each widget language."""


class WidgetSettingsError(ValueError):
    """A widget setting is not acceptable; `field` names it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True)
class WorkingHours:
    """Days (0 = Monday) and the local opening and closing time, the same every open day;
    the same time for both means the whole day."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    opens: time = time(9, 0)
    closes: time = time(18, 0)


@dataclass(frozen=True)
class Limits:
    """Anti-abuse limits of the widget (and of forms, which use the same guard)."""

    per_address_per_hour: int = 5
    per_visitor_per_day: int = 3
    per_phone_per_day: int = 3
    calls_per_number_per_day: int = 3
    blocked_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delay:
    """When the widget offers itself: after so many seconds on the page, after scrolling so
    far down (percent, 0 = never by scroll) or when the pointer leaves towards the tabs."""

    seconds: int = 20
    scroll_percent: int = 0
    exit_intent: bool = True


@dataclass(frozen=True)
class WidgetSettings:
    """A project's callback widget, with defaults for anything not set."""

    enabled: bool = False
    language: str = "auto"
    position: str = "bottom-right"
    colour: str = "#1a73e8"
    text_colour: str = "#ffffff"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    hours: WorkingHours = field(default_factory=WorkingHours)
    delay: Delay = field(default_factory=Delay)
    limits: Limits = field(default_factory=Limits)
    business_number: str | None = None
    caller_id: str | None = None
    countdown_seconds: int = 30
    max_attempts: int = 2
    retry_minutes: int = 5

    @classmethod
    def of(cls, extra: Mapping[str, Any] | None) -> WidgetSettings:
        """The settings stored in a project's `extra` (defaults for anything missing)."""
        raw = (extra or {}).get(CONFIG_KEY) or {}
        try:
            return _parse(raw, None)
        except WidgetSettingsError:
            return cls()

    def text(self, language: str, key: str) -> str:
        """The owner's text for `key` in `language`, else the default one."""
        own = self.texts.get(language, {}).get(key)
        return own or DEFAULT_TEXTS[language if language in LANGUAGES else "en"][key]

    def texts_for(self, language: str) -> dict[str, str]:
        """Every text in `language` (the widget's whole vocabulary for one page)."""
        return {key: self.text(language, key) for key in TEXT_KEYS}

    def to_json(self) -> dict[str, Any]:
        """What is stored in `extra["callback_widget"]`."""
        return {
            "enabled": self.enabled,
            "language": self.language,
            "position": self.position,
            "colour": self.colour,
            "text_colour": self.text_colour,
            "texts": {lang: dict(values) for lang, values in self.texts.items()},
            "hours": {
                "days": list(self.hours.days),
                "opens": self.hours.opens.strftime("%H:%M"),
                "closes": self.hours.closes.strftime("%H:%M"),
            },
            "delay": {
                "seconds": self.delay.seconds,
                "scroll_percent": self.delay.scroll_percent,
                "exit_intent": self.delay.exit_intent,
            },
            "limits": {
                "per_address_per_hour": self.limits.per_address_per_hour,
                "per_visitor_per_day": self.limits.per_visitor_per_day,
                "per_phone_per_day": self.limits.per_phone_per_day,
                "calls_per_number_per_day": self.limits.calls_per_number_per_day,
                "blocked_numbers": list(self.limits.blocked_numbers),
            },
            "business_number": self.business_number,
            "caller_id": self.caller_id,
            "countdown_seconds": self.countdown_seconds,
            "max_attempts": self.max_attempts,
            "retry_minutes": self.retry_minutes,
        }


def checked_settings(raw: Mapping[str, Any], default_country: str | None) -> WidgetSettings:
    """Validate the owner's settings (numbers read in `default_country`); raises
    `WidgetSettingsError` naming the first field that is wrong."""
    if not isinstance(raw, Mapping):
        raise WidgetSettingsError(CONFIG_KEY, "must be an object")
    return _parse(raw, default_country)


def _parse(raw: Mapping[str, Any], country: str | None) -> WidgetSettings:
    base = WidgetSettings()
    known = set(base.to_json())
    unknown = sorted(set(raw) - known)
    if unknown:
        raise WidgetSettingsError(unknown[0], "unknown setting")
    hours_raw = _mapping(raw, "hours")
    delay_raw = _mapping(raw, "delay")
    limits_raw = _mapping(raw, "limits")
    opens = _clock(hours_raw, "opens", base.hours.opens)
    closes = _clock(hours_raw, "closes", base.hours.closes)
    if closes < opens:
        raise WidgetSettingsError("hours.closes", "must be after the opening time")
    return WidgetSettings(
        enabled=_bool(raw, "enabled", base.enabled),
        language=_choice(raw, "language", ("auto", *LANGUAGES), base.language),
        position=_choice(raw, "position", POSITIONS, base.position),
        colour=_colour(raw, "colour", base.colour),
        text_colour=_colour(raw, "text_colour", base.text_colour),
        texts=_texts(raw.get("texts") or {}),
        hours=WorkingHours(
            days=_days(hours_raw.get("days", list(base.hours.days))),
            opens=opens,
            closes=closes,
        ),
        delay=Delay(
            seconds=_int(delay_raw, "delay.seconds", "seconds", base.delay.seconds, 0, 3600),
            scroll_percent=_int(delay_raw, "delay.scroll_percent", "scroll_percent", 0, 0, 100),
            exit_intent=_bool(delay_raw, "exit_intent", base.delay.exit_intent),
        ),
        limits=Limits(
            per_address_per_hour=_int(
                limits_raw, "limits.per_address_per_hour", "per_address_per_hour", 5, 1, 1000
            ),
            per_visitor_per_day=_int(
                limits_raw, "limits.per_visitor_per_day", "per_visitor_per_day", 3, 1, 1000
            ),
            per_phone_per_day=_int(
                limits_raw, "limits.per_phone_per_day", "per_phone_per_day", 3, 1, 1000
            ),
            calls_per_number_per_day=_int(
                limits_raw,
                "limits.calls_per_number_per_day",
                "calls_per_number_per_day",
                3,
                1,
                100,
            ),
            blocked_numbers=_blocked(limits_raw.get("blocked_numbers") or [], country),
        ),
        business_number=_number(raw, "business_number", country),
        caller_id=_number(raw, "caller_id", country),
        countdown_seconds=_int(raw, "countdown_seconds", "countdown_seconds", 30, 5, 600),
        max_attempts=_int(raw, "max_attempts", "max_attempts", 2, 1, 5),
        retry_minutes=_int(raw, "retry_minutes", "retry_minutes", 5, 1, 1440),
    )


def _mapping(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, Mapping):
        raise WidgetSettingsError(name, "must be an object")
    return value


def _bool(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise WidgetSettingsError(name, "must be true or false")
    return value


def _choice(raw: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(name) or default
    if value not in allowed:
        raise WidgetSettingsError(name, f"must be one of {', '.join(allowed)}")
    return str(value)


def _colour(raw: Mapping[str, Any], name: str, default: str) -> str:
    value = raw.get(name) or default
    if not isinstance(value, str) or not COLOUR.match(value):
        raise WidgetSettingsError(name, "must be a colour like #1a73e8")
    return value.lower()


def _int(raw: Mapping[str, Any], label: str, name: str, default: int, low: int, high: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WidgetSettingsError(label, f"must be a whole number from {low} to {high}")
    return value


def _clock(raw: Mapping[str, Any], name: str, default: time) -> time:
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or not CLOCK.match(value):
        raise WidgetSettingsError(f"hours.{name}", "must be a time like 09:00")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _days(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6 for day in value
    ):
        raise WidgetSettingsError("hours.days", "must list days 0 (Monday) to 6 (Sunday)")
    return tuple(sorted(set(value)))


def _texts(value: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping):
        raise WidgetSettingsError("texts", "must be an object by language")
    texts: dict[str, dict[str, str]] = {}
    for language, entries in value.items():
        if language not in LANGUAGES or not isinstance(entries, Mapping):
            raise WidgetSettingsError(f"texts.{language}", "unknown language")
        own: dict[str, str] = {}
        for key, text in entries.items():
            if key not in TEXT_KEYS:
                raise WidgetSettingsError(f"texts.{language}.{key}", "unknown text")
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise WidgetSettingsError(
                    f"texts.{language}.{key}", f"must be text of at most {MAX_TEXT} characters"
                )
            if text.strip():
                own[key] = text.strip()
        if own:
            texts[language] = own
    return texts


def _number(raw: Mapping[str, Any], name: str, country: str | None) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise WidgetSettingsError(name, "must be a phone number")
    if country is None and value.startswith("+"):
        return value  # already stored in E.164
    try:
        return to_e164(value, country)
    except InvalidPhoneNumber as exc:
        raise WidgetSettingsError(name, str(exc)) from None


def _blocked(value: Any, country: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in re.split(r"[\n,;]+", value) if part.strip()]
    if not isinstance(value, list | tuple) or len(value) > MAX_BLOCKED:
        raise WidgetSettingsError(
            "limits.blocked_numbers", f"must list at most {MAX_BLOCKED} numbers"
        )
    numbers = []
    for item in value:
        try:
            number = _number({"n": item}, "n", country)
        except WidgetSettingsError as exc:
            raise WidgetSettingsError("limits.blocked_numbers", f"{item}: {exc.problem}") from None
        if number is None:
            continue
        numbers.append(number)
    return tuple(dict.fromkeys(numbers))


# --- working hours -----------------------------------------------------------------------


def is_open(hours: WorkingHours, moment: datetime, zone: ZoneInfo) -> bool:
    """Whether `moment` falls inside the working hours, read in the project's `zone`."""
    local = moment.astimezone(zone)
    if local.weekday() not in hours.days:
        return False
    if hours.opens == hours.closes:
        return True
    return hours.opens <= local.time().replace(tzinfo=None) < hours.closes


def next_opening(hours: WorkingHours, moment: datetime, zone: ZoneInfo) -> datetime | None:
    """The next start of the working hours after `moment` (UTC), None with no open day."""
    if not hours.days or hours.opens > hours.closes:
        return None
    local = moment.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() not in hours.days:
            continue
        opening = datetime.combine(day, hours.opens, tzinfo=zone)
        if opening > local:
            return opening.astimezone(UTC)
    return None


def when_to_call(
    hours: WorkingHours, moment: datetime, zone: ZoneInfo
) -> tuple[datetime | None, bool]:
    """When a request made at `moment` is to be called back, and whether that is now."""
    if is_open(hours, moment, zone):
        return moment, True
    return next_opening(hours, moment, zone), False


# --- outcomes ----------------------------------------------------------------------------


class Outcome(StrEnum):
    """How one callback attempt ended."""

    CONNECTED = "connected"
    BUSINESS_NO_ANSWER = "business_no_answer"
    CUSTOMER_NO_ANSWER = "customer_no_answer"
    FAILED = "failed"


CALL_STATUS: Mapping[Outcome, str] = {
    Outcome.CONNECTED: "answered",
    Outcome.BUSINESS_NO_ANSWER: "missed",
    Outcome.CUSTOMER_NO_ANSWER: "missed",
    Outcome.FAILED: "failed",
}
"""The status of the outbound call row of an attempt (the calls table's vocabulary)."""

RETRIED = frozenset({Outcome.BUSINESS_NO_ANSWER, Outcome.CUSTOMER_NO_ANSWER, Outcome.FAILED})


def attempt_outcome(business_status: str | None, customer_status: str | None) -> Outcome | None:
    """The outcome from Twilio's statuses: the business leg's `CallStatus` (the call we
    created) and the customer leg's `DialCallStatus`; None while undecided.

    The business leg ending unanswered (`busy`, `no-answer`, `canceled`) means the business
    did not answer; `failed` means Twilio could not place it. Once the Dial reports, the
    customer leg decides: `completed`/`answered` is connected, anything else unanswered.
    """
    if customer_status in ("completed", "answered"):
        return Outcome.CONNECTED
    if customer_status in ("busy", "no-answer", "canceled"):
        return Outcome.CUSTOMER_NO_ANSWER
    if customer_status == "failed":
        return Outcome.CUSTOMER_NO_ANSWER
    if business_status in ("busy", "no-answer", "canceled"):
        return Outcome.BUSINESS_NO_ANSWER
    if business_status == "failed":
        return Outcome.FAILED
    if business_status == "completed":
        # Answered and hung up before the Dial said anything: the customer was never rung.
        return Outcome.BUSINESS_NO_ANSWER
    return None


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from `start` to `end` (never negative)."""
    return max(0, round((end - start).total_seconds()))


def page_language(setting: str, page_lang: str | None) -> str:
    """The widget's language: the setting, else the page's `<html lang>`, else English."""
    if setting in LANGUAGES:
        return setting
    code = (page_lang or "").strip().lower()[:2]
    return code if code in LANGUAGES else "en"


def format_local(moment: datetime, zone: ZoneInfo, language: str, now: datetime) -> str:
    """A callback time as the visitor reads it after "we will call you": `at 09:00` today,
    `tomorrow at 09:00`, `on Mon 14.12 at 09:00` later (in the widget's language)."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    at, tomorrow, on = {
        "en": ("at", "tomorrow at", "on"),
        "ru": ("в", "завтра в", "в"),
        "uk": ("о", "завтра о", "у"),
    }[language if language in LANGUAGES else "en"]
    if local.date() == today:
        return f"{at} {clock}"
    if local.date() == today + timedelta(days=1):
        return f"{tomorrow} {clock}"
    days = {
        "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
        "uk": ("пн", "вт", "ср", "чт", "пт", "сб", "нд"),
    }[language if language in LANGUAGES else "en"]
    return f"{on} {days[local.weekday()]} {local.strftime('%d.%m')} {at} {clock}"
