"""The transcript shapes: merging sides keeps every segment in conversation order, and a
segment survives its stored JSON form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ringtrail.speech.engine import Segment, Transcript, merge_by_time

times = st.floats(min_value=0, max_value=3600, allow_nan=False, allow_infinity=False)
segments = st.builds(
    lambda speaker, start, length, text: Segment(speaker, start, start + length, text),
    st.sampled_from(["caller", "business", "mixed"]),
    times,
    st.floats(min_value=0, max_value=60, allow_nan=False),
    st.text(min_size=1, max_size=20),
)


@given(st.lists(st.lists(segments, max_size=8), max_size=3))
def test_merging_keeps_every_segment_in_time_order(sides: list[list[Segment]]) -> None:
    merged = merge_by_time(sides)

    assert sorted(merged, key=repr) == sorted((s for side in sides for s in side), key=repr)
    assert [s.start for s in merged] == sorted(s.start for s in merged)


@given(segments)
def test_a_segment_survives_its_stored_form(segment: Segment) -> None:
    back = Segment.from_json(segment.as_json())

    assert (back.speaker, back.text) == (segment.speaker, segment.text)
    assert abs(back.start - segment.start) <= 0.005 and abs(back.end - segment.end) <= 0.005


def test_the_text_joins_the_spoken_lines() -> None:
    said = (Segment("caller", 0, 1, "Hello"), Segment("business", 1, 2, ""))

    assert Transcript("en", 2.0, said).text == "Hello"
