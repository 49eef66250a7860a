"""docs/sources.md names every channel, rule field, rule operator and click id the code knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.domain.source_rules import CONDITION_FIELDS, CONDITION_OPS
from ringtrail.domain.sources import CHANNELS, CLICK_ID_KINDS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*CHANNELS, *CONDITION_FIELDS, *CONDITION_OPS, *CLICK_ID_KINDS])
def test_every_channel_condition_and_click_id_is_documented(name: str) -> None:
    assert name in DOC
