"""WCAG 2.1 colour contrast: relative luminance and contrast ratio of sRGB colours.

Pure arithmetic from the WCAG 2.1 definitions (success criteria 1.4.3 and 1.4.11), used to
hold the dashboard's design tokens to 4.5:1 for text and 3:1 for large text and the parts of
controls, in both colour schemes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT_MINIMUM = 4.5
"""Normal text against its background (WCAG 1.4.3, level AA)."""
LARGE_TEXT_MINIMUM = 3.0
"""Large text (18 pt, or 14 pt bold) against its background (WCAG 1.4.3, level AA)."""
UI_MINIMUM = 3.0
"""Focus indicators, control borders and other graphical parts (WCAG 1.4.11, level AA)."""

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Colour:
    """An opaque sRGB colour, each channel 0 to 255."""

    red: int
    green: int
    blue: int

    @classmethod
    def parse(cls, text: str) -> Colour:
        """A colour from `#rgb` or `#rrggbb`; ValueError for anything else."""
        value = text.strip()
        if not _HEX.match(value):
            raise ValueError(f"not an opaque hex colour: {text!r}")
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(digit * 2 for digit in digits)
        return cls(int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))

    @property
    def rgb(self) -> tuple[int, int, int]:
        return self.red, self.green, self.blue

    @property
    def hex(self) -> str:
        return f"#{self.red:02x}{self.green:02x}{self.blue:02x}"


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: Colour) -> float:
    """The colour's relative luminance, 0 (black) to 1 (white), as WCAG 2.1 defines it."""
    red, green, blue = (_linear(channel) for channel in colour.rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: Colour, second: Colour) -> float:
    """The contrast ratio of two colours, 1 to 21, whichever is lighter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
