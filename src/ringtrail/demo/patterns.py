"""When things happen: weekday and hour-of-day shapes in local time, turned into UTC instants."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Monday first: people look for flats on weekdays, less on Sunday.
WEEKDAY_TRAFFIC = (1.10, 1.15, 1.10, 1.05, 0.95, 0.75, 0.60)

# Visits by local hour: a morning peak, a lunch dip, an evening peak after work.
VISIT_HOURS = (
    0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.2, 3.4, 4.2, 4.6,
    4.2, 4.0, 4.3, 4.4, 4.2, 4.0, 4.3, 5.0, 5.2, 4.2, 2.6, 1.2,
)  # fmt: skip

# Calls to offline and profile numbers follow office hours more closely than visits do.
OFFLINE_CALL_HOURS = (
    0.05, 0.0, 0.0, 0.0, 0.0, 0.05, 0.2, 0.8, 2.5, 4.5, 5.5, 5.5,
    5.0, 4.8, 5.2, 5.0, 4.6, 4.0, 3.0, 2.0, 1.4, 0.8, 0.4, 0.1,
)  # fmt: skip


def is_office_open(local: datetime) -> bool:
    """Office hours: 9:00-19:00 Monday to Friday, 10:00-16:00 Saturday, closed Sunday."""
    weekday, hour = local.weekday(), local.hour
    if weekday < 5:
        return 9 <= hour < 19
    if weekday == 5:
        return 10 <= hour < 16
    return False


def local_days(now: datetime, days: int, zone: ZoneInfo) -> list[date]:
    """The last `days` local calendar days, oldest first, ending with today."""
    today = now.astimezone(zone).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def moment_on(rng: random.Random, day: date, hours: tuple[float, ...], zone: ZoneInfo) -> datetime:
    """A random UTC instant on local `day`, its hour drawn from the `hours` weights."""
    hour = rng.choices(range(24), weights=hours)[0]
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), zone)
    return local.astimezone(UTC)


def growth(index: int, total: int) -> float:
    """A gentle upward trend across the period (the agency is growing): 0.85 to 1.15."""
    return 0.85 + 0.30 * index / max(total - 1, 1)
