"""docs/tracking.md covers what a site owner needs: the tag, rules, pools, the JS API, sizing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ringtrail.domain.pools import resolve_timings
from ringtrail.storage.models import Project

DOCS = Path(__file__).parents[3] / "docs"
TRACKING = DOCS / "tracking.md"
SCRIPT = Path(__file__).parents[3] / "src" / "ringtrail" / "web" / "tracking" / "static" / "t.js"


@pytest.mark.parametrize(
    "heading",
    [
        "## Installing the tag",
        "## Source rules and precedence",
        "### Pool settings",
        "## JavaScript API for single-page apps",
        "## Sizing a pool",
        "## Check your installation",
    ],
)
def test_tracking_docs_have_the_promised_sections(heading: str) -> None:
    assert re.search(rf"^{re.escape(heading)}$", TRACKING.read_text(encoding="utf-8"), re.M)


def test_every_public_script_function_is_documented() -> None:
    script, docs = SCRIPT.read_text(encoding="utf-8"), TRACKING.read_text(encoding="utf-8")
    api = script[script.index("var api = w.ringtrail = {") :]
    api = api[: api.index("};")]
    names = re.findall(r"^\s{4}(\w+):", api, re.M)
    assert {"run", "onNumber", "numbers"} <= set(names)
    for name in names:
        assert f"ringtrail.{name}" in docs, name
    assert "ringtrail:numbers" in docs


def table(docs: str) -> list[str]:
    """The rows of the pool settings table."""
    section = docs[docs.index("### Pool settings") :]
    lines = [line for line in section.splitlines()[1:] if line.startswith("| `")]
    return lines


def test_documented_defaults_match_the_code() -> None:
    docs = TRACKING.read_text(encoding="utf-8")
    columns = Project.__table__.c
    grace = columns.grace_minutes.default.arg
    cooldown = columns.cooldown_minutes.default.arg
    touch = columns.attribution_touch.default.arg
    rows = {line.split("|")[1].strip(): line.split("|")[3].strip() for line in table(docs)}
    assert rows["`grace_minutes`"] == str(grace)
    assert rows["`cooldown_minutes`"] == str(cooldown)
    assert rows["`attribution_touch`"] == f"`{touch}`"
    assert resolve_timings(grace, cooldown).grace.total_seconds() == grace * 60


def test_docs_the_tracking_docs_point_at_exist() -> None:
    for text in (TRACKING.read_text(encoding="utf-8"), SCRIPT.read_text(encoding="utf-8")):
        for name in re.findall(r"(?<![\w/.-])([\w/-]+\.md)\b", text):
            assert (DOCS / name).exists() or (DOCS.parent / name).exists(), name


def test_every_bot_kind_and_reason_is_explained_in_check_your_installation() -> None:
    from ringtrail.domain.bot_policy import SIGNAL_KINDS
    from ringtrail.domain.bots import BOT_KINDS
    from ringtrail.services.refusals import NoNumber

    docs = TRACKING.read_text(encoding="utf-8")
    section = docs[docs.index("## Check your installation") :]
    section = section[: section.index("\n## ", 1)]
    for code in [*BOT_KINDS, *SIGNAL_KINDS, *NoNumber]:
        assert f"`{code}`" in section, code
