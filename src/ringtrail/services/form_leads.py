"""Form posts becoming leads: from the forms script (`/f.js`) or from a site's own backend.

`submit_form` checks a submission (forms enabled, the honeypot, the rate windows of the
address and the visitor), keeps only what the project allows of its fields
(domain.form_fields) and records the lead through services.leads, so a form is attributed,
deduplicated and joined to a person exactly like a callback request, and its source is the
visit's as for a call. A submission with neither a phone nor an e-mail (a search box, a
newsletter toggle with no address) makes no lead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from ringtrail.domain.form_fields import (
    MAX_NAME_LENGTH,
    FormPolicy,
    is_secret_name,
    select_fields,
)
from ringtrail.domain.lead_guard import HONEYPOT_FIELD
from ringtrail.services.audit import record_row_change
from ringtrail.services.errors import InvalidInput
from ringtrail.services.leads import normalise_phone, record_lead
from ringtrail.services.rate_limits import RateLimiter
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import Lead, Project

RATE_WINDOW = timedelta(minutes=1)
ADDRESS_LIMIT = 10
"""Form posts a minute from one address."""
VISITOR_LIMIT = 5
"""Form posts a minute from one visitor."""
HONEYPOT_FIELDS = ("_rt_hp", HONEYPOT_FIELD)
"""Fields a person never fills in: the one `/f.js` adds to each form, and the widget's."""


class FormOutcome(StrEnum):
    """What became of a submission."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    NO_CONTACT = "no_contact"
    HONEYPOT = "honeypot"


class FormsDisabled(Exception):
    """The project does not track forms."""


class RateLimited(Exception):
    """Too many form posts from this address or visitor; retry after `retry_after` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many form posts; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class FormSubmission:
    """A form as posted: its fields by name, and where it came from."""

    fields: Mapping[str, str]
    visitor_token: str | None = None
    submit_id: str | None = None
    page: str | None = None
    form: str | None = None
    """The form's id or name on the page, if it has one."""
    honeypot: str | None = None
    phone: str | None = None
    email: str | None = None
    name: str | None = None
    via: str = "script"
    """"script" (`/f.js`) or "api" (the site's backend)."""


@dataclass(frozen=True)
class FormResult:
    """The outcome, and the lead when one was made or found."""

    outcome: FormOutcome
    lead: Lead | None = None
    dropped: tuple[str, ...] = field(default=())


MAX_SELECTOR_LENGTH = 300
MAX_ALLOWED_FIELDS = 30


def set_form_policy(
    db: Session,
    project: Project,
    *,
    enabled: bool,
    selector: str | None = None,
    allowed_fields: Sequence[str] = (),
) -> FormPolicy:
    """Switch form tracking on or off and set which forms and fields count; audited.

    InvalidInput names a selector that cannot be a CSS selector list (too long, or holding
    markup) or too many allowed fields. A change reaches `/t.js` within the tracking
    config's cache time (a few seconds).
    """
    selector = (selector or "").strip() or None
    if selector is not None and (
        len(selector) > MAX_SELECTOR_LENGTH or set("<>{};") & set(selector)
    ):
        raise InvalidInput("selector", "must be a CSS selector list, e.g. form.contact, #order")
    names = [name.strip() for name in allowed_fields if name.strip()]
    names = list(dict.fromkeys(name[:MAX_NAME_LENGTH] for name in names))
    if len(names) > MAX_ALLOWED_FIELDS:
        raise InvalidInput("allowed_fields", f"at most {MAX_ALLOWED_FIELDS} field names")
    secret = [name for name in names if is_secret_name(name)]
    if secret:
        raise InvalidInput("allowed_fields", f"{secret[0]!r} may hold a password or a card")
    policy = FormPolicy(enabled=enabled, selector=selector, allowed_fields=tuple(names))
    before = {"forms": (project.extra or {}).get("forms")}
    project.extra = {**(project.extra or {}), "forms": policy.to_extra()}
    record_row_change(db, project, "project.forms", project, before, {"forms": policy.to_extra()})
    db.flush()
    return policy


def hash_address(address: str, salt: str) -> str:
    """A visitor's address as the rate windows key it (never stored in clear)."""
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()[:24]


def check_rate(
    limiter: RateLimiter, address_hash: str | None, visitor_token: str | None, now: datetime
) -> None:
    """Count one form post in the address's and the visitor's windows; RateLimited if full."""
    limits: list[tuple[str, int]] = []
    if address_hash:
        limits.append((f"form:addr:{address_hash}", ADDRESS_LIMIT))
    if visitor_token:
        visitor = hashlib.sha256(visitor_token.encode()).hexdigest()[:24]
        limits.append((f"form:visitor:{visitor}", VISITOR_LIMIT))
    if not limits:
        return
    wait = limiter.hit_all(limits, RATE_WINDOW, now)
    if wait is not None:
        raise RateLimited(wait)


def submit_form(
    session: Session,
    project: Project,
    submission: FormSubmission,
    *,
    signer: TokenSigner,
    now: datetime | None = None,
    require_enabled: bool = True,
) -> FormResult:
    """Record `submission` as a `form` lead of `project` (see the module's docstring).

    FormsDisabled when the project does not track forms (`require_enabled`; the API takes
    a backend's forms whatever the script's setting). Rate windows are the caller's
    (`check_rate`), since only the public endpoint needs them. The caller commits.
    """
    now = now or datetime.now(UTC)
    policy = FormPolicy.from_extra(project.extra)
    if require_enabled and not policy.enabled:
        raise FormsDisabled(f"project {project.slug} does not track forms")
    fields = dict(submission.fields)
    traps = [submission.honeypot] + [fields.pop(name, None) for name in HONEYPOT_FIELDS]
    if any(trap and str(trap).strip() for trap in traps):
        return FormResult(FormOutcome.HONEYPOT)
    chosen = select_fields(
        fields,
        policy.allowed_fields,
        phone=submission.phone,
        email=submission.email,
        name=submission.name,
    )
    kept, phone = dict(chosen.fields), chosen.phone
    try:
        normalise_phone(project, phone)
    except InvalidInput:
        if submission.phone:  # a backend that names the phone is told it is wrong
            raise
        kept["phone"], phone = str(phone), None  # a visitor's typo: kept as written
    email = chosen.email
    if phone is None and email is None:
        return FormResult(FormOutcome.NO_CONTACT, dropped=chosen.dropped)
    payload = {
        "via": submission.via,
        "page": (submission.page or "")[:2000] or None,
        "form": (submission.form or "")[:200] or None,
        "dropped": list(chosen.dropped),
    }
    outcome = record_lead(
        session,
        project,
        kind="form",
        visitor_token=submission.visitor_token,
        phone=phone,
        email=email,
        name=chosen.name,
        fields=kept,
        dedupe_key=submission.submit_id,
        now=now,
        signer=signer,
        payload=payload,
    )
    return FormResult(
        FormOutcome.CREATED if outcome.created else FormOutcome.DUPLICATE,
        outcome.lead,
        chosen.dropped,
    )
