"""`ringtrail simulate`: generate a scenario's traffic and calls, run them through the real pool
and attribution code, and print the pool study (bounds, vendor rules, the smallest pool each
policy needs, accuracy figures); optionally write the accuracy chart as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtrail.cli.errors import usage_error
from ringtrail.domain.pool_planning import HoldPolicy
from ringtrail.simulation.report import markdown, write_png
from ringtrail.simulation.scenario import PRESETS, ScenarioError, load_scenario
from ringtrail.simulation.study import DEFAULT_TARGET, run_study
from ringtrail.simulation.traffic import trace_of


def simulate(
    scenario: Annotated[
        str,
        typer.Argument(help=f"A preset ({', '.join(PRESETS)}) or a scenario TOML file."),
    ] = "clinic-5k",
    days: Annotated[
        float | None, typer.Option(min=0.1, help="Simulate this many days (default: the file's).")
    ] = None,
    target: Annotated[
        float,
        typer.Option(min=0.5, max=1.0, help="Share of calls within W to attribute right."),
    ] = DEFAULT_TARGET,
    policy: Annotated[
        list[HoldPolicy] | None,
        typer.Option("--policy", help="A policy to compare; repeat for more (default: all)."),
    ] = None,
    png: Annotated[
        Path | None, typer.Option(help="Write the accuracy-against-pool-size chart here.")
    ] = None,
) -> None:
    """Simulate a site's traffic and calls through the pool and attribution code."""
    try:
        found = load_scenario(scenario)
    except ScenarioError as exc:
        raise usage_error(str(exc)) from exc
    trace = trace_of(found, days)
    study = run_study(
        trace, target=target, policies=tuple(policy or HoldPolicy), curves=png is not None
    )
    typer.echo(markdown(study))
    if png is not None:
        try:
            write_png(study, png)
        except RuntimeError as exc:
            raise usage_error(str(exc)) from exc
        typer.echo(f"\nwrote {png}")
