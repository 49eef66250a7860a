"""Facts: one call or one lead as reports see it, and the report dimensions read off a call.

Text dimensions are never None: an unknown value is the empty string, which the dashboard
shows as "(not set)". That keeps rollup keys comparable (NULL never equals NULL in SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ringtrail.domain.attribution import CallOrigin as CallOrigin
from ringtrail.domain.attribution import origin_of as origin_of
from ringtrail.domain.calls import UNANSWERED, CallStatus

NOT_SET = ""
"""The value of a dimension the call does not have (no keyword, unknown region...)."""


DURATION_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30s", 0, 30),
    ("30s-1m", 30, 60),
    ("1-3m", 60, 180),
    ("3-5m", 180, 300),
    ("5-10m", 300, 600),
    ("10m+", 600, None),
)
"""Talk-time buckets of report 5: label, from (included), to (excluded) in seconds."""
NOT_ANSWERED_BUCKET = "not_answered"


def duration_bucket(status: str, talk_seconds: int | None) -> str:
    """The talk-time bucket of a call; unanswered calls have their own bucket."""
    if status != CallStatus.ANSWERED:
        return NOT_ANSWERED_BUCKET
    seconds = max(talk_seconds or 0, 0)
    for label, low, high in DURATION_BUCKETS:
        if seconds >= low and (high is None or seconds < high):
            return label
    return DURATION_BUCKETS[-1][0]  # pragma: no cover - the last bucket is open-ended


def hour_of_week(moment: datetime, zone: ZoneInfo) -> str:
    """The heatmap cell of an instant: "<weekday>-<hour>" in local time, Monday = 0."""
    local = moment.astimezone(zone)
    return f"{local.weekday()}-{local.hour:02d}"


@dataclass(frozen=True)
class CallFact:
    """One call, as much of it as any report needs. Instants are timezone-aware (UTC)."""

    call_id: int
    started_at: datetime
    answered_at: datetime | None
    status: str
    talk_seconds: int | None
    is_first_time: bool | None
    is_unique: bool | None
    is_target: bool | None
    attribution_kind: str
    source: str = NOT_SET
    medium: str = NOT_SET
    campaign: str = NOT_SET
    keyword: str = NOT_SET
    landing_page: str = NOT_SET
    caller_region: str = NOT_SET
    visitor_region: str = NOT_SET
    target_set_by: str | None = None
    """Who set the target mark: "user", "rule" or "model"."""

    @property
    def answered(self) -> bool:
        """Whether someone picked up."""
        return self.status == CallStatus.ANSWERED

    @property
    def missed(self) -> bool:
        """Whether the call ended unanswered (missed, busy, failed or abandoned)."""
        return self.status in UNANSWERED

    @property
    def wait_seconds(self) -> int | None:
        """Seconds from the first ring to the answer; None when not answered."""
        if self.answered_at is None or not self.answered:
            return None
        return max(int((self.answered_at - self.started_at).total_seconds()), 0)


@dataclass(frozen=True)
class LeadFact:
    """One lead of any kind (call, form, callback) for the lead-mix report."""

    lead_id: int
    created_at: datetime
    kind: str
    source: str = NOT_SET
    campaign: str = NOT_SET
    is_target: bool | None = None
