"""Judging a fetched page of a site: is the tracking tag there, and are the originals found?

`read_page` pulls out of an HTML page what the installation check needs: the script tags
that carry a `data-key` or load `t.js`, and the phone-number-like runs of digits the tracking
script would look at (text outside scripts and styles, `title` / `aria-label` attributes and
`tel:` links). `judge_page` compares them with the project: its key, this server's address,
its allowed domains and its original numbers, compared digit by digit the way `t.js` does
(the country code, `00`/`011`/`810` international prefixes or a trunk `0`/`8` before the
national number). Nothing here fetches anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

SCRIPT_NAMES = ("t.js", "t.min.js")
_RUN = re.compile(r"\d(?:[\s().\/\u2010-\u2015-]{0,4}\d)*")
_SKIP = frozenset(
    [
        "script",
        "style",
        "textarea",
        "input",
        "select",
        "option",
        "template",
        "noscript",
        "head",
        "iframe",
        "object",
    ]
)
_ATTRS = ("title", "aria-label")
_CC2 = frozenset(
    [
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    ]
)


class TagVerdict(StrEnum):
    """What the page's tracking tag is, compared with the project."""

    OK = "ok"
    WRONG_KEY = "wrong_key"
    OTHER_SERVER = "other_server"
    MISSING = "missing"


@dataclass(frozen=True)
class ScriptTag:
    """A script tag of the page: where it loads from (absolute) and its `data-key`."""

    src: str
    key: str | None


@dataclass(frozen=True)
class PageContent:
    """What the check reads in a page."""

    scripts: tuple[ScriptTag, ...]
    digit_runs: tuple[str, ...]


@dataclass(frozen=True)
class NumberFinding:
    """One of the project's original numbers and whether the page shows it."""

    number: str
    found: bool


@dataclass(frozen=True)
class PageVerdict:
    """The findings about one page."""

    url: str
    domain_allowed: bool
    tag: TagVerdict
    tag_found: ScriptTag | None
    numbers: tuple[NumberFinding, ...]


class _Reader(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.scripts: list[ScriptTag] = []
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base_url = urljoin(self.base_url, values["href"])
        if tag == "script":
            src = values.get("src", "")
            if "data-key" in values or _script_name(src):
                absolute = urljoin(self.base_url, src) if src else ""
                self.scripts.append(ScriptTag(absolute, values.get("data-key") or None))
        href = values.get("href", "")
        if href.lower().startswith("tel:"):
            self.texts.append(href[4:])
        self.texts.extend(values[name] for name in _ATTRS if values.get(name))
        if tag == "body":
            self._skipping.clear()  # a head whose end tag was left out ends here
        elif tag in _SKIP and tag != "input":
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.texts.append(data)


def _script_name(src: str) -> bool:
    path = urlsplit(src).path if src else ""
    return path.rsplit("/", 1)[-1] in SCRIPT_NAMES


def read_page(html: str, page_url: str) -> PageContent:
    """The tracking-related script tags and the digit runs of an HTML page at `page_url`."""
    reader = _Reader(page_url)
    reader.feed(html)
    reader.close()
    runs = tuple(run.group(0) for text in reader.texts for run in _RUN.finditer(text))
    return PageContent(tuple(reader.scripts), runs)


def host_is_allowed(host: str | None, allowed_domains: list[str] | tuple[str, ...]) -> bool:
    """Whether `host` is an allowed domain or a subdomain of one (as visits are checked)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def judge_tag(
    scripts: tuple[ScriptTag, ...], key: str, server_url: str
) -> tuple[TagVerdict, ScriptTag | None]:
    """The best of the page's tags: this key from this server, else what is wrong with it."""
    ranked: list[tuple[int, TagVerdict, ScriptTag]] = []
    server = _origin(server_url)
    for script in scripts:
        same_server = _script_name(script.src) and _origin(script.src) == server
        if script.key == key and same_server:
            return TagVerdict.OK, script
        if same_server:
            ranked.append((1, TagVerdict.WRONG_KEY, script))
        elif script.key == key:
            ranked.append((2, TagVerdict.OTHER_SERVER, script))
        elif _script_name(script.src):
            ranked.append((3, TagVerdict.OTHER_SERVER, script))
        else:
            ranked.append((4, TagVerdict.WRONG_KEY, script))
    if not ranked:
        return TagVerdict.MISSING, None
    _, verdict, script = min(ranked, key=lambda item: item[0])
    return verdict, script


def _split(e164: str) -> tuple[str, str]:
    digits = re.sub(r"\D", "", e164)
    length = 1 if digits[:1] in ("1", "7") else 2 if digits[:2] in _CC2 else 3
    return digits[:length], digits[length:]


def _prefixes(country_code: str) -> list[str]:
    candidates = ["011" + country_code, "810" + country_code, "00" + country_code]
    candidates += [country_code + "0", country_code, "80", "8", "0", ""]
    return list(dict.fromkeys(candidates))


def number_in_runs(e164: str, runs: tuple[str, ...]) -> bool:
    """Whether a run of digits writes `e164` as `t.js` would recognise it.

    The number may stand alone in a run, or start and end on a group boundary inside it
    (`+380 44 123 45 67`, `(044) 123-45-67`, `0441234567`).
    """
    country_code, national = _split(e164)
    if not national:
        return False
    prefixes = _prefixes(country_code)
    for run in runs:
        digits, boundaries = _digits_and_boundaries(run)
        for start in boundaries:
            for prefix in prefixes:
                end = start + len(prefix) + len(national)
                if (
                    end <= len(digits)
                    and (end == len(digits) or end in boundaries)
                    and digits[start:end] == prefix + national
                ):
                    return True
    return False


def _digits_and_boundaries(run: str) -> tuple[str, set[int]]:
    digits: list[str] = []
    boundaries = {0}
    previous_was_digit = True
    for char in run:
        if char.isdigit():
            if not previous_was_digit:
                boundaries.add(len(digits))
            digits.append(char)
            previous_was_digit = True
        else:
            previous_was_digit = False
    return "".join(digits), boundaries


def judge_page(
    page_url: str,
    content: PageContent,
    *,
    key: str,
    server_url: str,
    allowed_domains: list[str] | tuple[str, ...],
    originals: list[str] | tuple[str, ...],
) -> PageVerdict:
    """Every finding about the page, for the project with `key` served from `server_url`."""
    verdict, script = judge_tag(content.scripts, key, server_url)
    return PageVerdict(
        url=page_url,
        domain_allowed=host_is_allowed(urlsplit(page_url).hostname, allowed_domains),
        tag=verdict,
        tag_found=script,
        numbers=tuple(
            NumberFinding(number, number_in_runs(number, content.digit_runs))
            for number in originals
        ),
    )
