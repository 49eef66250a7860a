"""Scenarios: presets load, a file with a typo or impossible shares is refused, and the
generated clinic-5k traffic has the shape the issue describes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.simulation.scenario import PRESETS, ScenarioError, load_scenario
from ringtrail.simulation.traffic import BOT_USER_AGENT, generate


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.timings.grace + scenario.timings.cooldown == scenario.window


def test_a_scenario_file_with_an_unknown_key_or_bad_shares_is_refused(tmp_path: Path) -> None:
    typo = tmp_path / "typo.toml"
    typo.write_text('name = "x"\nvisits_per_dya = 5\n')
    with pytest.raises(ScenarioError, match="visits_per_dya"):
        load_scenario(str(typo))
    bad = tmp_path / "bad.toml"
    bad.write_text("call_share = 0.5\nphone_seen_share = 0.1\n")
    with pytest.raises(ScenarioError, match="call_share"):
        load_scenario(str(bad))
    with pytest.raises(ScenarioError, match="not a preset"):
        load_scenario(str(tmp_path / "missing.toml"))


def test_clinic_5k_traffic_has_the_described_shape() -> None:
    trace = generate(load_scenario("clinic-5k").replace(days=4))
    visits = trace.visits
    per_day = len(visits) / 4
    assert 4800 < per_day < 5200
    daytime = sum(9 <= (v.start % 86400) // 3600 < 21 for v in visits) / len(visits)
    assert 0.68 < daytime < 0.72
    bots = sum(v.user_agent == BOT_USER_AGENT for v in visits) / len(visits)
    assert 0.04 < bots < 0.06
    google = sum(v.source == "google" for v in visits) / len(visits)
    assert 0.48 < google < 0.52
    seen = sum(v.phone_seen_at is not None for v in visits) / len(visits)
    assert 0.24 < seen < 0.26
    hidden = sum(len(v.segments) == 2 for v in visits) / len(visits)
    assert 0.18 < hidden < 0.20  # 20% of the human visits
    lengths = sorted(v.seconds_on_page for v in visits)
    assert 90 < lengths[len(lengths) // 2] < 110  # median 100 s
    first = [c for c in trace.calls if not c.repeat]
    assert 0.026 < len(first) / len(visits) < 0.034  # 3% (about 600 calls, give or take)
    callers = {c.visit_id for c in first}
    assert all(visits[i - 1].phone_seen_at is not None for i in callers)
    during = sum(visits[c.visit_id - 1].start <= c.at <= visits[c.visit_id - 1].end for c in first)
    assert 0.60 < during / len(first) < 0.70
    longer = generate(load_scenario("clinic-5k").replace(days=10))
    early = {c.caller for c in longer.calls if not c.repeat and c.at < 3 * 86400}
    again = {c.caller for c in longer.calls if c.repeat and c.caller in early}
    assert 0.08 < len(again) / len(early) < 0.12  # 10% call again within 7 days
