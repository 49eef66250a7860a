"""The words for a call's status and attribution kind, shared by the pages and the exports.

They are English catalog ids; the dashboard and the exports translate them per language.
"""

from __future__ import annotations

from ringtrail.domain.attribution import AttributionKind
from ringtrail.domain.calls import CallStatus
from ringtrail.services.reports.model import N_

STATUS_LABELS: dict[str, str] = {
    CallStatus.ANSWERED: N_("Answered"),
    CallStatus.MISSED: N_("Missed"),
    CallStatus.BUSY: N_("Busy"),
    CallStatus.FAILED: N_("Failed"),
    CallStatus.ABANDONED: N_("Abandoned"),
    CallStatus.IN_PROGRESS: N_("In progress"),
}
ATTRIBUTION_LABELS: dict[str, str] = {
    AttributionKind.STATIC: N_("Static number: straight from an ad"),
    AttributionKind.SESSION: N_("Site visit: the visitor who held the number"),
    AttributionKind.POOL_SOURCE: N_("Site visit: the pool's default number, visitor unknown"),
    AttributionKind.UNATTRIBUTED: N_("Unattributed"),
    AttributionKind.PENDING: N_("Not attributed yet"),
}
"""Every attribution kind (domain/attribution.py) in words."""
