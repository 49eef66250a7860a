"""Bot detection on the public corpus: detection rate, refused browsers, microseconds per UA.

    python bench/bot_bench.py [--rounds 5]

Reads tests/domain/bot_corpus (crawler and browser User-Agents from public sources; see its
README) and prints, for `domain.bots.is_bot`:

- the share of crawlers detected (goal: at least 98%), per labelled kind, and those missed;
- the browsers refused a number (goal: none), per category (desktop, mobile, in-app...);
- microseconds per User-Agent, uncached (the cache cleared before each round, every
  User-Agent new) and cached (the same User-Agents again: what a visit start pays for an
  agent seen lately; goal: under 50 µs), best of `--rounds`;
- the cost of the other per-visit checks: the data-centre lookup and the owner's lists.

Writes the figures as JSON to bench/results/ (git-ignored). See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ringtrail.domain import bots  # noqa: E402
from ringtrail.domain.bot_policy import BotPolicy, check_entries, parse_address  # noqa: E402
from ringtrail.domain.datacentres import datacentre_of  # noqa: E402

CORPUS = ROOT / "tests" / "domain" / "bot_corpus"
RESULTS = ROOT / "bench" / "results"


def load(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def best_per_item(run: Callable[[], None], items: int, rounds: int, clear: bool) -> float:
    """The fastest of `rounds` runs, in microseconds per item."""
    best = float("inf")
    for _ in range(rounds):
        if clear:
            bots._bot_kind.cache_clear()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / items * 1e6


def timings(agents: Sequence[str], rounds: int) -> dict[str, float]:
    def detect() -> None:
        for agent in agents:
            bots.is_bot(agent)

    uncached = best_per_item(detect, len(agents), rounds, clear=True)
    bots._bot_kind.cache_clear()
    for agent in agents[: bots._bot_kind.cache_info().maxsize or len(agents)]:
        bots.is_bot(agent)  # warm: the cache holds the most recent 8,192 agents
    warm = agents[: bots._bot_kind.cache_info().maxsize or len(agents)]

    def detect_warm() -> None:
        for agent in warm:
            bots.is_bot(agent)

    cached = best_per_item(detect_warm, len(warm), rounds, clear=False)
    addresses = [
        f"{a}.{b}.{c}.7" for a in (3, 20, 34, 52, 93, 185) for b in range(20) for c in (1, 9)
    ]
    parsed = [parse_address(address) for address in addresses]

    def lookup() -> None:
        for address in parsed:
            datacentre_of(address)

    datacentre_of(parsed[0])  # builds the interval table once
    centre = best_per_item(lookup, len(parsed), rounds, clear=False)
    policy = BotPolicy(
        allow=check_entries([f"Monitor{i}" for i in range(25)] + ["203.0.113.0/24"]),
        deny=check_entries([f"Scraper{i}" for i in range(24)] + ["198.51.100.0/24"]),
    )

    def listed() -> None:
        for agent in warm[:2000]:
            policy.listed(agent, "192.0.2.44")

    lists = best_per_item(listed, min(2000, len(warm)), rounds, clear=False)
    return {
        "uncached_us": round(uncached, 2),
        "cached_us": round(cached, 2),
        "datacentre_lookup_us": round(centre, 2),
        "owner_lists_50_entries_us": round(lists, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    crawlers, browsers = load("crawlers.tsv"), load("browsers.tsv") + load("inapp_browsers.tsv")
    missed = [row for row in crawlers if not bots.is_bot(row["user_agent"])]
    refused = [row for row in browsers if bots.is_bot(row["user_agent"])]
    by_kind = Counter(row["label"] for row in crawlers)
    missed_kind = Counter(row["label"] for row in missed)
    by_category = Counter(row["category"] for row in browsers)
    refused_category = Counter(row["category"] for row in refused)
    agents = [row["user_agent"] for row in crawlers + browsers]
    timing = timings(agents, args.rounds)
    rate = 1 - len(missed) / len(crawlers)

    print(f"crawlers detected: {len(crawlers) - len(missed)}/{len(crawlers)} = {rate:.2%}")
    for kind, total in sorted(by_kind.items()):
        print(f"  {kind:<18} {total - missed_kind[kind]:>5}/{total:<5}")
    for row in missed:
        print(f"  missed: {row['user_agent']}")
    print(f"browsers refused a number: {len(refused)}/{len(browsers)}")
    for category, total in sorted(by_category.items()):
        print(f"  {category:<18} {refused_category[category]:>5}/{total:<5} refused")
    for row in refused:
        print(f"  refused: {row['user_agent']}")
    print(f"is_bot, uncached: {timing['uncached_us']:.1f} µs per User-Agent")
    print(f"is_bot, cached:   {timing['cached_us']:.2f} µs per User-Agent")
    print(f"data-centre lookup: {timing['datacentre_lookup_us']:.2f} µs per address")
    print(f"owner's lists (50 entries): {timing['owner_lists_50_entries_us']:.2f} µs per visit")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bot_bench_{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "crawlers": len(crawlers),
                "crawlers_detected": len(crawlers) - len(missed),
                "detection_rate": rate,
                "browsers": len(browsers),
                "browsers_refused": len(refused),
                "by_category": dict(by_category),
                "missed": [row["user_agent"] for row in missed],
                **timing,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
