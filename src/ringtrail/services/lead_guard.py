"""Anti-abuse for leads a page submits: counters per address, visitor and phone, the daily
cap of calls to one number, and the refusal log the operator reads.

`LeadGuard.check` runs, in order: the address and visitor windows (every request counts, valid
or not, so a script cannot probe), the pure checks of domain/lead_guard.py (honeypot, number
valid and callable in the project's country, block list), the phone's window, then the
daily cap (callback requests for that number in the last 24 hours, read from the database).
Counters live in the same sliding-window limiters as the tracking API (services.rate_limits:
in Redis when configured, else in the process). Every refusal raises `Refused` with its
reason and is noted in the refusal log under `lead_<reason>` (services.refusals: bounded,
written in the background), which the dashboard's callback page shows.

Forms call the same guard with `phone_required=False` and their own `scope`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.domain.callback_widget import Limits
from ringtrail.domain.lead_guard import (
    Refusal,
    Refused,
    check_daily_calls,
    check_submission,
)
from ringtrail.services.rate_limits import RateLimiter
from ringtrail.services.refusals import RefusalLog
from ringtrail.storage.models import CallbackRequest, Project

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
REFUSAL_PREFIX = "lead_"
"""The refusal log's codes of lead refusals: `lead_` and the `Refusal` value."""


class LeadGuard:
    """The anti-abuse checks of one process (thread-safe: the limiter and the log are)."""

    def __init__(
        self, limiter: RateLimiter, *, address_salt: str, refusals: RefusalLog | None = None
    ) -> None:
        self.limiter = limiter
        self.refusals = refusals
        self._address_key = hashlib.sha256(f"ringtrail.lead.{address_salt}".encode()).digest()

    def check(
        self,
        session: Session,
        project: Project,
        *,
        limits: Limits,
        address: str,
        visitor: str | None,
        phone: str | None,
        honeypot: str | None,
        now: datetime,
        scope: str = "callback",
        phone_required: bool = True,
        page_url: str = "",
        user_agent: str = "",
    ) -> str | None:
        """The submission's number in E.164 (None without one) if it may become a lead;
        raises `Refused` (noted in the refusal log) otherwise."""
        try:
            return self._check(
                session,
                project,
                limits=limits,
                address=address,
                visitor=visitor,
                phone=phone,
                honeypot=honeypot,
                now=now,
                scope=scope,
                phone_required=phone_required,
            )
        except Refused as refused:
            self.note(project.id, refused.reason, scope, page_url, user_agent, now)
            raise

    def _check(
        self,
        session: Session,
        project: Project,
        *,
        limits: Limits,
        address: str,
        visitor: str | None,
        phone: str | None,
        honeypot: str | None,
        now: datetime,
        scope: str,
        phone_required: bool,
    ) -> str | None:
        prefix = f"lead:{scope}:{project.id}"
        self._count(
            [(f"{prefix}:ip:{self._hash(address)}", limits.per_address_per_hour)],
            HOUR,
            now,
            Refusal.ADDRESS_LIMIT,
        )
        if visitor:
            self._count(
                [(f"{prefix}:visitor:{self._hash(visitor)}", limits.per_visitor_per_day)],
                DAY,
                now,
                Refusal.VISITOR_LIMIT,
            )
        checked = check_submission(
            phone=phone,
            honeypot=honeypot,
            default_country=project.default_country,
            blocked=frozenset(limits.blocked_numbers),
            phone_required=phone_required,
        )
        if checked.phone_e164 is None:
            return None
        self._count(
            [
                (f"{prefix}:phone:{checked.phone_e164}", limits.per_phone_per_day),
            ],
            DAY,
            now,
            Refusal.PHONE_LIMIT,
        )
        if scope == "callback":
            check_daily_calls(
                requests_today(session, project.id, checked.phone_e164, now),
                limits.calls_per_number_per_day,
            )
        return checked.phone_e164

    def note(
        self,
        project_id: int,
        reason: Refusal,
        scope: str,
        page_url: str,
        user_agent: str,
        now: datetime,
    ) -> None:
        """Count a refusal for the operator (and log it)."""
        log.info("lead refused in project %s (%s): %s", project_id, scope, reason.value)
        if self.refusals is not None:
            self.refusals.note(
                project_id, f"{REFUSAL_PREFIX}{reason.value}", scope, page_url, user_agent, now
            )

    def _count(
        self,
        limits: Sequence[tuple[str, int]],
        window: timedelta,
        now: datetime,
        reason: Refusal,
    ) -> None:
        retry_after = self.limiter.hit_all(limits, window, now)
        if retry_after is not None:
            raise Refused(reason, retry_after)

    def _hash(self, value: str) -> str:
        return hmac.new(self._address_key, value.encode(), hashlib.sha256).hexdigest()[:32]


def requests_today(session: Session, project_id: int, phone: str, now: datetime) -> int:
    """Callback requests of the project for `phone` in the 24 hours before `now`."""
    count = session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(
            CallbackRequest.project_id == project_id,
            CallbackRequest.phone_e164 == phone,
            CallbackRequest.requested_at > now - DAY,
        )
    )
    return int(count or 0)
