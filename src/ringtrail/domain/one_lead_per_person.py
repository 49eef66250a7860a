"""One lead per person: a CRM gets no new lead while the caller has one still being worked.

A person is the first lead of everyone who wrote or called from one phone within the
project's unique-call window (`Lead.person_id`, services/leads.py). While another lead of the
person is open (new, qualified or in progress) or one of their deals is open, a new contact
is part of that work, not a new lead. The delivery service finds the open lead or deal
(services/crm_deals.open_contact_of) and hands it over as `facts.extra["open_contact"]`;
this module decides and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

OPEN_LEAD_STATUSES = frozenset({"new", "qualified", "in_progress"})
"""Lead statuses that are still being worked; won, lost and junk leads are closed."""
OPEN_DEAL_STATUS = "open"
EXTRA_KEY = "open_contact"
SKIP_CODE = "open_lead_exists"


@dataclass(frozen=True)
class OpenContact:
    """The person's lead or deal still open, other than the lead being sent."""

    kind: Literal["lead", "deal"]
    id: int

    def as_extra(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id}


def lead_is_open(status: str | None) -> bool:
    return (status or "new") in OPEN_LEAD_STATUSES


def open_contact(extra: Mapping[str, Any]) -> OpenContact | None:
    """The open lead or deal the delivery service found, read from `facts.extra`."""
    found = extra.get(EXTRA_KEY)
    if not isinstance(found, Mapping):
        return None
    kind, ident = found.get("kind"), found.get("id")
    if kind not in ("lead", "deal") or not isinstance(ident, int):
        return None
    return OpenContact(kind, ident)


def refusal(found: OpenContact | None) -> str | None:
    """Why no new lead goes out (None: it may): the open lead or deal, in words."""
    if found is None:
        return None
    return f"caller already has an open {found.kind} (#{found.id})"
