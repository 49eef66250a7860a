"""A pool study as Markdown tables (what `ringtrail simulate` prints and docs/performance.md
holds) and as a PNG chart of accuracy against pool size (matplotlib, when installed)."""

from __future__ import annotations

from pathlib import Path

from ringtrail.domain.pool_planning import HoldPolicy
from ringtrail.simulation.driver import SimulationResult
from ringtrail.simulation.study import Study

POLICY_NAMES = {
    HoldPolicy.LRU: "least-recently-released reuse",
    HoldPolicy.ENGAGED: "engagement-aware holds",
    HoldPolicy.INTENT: "allocation on intent",
}


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def _row(name: str, size: int, result: SimulationResult, study: Study) -> str:
    everyone, oracle = study.total_bound("give_everyone"), study.total_bound("oracle")
    return (
        f"| {name} | {size} | {size / everyone:.2f}x | {size / oracle:.1f}x | "
        f"{_pct(result.session_accuracy())} | {_pct(result.source_accuracy())} | "
        f"{_pct(result.all_calls_session_accuracy())} | {_pct(result.overflow_rate)} | "
        f"{_pct(result.utilisation)} | {result.calibration_error():.2f} |"
    )


def markdown(study: Study) -> str:
    """The study's tables."""
    trace = study.trace
    scenario = trace.scenario
    within = [c for c in trace.calls if c.within_window]
    lines = [
        f"Scenario `{scenario.name}`: {trace.duration / 86400:g} days, {len(trace.visits)} visits, "
        f"{len(trace.calls)} calls ({len(within)} placed within W = "
        f"{scenario.window_minutes:g} min of their visit), target {_pct(study.target)} of "
        "those attributed to the right session.",
        "",
        "| pool | give-everyone bound | oracle bound | CallTrackingMetrics rule | Nimbata rule "
        "| overflow advice (1 %) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for pool, b in study.bounds.items():
        lines.append(
            f"| {pool} | {b.give_everyone} | {b.oracle} | {b.ctm} | {b.nimbata} | {b.advice} |"
        )
    lines.append(
        f"| **all** | {study.total_bound('give_everyone')} | {study.total_bound('oracle')} | "
        f"{study.total_bound('ctm')} | {study.total_bound('nimbata')} | "
        f"{study.total_bound('advice')} |"
    )
    lines += [
        "",
        "| policy, pool size | numbers | x give-everyone | x oracle | session-correct (within W) "
        "| source-correct (within W) | session-correct (all calls) | overflow | utilisation "
        "| confidence calibration error |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for policy, plan in study.plans.items():
        sizes = ", ".join(f"{p} {n}" for p, n in plan.sizes.items())
        lines.append(
            _row(
                f"{POLICY_NAMES[policy]}, smallest for target ({sizes})",
                plan.total,
                plan.result,
                study,
            )
        )
    for policy, result in study.at_ctm.items():
        lines.append(
            _row(f"{POLICY_NAMES[policy]}, CallTrackingMetrics size", result.size, result, study)
        )
    match = study.ctm_match
    reference = study.at_ctm.get(HoldPolicy.LRU)
    if match is not None and reference is not None:
        sizes = ", ".join(f"{p} {n}" for p, n in match.sizes.items())
        lines.append(
            _row(
                f"{POLICY_NAMES[match.policy]}, smallest for the CallTrackingMetrics size's "
                f"{_pct(reference.session_accuracy())} ({sizes})",
                match.total,
                match.result,
                study,
            )
        )
    default = study.plans.get(HoldPolicy.LRU)
    if default is not None:
        lines += [
            "",
            "Stored confidence against reality (session attributions at the default policy's "
            "planned size, all calls):",
            "",
            "| stored confidence | mean stored | share right | calls |",
            "|---|---:|---:|---:|",
        ]
        for low, mean, right, count in default.result.calibration():
            lines.append(f"| {low:.1f} to {low + 0.2:.1f} | {mean:.2f} | {_pct(right)} | {count} |")
    return "\n".join(lines)


def write_png(study: Study, path: Path) -> None:
    """Accuracy against pool size for each policy, with both bounds and both vendor rules
    marked. Needs matplotlib (`pip install 'ringtrail[plots]'`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("the chart needs matplotlib: pip install 'ringtrail[plots]'") from exc
    figure, axes = plt.subplots(figsize=(9, 5.5), dpi=110)
    for policy, points in study.curves.items():
        axes.plot(
            [p.size for p in points],
            [p.accuracy * 100 for p in points],
            marker="o",
            markersize=3,
            label=POLICY_NAMES[policy],
        )
    marks = (
        ("give-everyone bound", study.total_bound("give_everyone"), "black", "-"),
        ("oracle bound", study.total_bound("oracle"), "grey", "-"),
        ("CallTrackingMetrics rule", study.total_bound("ctm"), "tab:red", "--"),
        ("Nimbata rule", study.total_bound("nimbata"), "tab:purple", "--"),
    )
    for label, x, colour, style in marks:
        axes.axvline(x, color=colour, linestyle=style, linewidth=1, label=f"{label} ({x})")
    axes.axhline(
        study.target * 100,
        color="tab:green",
        linestyle=":",
        linewidth=1,
        label=f"target {study.target * 100:g}%",
    )
    axes.set_xlabel("numbers in all pools")
    axes.set_ylabel("calls within W attributed to the right session (%)")
    axes.set_title(f"{study.trace.scenario.name}: attribution accuracy against pool size")
    axes.set_ylim(0, 101)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
