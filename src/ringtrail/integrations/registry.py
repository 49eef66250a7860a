"""Finds a destination by its kind; modules load on first use so that one destination's
optional client code never slows or breaks another's."""

from __future__ import annotations

import importlib
from functools import cache

from ringtrail.integrations.base import Destination

KINDS: dict[str, str] = {
    "ga4": "ringtrail.integrations.ga4",
    "google_ads": "ringtrail.integrations.google_ads",
    "meta": "ringtrail.integrations.meta_capi",
    "yandex_metrica": "ringtrail.integrations.yandex_metrica",
    "crm_webhook": "ringtrail.integrations.crm_webhook",
    "bitrix24": "ringtrail.integrations.bitrix24",
}


class UnknownDestination(LookupError):
    pass


@cache
def destination(kind: str) -> Destination:
    """The destination of `kind`; UnknownDestination for a kind Ringtrail does not have."""
    module_name = KINDS.get(kind)
    if module_name is None:
        raise UnknownDestination(kind)
    module = importlib.import_module(module_name)
    found: Destination = module.DESTINATION
    return found
