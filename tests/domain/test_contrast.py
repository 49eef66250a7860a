"""WCAG 2.1 contrast arithmetic against figures the WCAG documents and common tools give."""

from __future__ import annotations

import pytest

from ringtrail.domain.contrast import Colour, contrast_ratio, relative_luminance


def test_black_on_white_is_21_and_a_colour_on_itself_is_1() -> None:
    black, white = Colour.parse("#000"), Colour.parse("#ffffff")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    assert relative_luminance(white) == pytest.approx(1.0)
    assert relative_luminance(black) == 0.0


@pytest.mark.parametrize(
    ("foreground", "background", "ratio"),
    [
        ("#777777", "#ffffff", 4.48),  # the classic grey that just fails AA
        ("#767676", "#ffffff", 4.54),  # the lightest grey that passes on white
        ("#1f6feb", "#f6f7f9", 4.32),  # the old link colour on the page (issue #23)
        ("#ffffff", "#4c8dff", 3.20),  # the old dark-scheme primary button
        ("#1a7f37", "#1b2029", 3.21),  # the old "Answered" green on a dark card
    ],
)
def test_known_ratios(foreground: str, background: str, ratio: float) -> None:
    measured = contrast_ratio(Colour.parse(foreground), Colour.parse(background))
    assert measured == pytest.approx(ratio, abs=0.01)


def test_colours_parse_and_print_as_hex() -> None:
    assert Colour.parse("#AbC").hex == "#aabbcc"
    assert Colour.parse(" #1a5fd0 ").rgb == (0x1A, 0x5F, 0xD0)
    for bad in ("1a5fd0", "#12345", "rgb(1, 2, 3)", "#ggg", ""):
        with pytest.raises(ValueError):
            Colour.parse(bad)
