"""First-time, unique and repeat mean one thing: the code's wording is every doc's wording."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.attribution import EarlierCall, caller_standing
from ringtrail.domain.calls import CALLER_TERMS
from ringtrail.domain.reports.counts import CallCounts
from ringtrail.domain.reports.facts import CallFact
from ringtrail.services.reports.call_kind_reports import CALLER_TERMS_NOTE, UNIQUENESS_KINDS

DOCS = Path(__file__).resolve().parents[3] / "docs"
TERM_DOCS = ("reports.md", "webhooks.md", "api.md")
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("doc", TERM_DOCS)
@pytest.mark.parametrize("term", sorted(CALLER_TERMS))
def test_every_doc_words_each_term_as_the_code(doc: str, term: str) -> None:
    assert _flat(CALLER_TERMS[term]) in _flat((DOCS / doc).read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.md")))
def test_no_doc_calls_a_repeat_not_first_time(doc: str) -> None:
    text = _flat((DOCS / doc).read_text(encoding="utf-8")).lower()
    assert "repeat**: not first-time" not in text
    assert "repeat: not first-time" not in text


@given(
    ago=st.lists(st.integers(0, 90 * 24 * 60), max_size=5),
    window_days=st.integers(1, 60),
)
def test_the_domain_and_the_reports_count_the_same_repeat_calls(
    ago: list[int], window_days: int
) -> None:
    earlier = [EarlierCall(n, NOW - timedelta(minutes=m), None, None) for n, m in enumerate(ago)]
    standing = caller_standing(earlier, NOW, timedelta(days=window_days))
    fact = CallFact(1, NOW, None, "missed", 0, standing.first_time, standing.unique, None, "")
    assert CallCounts.of(fact).repeat == int(standing.repeat)
    assert standing.repeat == (not standing.unique)
    assert not (standing.first_time and standing.repeat)


def test_the_uniqueness_report_words_the_terms_as_the_code() -> None:
    assert CALLER_TERMS["first-time"] in CALLER_TERMS_NOTE
    assert "Repeat: not unique." in CALLER_TERMS_NOTE
    assert ("repeat", "Repeat calls", {"unique": False}) in UNIQUENESS_KINDS
