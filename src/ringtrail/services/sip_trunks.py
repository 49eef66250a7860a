"""SIP trunks: which project a SIP call belongs to when its dialled number tells nobody.

A project's `sip` telephony account names its trunk in `account_ref`: the addresses its
carrier signals from (Kamailio sends the INVITE's source address as `source` in every event,
docs/telephony/sip.md). A call to a number no project tracks then belongs to the one project
whose trunk lists that address; an address listed by several projects decides nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from ipaddress import ip_address

from sqlalchemy import Connection, select

from ringtrail.services.errors import InvalidInput
from ringtrail.storage.models import TelephonyAccount

PROVIDER = "sip"
MAX_ADDRESSES = 20
SIP_SIGNING_NOTE = (
    "a SIP account has no secret: SIP events come from your own Kamailio through RabbitMQ. "
    "A PBX that posts to the generic webhook signs with the project's webhook secret "
    "(GET /api/v1/projects/{id}/webhook-secret)"
)


def trunk_addresses(account_ref: str | None) -> list[str]:
    """The addresses an account_ref lists (commas or spaces between them), normalised."""
    found = []
    for part in re.split(r"[\s,]+", account_ref or ""):
        if part:
            try:
                found.append(str(ip_address(part.strip("[]"))))
            except ValueError:
                continue
    return found


def checked_trunk_ref(account_ref: str) -> str:
    """`account_ref` as stored: IP addresses, normalised, comma-separated; InvalidInput else."""
    parts = [part for part in re.split(r"[\s,]+", account_ref) if part]
    addresses = trunk_addresses(account_ref)
    if not parts or len(addresses) != len(parts):
        raise InvalidInput(
            "account_ref", "list the IP addresses your carrier sends calls from, comma-separated"
        )
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidInput("account_ref", f"at most {MAX_ADDRESSES} addresses")
    return ", ".join(dict.fromkeys(addresses))


def trunk_projects(connection: Connection, sources: Iterable[str]) -> dict[str, int]:
    """For each source address, the one project whose active SIP trunk lists it (if one)."""
    wanted = set(trunk_addresses(" ".join(sources)))
    if not wanted:
        return {}
    owners: dict[str, set[int]] = defaultdict(set)
    rows = connection.execute(
        select(TelephonyAccount.project_id, TelephonyAccount.account_ref).where(
            TelephonyAccount.provider == PROVIDER, TelephonyAccount.is_active.is_(True)
        )
    )
    for project_id, ref in rows:
        for address in trunk_addresses(ref):
            if address in wanted:
                owners[address].add(project_id)
    return {address: next(iter(ids)) for address, ids in owners.items() if len(ids) == 1}


def source_of(payload: object) -> str | None:
    """The trunk address a SIP event's raw message carries (None: it carries none)."""
    if isinstance(payload, dict):
        value = payload.get("source")
        if isinstance(value, str):
            addresses = trunk_addresses(value)
            return addresses[0] if addresses else None
    return None
