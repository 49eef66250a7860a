"""The "Refused visits" page: why visits got no tracking number, most recent first; below, the
provider webhook requests Ringtrail refused (sender address, replays), labelled by provider.

Every member may see it (it answers "the numbers do not swap"). Each row is one reason with
one detail (the origin seen, the kind of bot, the pool), its count, when it was last seen, a
sample page, and a hint of what to do about it. Refusals this process still holds in memory
are written first, so a visit a moment ago is on the page.
"""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringtrail.domain.lead_guard import Refusal
from ringtrail.services.lead_guard import REFUSAL_PREFIX
from ringtrail.services.refusals import NoNumber, list_refusals
from ringtrail.services.webhook_refusals import WebhookRefusalReason, list_webhook_refusals
from ringtrail.storage.models import Pool, Project
from ringtrail.web.dashboard.callback_pages import REFUSAL_LABELS
from ringtrail.web.dashboard.identity import RequiredUser
from ringtrail.web.dashboard.pages import ProjectId
from ringtrail.web.dashboard.project_access import open_project
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.settings_common import N_, local_time, render_settings
from ringtrail.web.deps import DbSession

router = dashboard_router()
SECTION = "refusals"
REASONS = {
    NoNumber.ORIGIN_NOT_ALLOWED: N_("Site not in the allowed domains"),
    NoNumber.BOT: N_("Bot or testing tool"),
    NoNumber.NO_RULE: N_("No source rule matched"),
    NoNumber.POOL_EXHAUSTED: N_("Every pool number was taken"),
    NoNumber.NUMBER_NOT_SHOWN: N_("The rule's number cannot be shown"),
    NoNumber.NO_ORIGINAL_NUMBER: N_("No main number to replace"),
    NoNumber.AWAITING_INTENT: N_("Waiting for the visitor to look at the number"),
}
HINTS = {
    NoNumber.ORIGIN_NOT_ALLOWED: N_("Add this domain to the allowed domains"),
    NoNumber.BOT: N_(
        "Testing tools and headless browsers count as bots: test with a normal browser."
    ),
    NoNumber.NO_RULE: N_("Add a source rule that points at your pool (the catch-all rule)."),
    NoNumber.POOL_EXHAUSTED: N_("Add numbers to the pool, or shorten the hold time."),
    NoNumber.NUMBER_NOT_SHOWN: N_(
        "The rule shows an offline-only or inactive number, or a pool that is switched off."
    ),
    NoNumber.NO_ORIGINAL_NUMBER: N_("Set the main number in the project settings."),
    NoNumber.AWAITING_INTENT: N_(
        "Not a refusal: the pool number is taken when a phone number is in view or touched."
    ),
}
BOT_KINDS = {
    "no_user_agent": N_("no User-Agent"),
    "headless_browser": N_("headless browser"),
    "automation": N_("browser automation"),
    "site_checker": N_("site checker"),
    "link_preview": N_("link preview"),
    "http_client": N_("HTTP client"),
    "crawler": N_("crawler"),
    "security_scanner": N_("security scanner"),
    "feed_reader": N_("feed reader"),
    "owner_denied": N_("in the project's deny-list"),
    "no_storage": N_("suspected: keeps no cookie or storage"),
    "no_heartbeat": N_("suspected: never a visible-tab heartbeat"),
    "busy_address": N_("suspected: many new visitors from one address"),
    "data_centre": N_("suspected: data-centre address"),
}
# Hints that a link completes, and the settings section it leads to.
HINT_LINKS = {
    NoNumber.ORIGIN_NOT_ALLOWED: "",
    NoNumber.NO_RULE: "rules",
    NoNumber.POOL_EXHAUSTED: "pools",
    NoNumber.NUMBER_NOT_SHOWN: "rules",
    NoNumber.NO_ORIGINAL_NUMBER: "",
    NoNumber.AWAITING_INTENT: "",
}


