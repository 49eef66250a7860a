"""axe-core in the browser tests: run it on a page for the WCAG 2.1 A and AA rules, and say what
failed in words a person can act on.

axe-core comes inside the `axe-playwright-python` package (its `axe.min.js`), so nothing is
fetched when the tests run. The script is evaluated through the browser's debugging protocol,
which the page's Content-Security-Policy does not govern: the page is checked as it is served.
"""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

WCAG_21_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
"""The rule sets of WCAG 2.0 and 2.1, levels A and AA."""
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": list(WCAG_21_AA_TAGS)},
    "resultTypes": ["violations"],
}


def axe_version(page: Page) -> str:
    """The version of axe-core the tests run (injecting it when the page lacks it)."""
    _inject(page)
    version: str = page.evaluate("window.axe.version")
    return version


def _inject(page: Page) -> None:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    _inject(page)
    result: dict[str, Any] = page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    """One line per rule and element: the page, the rule, its impact, the element and why."""
    lines: list[str] = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(json.dumps(part) for part in node["target"])
            why = node.get("failureSummary", "").replace("\n", " ").strip()
            lines.append(
                f"{where}: {violation['id']} ({violation.get('impact')}): {target}: "
                f"{node.get('html', '')[:160]} -- {why}"
            )
    return lines
