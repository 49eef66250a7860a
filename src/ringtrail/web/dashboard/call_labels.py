"""Words the call page and the source-rule settings show for stored codes, as message ids.

A provider event type, a candidate's hold phase, who judged a call and a source-rule
condition field are stored as English codes; the pages show these labels, translated.
"""

from __future__ import annotations

from ringtrail.domain.attribution import HoldPhase
from ringtrail.domain.calls import CallEventKind
from ringtrail.services.reports.model import N_

EVENT_LABELS: dict[str, str] = {
    CallEventKind.STARTED: N_("Call started"),
    CallEventKind.ANSWERED: N_("Call answered"),
    CallEventKind.ENDED: N_("Call ended"),
    CallEventKind.RECORDING_READY: N_("Recording ready"),
}
PHASE_LABELS: dict[str, str] = {
    HoldPhase.LIVE: N_("number on screen"),
    HoldPhase.GRACE: N_("just after the visit"),
    HoldPhase.COOLING: N_("number released, not yet reused"),
    HoldPhase.EARLIER: N_("an earlier visit"),
}
SCORER_LABELS: dict[str, str] = {
    "user": N_("by a person"),
    "rule": N_("by a rule"),
    "model": N_("by the model"),
}
RULE_FIELD_LABELS: dict[str, str] = {
    "utm_source": N_("UTM source"),
    "utm_medium": N_("UTM medium"),
    "utm_campaign": N_("UTM campaign"),
    "utm_term": N_("UTM term"),
    "utm_content": N_("UTM content"),
    "referrer_host": N_("Referring site"),
    "landing_path": N_("Landing page path"),
    "landing_url": N_("Landing page address"),
    "click_id": N_("Ad click ID"),
    "channel": N_("Channel"),
    "source": N_("Source"),
    "medium": N_("Medium"),
}
