"""Benchmark and figures of the pool simulator on a preset (clinic-5k by default).

    python bench/pool_sim_bench.py [--scenario clinic-5k] [--days 30] [--png FILE.png]

First it times one run of the whole trace (a month of clinic-5k: ~150,000 visits) through the
real pool and attribution code under each policy, at the give-everyone bound; then it runs
the full study (bounds, vendor rules, the smallest pools per policy for 99%, the pools that
match the CallTrackingMetrics size's accuracy, the accuracy curves), prints the Markdown
tables docs/performance.md holds, checks the acceptance points, and writes the chart.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ringtrail.domain.pool_planning import HoldPolicy
from ringtrail.simulation.driver import simulate
from ringtrail.simulation.report import markdown, write_png
from ringtrail.simulation.scenario import load_scenario
from ringtrail.simulation.study import pool_bounds, run_study
from ringtrail.simulation.traffic import trace_of


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="clinic-5k")
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--png", type=Path, default=None)
    parser.add_argument("--no-study", action="store_true", help="Only time the runs.")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    started = time.perf_counter()
    trace = trace_of(scenario, args.days)
    generated = time.perf_counter() - started
    print(
        f"generated {len(trace.visits)} visits and {len(trace.calls)} calls over "
        f"{trace.duration / 86400:g} days in {generated:.1f} s"
    )
    bounds = pool_bounds(trace)
    sizes = {pool: b.give_everyone for pool, b in bounds.items()}
    for policy in HoldPolicy:
        cpu = time.process_time()
        result = simulate(trace, sizes, policy)
        cpu = time.process_time() - cpu
        print(
            f"{policy.value:8} one run at the bound ({result.size} numbers): "
            f"{result.seconds:.1f} s wall, {cpu:.1f} s CPU, {result.events} events, "
            f"session-correct {result.session_accuracy() * 100:.2f}%"
        )
    if args.no_study:
        return 0
    started, cpu = time.perf_counter(), time.process_time()
    study = run_study(trace, curves=args.png is not None)
    print(
        f"\nstudy in {time.perf_counter() - started:.0f} s wall, "
        f"{time.process_time() - cpu:.0f} s CPU\n"
    )
    print(markdown(study))
    if args.png is not None:
        write_png(study, args.png)
        print(f"\nwrote {args.png}")
    lru = study.plans[HoldPolicy.LRU]
    intent = study.plans[HoldPolicy.INTENT]
    everyone = study.total_bound("give_everyone")
    checks = {
        "LRU plan >= 99% session-correct within W": lru.result.session_accuracy() >= 0.99,
        "LRU plan 100% source-correct within W": lru.result.source_accuracy() == 1.0,
        "LRU plan <= 1.10x give-everyone bound": lru.total <= 1.10 * everyone,
        "intent plan < give-everyone bound": intent.total < everyone,
        "CallTrackingMetrics accuracy with <= half its numbers": (
            study.ctm_match is not None
            and study.ctm_match.total <= study.total_bound("ctm") / 2
            and study.ctm_match.result.session_accuracy()
            >= study.at_ctm[HoldPolicy.LRU].session_accuracy()
        ),
    }
    print()
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
