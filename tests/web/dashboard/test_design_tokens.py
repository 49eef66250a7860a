"""The dashboard's colours: every pair the stylesheets put together reaches WCAG 2.1 AA contrast
in the light and the dark scheme, computed from `static/tokens.css` itself; every heatmap level
and call status has its tokens; and no other stylesheet sets a colour of its own, so a new page
cannot bring a colour the check never saw."""

from __future__ import annotations

import re

import pytest

from ringtrail.domain.calls import CallStatus
from ringtrail.domain.contrast import TEXT_MINIMUM, UI_MINIMUM
from ringtrail.web.dashboard import charts
from ringtrail.web.dashboard.design_tokens import (
    CONTRAST_PAIRS,
    HEAT_LEVELS,
    SCHEMES,
    TOKENS_CSS,
    ContrastPair,
    load_tokens,
    parse_tokens,
    status_token,
)

STATIC = TOKENS_CSS.parent
TEMPLATES = STATIC.parent / "templates"
COLOUR_LITERAL = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(|"
    r":\s*(?:white|black|red|green|blue|gray|grey)\b",
    re.IGNORECASE,
)


def _pair_id(pair: ContrastPair) -> str:
    return f"{pair.foreground}-on-{pair.background}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("pair", CONTRAST_PAIRS, ids=_pair_id)
def test_every_pair_reaches_its_contrast(pair: ContrastPair, scheme: str) -> None:
    colours = load_tokens()[scheme]
    ratio = pair.ratio(colours)
    assert ratio >= pair.minimum, (
        f"{scheme}: {pair.use}: --{pair.foreground} {colours[pair.foreground].hex} on "
        f"--{pair.background} {colours[pair.background].hex} is {ratio:.2f}:1, "
        f"needs {pair.minimum}:1"
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_heatmap_level_has_readable_text_on_its_shade(scheme: str) -> None:
    colours = load_tokens()[scheme]
    assert HEAT_LEVELS == charts.HEAT_LEVELS
    pairs = {(pair.foreground, pair.background): pair for pair in CONTRAST_PAIRS}
    for level in range(HEAT_LEVELS):
        pair = pairs[f"heat-{level}-text", f"heat-{level}-bg"]
        assert pair.minimum == TEXT_MINIMUM
        assert pair.ratio(colours) >= TEXT_MINIMUM, (scheme, level)
    # Darker shades mean more calls on the light page, lighter ones on the dark page.
    from ringtrail.domain.contrast import relative_luminance

    shades = [relative_luminance(colours[f"heat-{level}-bg"]) for level in range(HEAT_LEVELS)]
    assert shades == sorted(shades, reverse=scheme == "light"), shades


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_call_status_has_a_readable_colour(scheme: str) -> None:
    colours = load_tokens()[scheme]
    checked = {(pair.foreground, pair.background) for pair in CONTRAST_PAIRS}
    for status in CallStatus:
        for background in ("bg", "surface"):
            assert (status_token(status), background) in checked, status
    calls_css = (STATIC / "calls.css").read_text(encoding="utf-8")
    for status in CallStatus:
        rule = f".status-{status} {{ color: var(--{status_token(status)}); }}"
        assert rule in calls_css, f"calls.css lacks {rule}"
        assert status_token(status) in colours


def test_every_heat_and_status_token_is_checked() -> None:
    """A new shade or status colour in tokens.css needs its pair in design_tokens.py."""
    named = {token for token in load_tokens()["light"] if token.startswith(("heat-", "status-"))}
    checked = {name for pair in CONTRAST_PAIRS for name in (pair.foreground, pair.background)}
    assert named - checked == set()
    assert {p.minimum for p in CONTRAST_PAIRS} == {TEXT_MINIMUM, UI_MINIMUM}


def test_no_other_stylesheet_sets_a_colour_of_its_own() -> None:
    """(Templates cannot: the Content-Security-Policy refuses inline styles.)"""
    found = []
    for path in STATIC.glob("*.css"):
        if path == TOKENS_CSS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COLOUR_LITERAL.search(re.sub(r"/\*.*?\*/", "", line)):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == [], "colours belong in tokens.css:\n" + "\n".join(found)


def test_the_page_loads_the_tokens_before_any_other_stylesheet() -> None:
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    sheets = re.findall(r"static\('([\w-]+\.css)'\)", base)
    assert sheets[0] == "tokens.css"
    assert sheets[-1] == "accessibility.css"  # its focus ring comes after every other rule
    assert all((STATIC / sheet).is_file() for sheet in sheets)


def test_the_parser_reads_both_schemes_and_refuses_what_it_cannot_check() -> None:
    css = """/* c */ :root { --bg: #fff; --text: #000; /* note */ }
    @media (prefers-color-scheme: dark) { :root { --bg: #111; } }"""
    tokens = parse_tokens(css)
    assert tokens["light"]["bg"].hex == "#ffffff"
    assert tokens["dark"]["bg"].hex == "#111111"
    assert tokens["dark"]["text"].hex == "#000000"  # inherited from the light scheme
    with pytest.raises(ValueError, match="lacks"):
        parse_tokens(
            ":root { --bg: #fff; } @media (prefers-color-scheme: dark) { :root { --x: #000; } }"
        )
    with pytest.raises(ValueError, match="hex"):
        parse_tokens(":root { --bg: rgba(0, 0, 0, .5); }")
    with pytest.raises(ValueError, match="no :root"):
        parse_tokens("body { color: red; }")


def test_the_old_colours_would_have_failed() -> None:
    """The colours issue #23 found, put back into the tokens, fail the pairs above."""
    source = TOKENS_CSS.read_text(encoding="utf-8")
    old = source.replace("--accent: #1a5fd0;", "--accent: #1f6feb;").replace(
        "--accent-text: #0b1220;", "--accent-text: #ffffff;"
    )
    assert old != source
    tokens = parse_tokens(old)
    accent_on_bg = ContrastPair("accent", "bg", TEXT_MINIMUM, "links")
    button = ContrastPair("accent-text", "accent", TEXT_MINIMUM, "primary buttons")
    assert accent_on_bg.ratio(tokens["light"]) < TEXT_MINIMUM
    assert button.ratio(tokens["dark"]) < TEXT_MINIMUM
