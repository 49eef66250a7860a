"""The dashboard's design tokens as Python sees them: the colours of `static/tokens.css` in the
light and the dark scheme, and the pairs of them that must contrast (text on its background,
focus rings and control borders on the page).

`tokens.css` is the one place a colour is set; this module reads it rather than repeating it,
so a test can compute the WCAG contrast of every pair, every heatmap level and every call
status, in both schemes, from what the browser really gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.contrast import TEXT_MINIMUM, UI_MINIMUM, Colour, contrast_ratio

TOKENS_CSS = Path(__file__).parent / "static" / "tokens.css"
SCHEMES = ("light", "dark")
HEAT_LEVELS = 6
"""Shades of the heatmap: `heat-0` (nothing) to `heat-5` (the busiest hour)."""

_ROOT = re.compile(r":root\s*{([^}]*)}")
_DARK = re.compile(r"@media\s*\(\s*prefers-color-scheme:\s*dark\s*\)\s*{\s*:root\s*{([^}]*)}")
_DECLARATION = re.compile(r"--([\w-]+)\s*:\s*([^;]+);")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class ContrastPair:
    """A foreground token used on a background token, and the ratio it needs."""

    foreground: str
    background: str
    minimum: float
    use: str

    def ratio(self, colours: dict[str, Colour]) -> float:
        return contrast_ratio(colours[self.foreground], colours[self.background])


def _declarations(block: str) -> dict[str, Colour]:
    return {name: Colour.parse(value) for name, value in _DECLARATION.findall(block)}


def parse_tokens(css: str) -> dict[str, dict[str, Colour]]:
    """The colour of every token in each scheme: the dark block overrides the light one.

    ValueError when the light block is missing, a value is not a hex colour, or the dark
    block names a token the light one lacks.
    """
    css = _COMMENT.sub("", css)
    dark_match = _DARK.search(css)
    light_match = _ROOT.search(css[: dark_match.start()] if dark_match else css)
    if light_match is None:
        raise ValueError("tokens.css has no :root block")
    light = _declarations(light_match.group(1))
    dark_only = _declarations(dark_match.group(1)) if dark_match else {}
    unknown = sorted(set(dark_only) - set(light))
    if unknown:
        raise ValueError(f"the dark scheme sets tokens the light one lacks: {unknown}")
    return {"light": light, "dark": {**light, **dark_only}}


@cache
def load_tokens() -> dict[str, dict[str, Colour]]:
    """The tokens of `static/tokens.css` (read once)."""
    return parse_tokens(TOKENS_CSS.read_text(encoding="utf-8"))


def status_token(status: str) -> str:
    """The token of a call status's text colour (`.status-<status>` in calls.css)."""
    return f"status-{status}"


PAGE_BACKGROUNDS = ("bg", "surface")
"""Text sits on the page or on a card."""

CONTRAST_PAIRS: tuple[ContrastPair, ...] = (
    *(
        ContrastPair(text, background, TEXT_MINIMUM, use)
        for text, use in (
            ("text", "body text"),
            ("muted", "secondary text, table headers, labels"),
            ("accent", "links and link buttons"),
            ("danger-text", "errors, missed calls, 'not target'"),
            ("success-text", "answered calls, 'target', done steps"),
            ("good", "a change for the better"),
            ("bad", "a change for the worse"),
        )
        for background in PAGE_BACKGROUNDS
    ),
    ContrastPair("text", "bg", TEXT_MINIMUM, "text in form fields"),
    ContrastPair("accent-text", "accent", TEXT_MINIMUM, "primary buttons"),
    ContrastPair("danger-text", "danger-bg", TEXT_MINIMUM, "alerts"),
    *(
        ContrastPair(status_token(status), background, TEXT_MINIMUM, f"call status {status}")
        for status in CallStatus
        for background in PAGE_BACKGROUNDS
    ),
    *(
        ContrastPair(
            f"heat-{level}-text", f"heat-{level}-bg", TEXT_MINIMUM, f"heatmap level {level}"
        )
        for level in range(HEAT_LEVELS)
    ),
    *(
        ContrastPair(part, background, UI_MINIMUM, use)
        for part, use in (
            ("focus-ring", "the keyboard focus ring"),
            ("control-border", "borders of form fields"),
        )
        for background in PAGE_BACKGROUNDS
    ),
)
"""Every pair of tokens the stylesheets put together, with the contrast WCAG 2.1 AA asks."""
