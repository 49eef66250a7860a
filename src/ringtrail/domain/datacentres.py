"""Is an address in a major cloud provider's ranges: the opt-in data-centre bot signal.

The ranges are package data (domain.datacentre_ranges, generated from public lists by
scripts/refresh_bot_data.py; nothing is downloaded at run time). They are turned into
sorted integer intervals on first use, and an address is found by bisection (a few
microseconds), so the check is cheap enough for every visit start of a project that opts in.
"""

from __future__ import annotations

import bisect
import ipaddress
import threading
from dataclasses import dataclass

from ringtrail.domain.bot_policy import Address
from ringtrail.domain.datacentre_ranges import DATACENTRE_RANGES


@dataclass(frozen=True)
class _Intervals:
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    providers: tuple[str, ...]


_tables: dict[int, _Intervals] = {}
_lock = threading.Lock()


def _build() -> dict[int, _Intervals]:
    rows: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
    for provider, networks in DATACENTRE_RANGES.items():
        for text in networks:
            network = ipaddress.ip_network(text, strict=False)
            first, last = int(network.network_address), int(network.broadcast_address)
            rows[network.version].append((first, last, provider))
    tables = {}
    for version, found in rows.items():
        found.sort()
        merged: list[tuple[int, int, str]] = []
        for first, last, provider in found:
            if merged and first <= merged[-1][1]:  # overlapping: keep the wider end
                if last > merged[-1][1]:
                    merged[-1] = (merged[-1][0], last, merged[-1][2])
                continue
            merged.append((first, last, provider))
        tables[version] = _Intervals(
            tuple(m[0] for m in merged), tuple(m[1] for m in merged), tuple(m[2] for m in merged)
        )
    return tables


def _intervals() -> dict[int, _Intervals]:
    if not _tables:
        with _lock:
            if not _tables:
                _tables.update(_build())
    return _tables


def datacentre_of(address: Address | None) -> str | None:
    """The cloud provider whose published ranges hold `address`, or None."""
    if address is None:
        return None
    table = _intervals()[address.version]
    value = int(address)
    at = bisect.bisect_right(table.starts, value) - 1
    if at >= 0 and value <= table.ends[at]:
        return table.providers[at]
    return None


def providers() -> tuple[str, ...]:
    """The providers whose ranges are known."""
    return tuple(DATACENTRE_RANGES)