@router.get("/p/{project_id}/settings/refusals")
def refusals_page(
    request: Request, db: DbSession, user: RequiredUser, project_id: ProjectId
) -> Response:
    """The project's refused visits, most recently seen first."""
    opened = open_project(db, user, project_id)
    tracking = getattr(request.app.state, "tracking_service", None)
    if tracking is not None:
        tracking.refusals.flush()
    project = opened.project
    pools = {
        str(pool_id): name
        for pool_id, name in db.execute(
            select(Pool.id, Pool.name).where(Pool.project_id == project.id)
        )
    }
    rows = []
    for row in list_refusals(db, project.id):
        reason = _reason(row.reason)
        rows.append(
            {
                "reason": REASONS[reason] if reason else _lead_refusal_label(row.reason),
                "code": row.reason,
                "detail": _detail(row.reason, row.detail, pools),
                "translate_detail": row.reason == NoNumber.BOT,
                "page": row.sample_url,
                "user_agent": row.sample_user_agent,
                "count": row.count,
                "last_seen": local_time(row.last_seen_at, project.timezone),
                "hint": HINTS.get(reason, "") if reason else "",
                "link": HINT_LINKS.get(reason) if reason else None,
            }
        )
    return render_settings(
        request,
        opened,
        "settings_refusals.html",
        {"settings_active": SECTION, "rows": rows, "webhook_rows": _webhook_rows(db, project)},
    )


WEBHOOK_REASONS = {
    WebhookRefusalReason.SENDER_NOT_ALLOWED: N_("Sender address not allowed"),
    WebhookRefusalReason.REPLAYED_NOTIFICATION: N_("Notification sent again with other values"),
}
WEBHOOK_HINTS = {
    WebhookRefusalReason.SENDER_NOT_ALLOWED: N_(
        "If this is the provider's server, add the address to the allowed sender addresses "
        "(see the provider's page in the documentation)."
    ),
    WebhookRefusalReason.REPLAYED_NOTIFICATION: N_(
        "Someone sent a signed notification again. Turn on the provider's sender address check."
    ),
}
PROVIDER_NAMES = {"binotel": "Binotel", "zadarma": "Zadarma", "twilio": "Twilio", "sip": "SIP"}


def _webhook_rows(db: Session, project: Project) -> list[dict[str, object]]:
    """The refused provider requests (webhook refusal log), most recently seen first."""
    rows: list[dict[str, object]] = []
    for row in list_webhook_refusals(db, project.id):
        reason = _webhook_reason(row.reason)
        rows.append(
            {
                "provider": PROVIDER_NAMES.get(row.provider, row.provider),
                "code": row.reason,
                "reason": WEBHOOK_REASONS[reason] if reason else row.reason,
                "address": row.address,
                "detail": row.detail,
                "count": row.count,
                "last_seen": local_time(row.last_seen_at, project.timezone),
                "hint": WEBHOOK_HINTS[reason] if reason else "",
            }
        )
    return rows


def _webhook_reason(code: str) -> WebhookRefusalReason | None:
    try:
        return WebhookRefusalReason(code)
    except ValueError:
        return None


def _lead_refusal_label(code: str) -> str:
    """A refused form or callback request (`lead_<reason>`) in words; other codes as they are."""
    try:
        return REFUSAL_LABELS[Refusal(code.removeprefix(REFUSAL_PREFIX))]
    except ValueError:  # not a lead refusal, or a code a newer version wrote
        return code


def _reason(code: str) -> NoNumber | None:
    try:
        return NoNumber(code)
    except ValueError:  # a code a newer version wrote
        return None


def _detail(reason: str, detail: str, pools: dict[str, str]) -> str:
    if reason == NoNumber.BOT:
        return BOT_KINDS.get(detail, detail)
    if reason == NoNumber.POOL_EXHAUSTED:
        return pools.get(detail, detail)
    return detail
