"""The stable id a destination deduplicates one conversion by (GA4 `transaction_id`, Meta
`event_id`): the same for every retry and re-queue of one subject's event, different across
projects, subjects, events and destinations."""

from __future__ import annotations

import hashlib
import re

from ringtrail.integrations.base import Conversion, ConversionFacts

MAX_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


def conversion_event_id(kind: str, facts: ConversionFacts, conversion: Conversion) -> str:
    """`rt-<kind>-<project>-<subject kind>-<subject id>-<event>` when that is at most 64 safe
    characters; otherwise its readable start and a hash of the whole, so no two differ only
    in what was cut or replaced."""
    raw = f"rt-{kind}-{facts.project_id}-{facts.subject_kind}-{facts.subject_id}-{conversion.event}"
    readable = _UNSAFE.sub("_", raw)
    if readable == raw and len(raw) <= MAX_LENGTH:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
    return f"{readable[: MAX_LENGTH - 17]}-{digest}"
