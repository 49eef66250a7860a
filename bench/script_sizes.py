"""Size of every script a site loads, against its gzipped budget.

    python bench/script_sizes.py

`/t.js` is on every page of every site; the feature scripts it loads only for projects that
enable them (docs/tracking.md, "Feature scripts") have budgets of their own. Prints raw and
gzipped bytes (gzip level 9, as the app serves them) and exits 1 when a script is over its
budget or a served script has none. See bench/README.md.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

STATIC = (
    Path(__file__).resolve().parent.parent / "src" / "ringtrail" / "web" / "tracking" / "static"
)
BUDGETS = {
    "t.min.js": 5 * 1024,  # the tracking script: every page
    "f.min.js": 3 * 1024,  # forms: projects that track forms
    "w.min.js": 10 * 1024,  # the callback widget: projects that show it
    "i.min.js": 1536,  # allocation on intent: projects that take a number on intent
}
"""Gzipped budget in bytes of each served script (`static/*.min.js`)."""


def measure(static: Path = STATIC) -> list[dict[str, object]]:
    """One row per served script: name, raw and gzipped bytes, budget (None: has none)."""
    rows: list[dict[str, object]] = []
    for path in sorted(static.glob("*.min.js")):
        body = path.read_bytes()
        packed = len(gzip.compress(body, compresslevel=9, mtime=0))
        budget = BUDGETS.get(path.name)
        rows.append(
            {
                "script": path.name,
                "bytes": len(body),
                "gzip_bytes": packed,
                "budget": budget,
                "ok": budget is not None and packed <= budget,
            }
        )
    return rows


def main() -> int:
    rows = measure()
    print(f"{'script':10} {'bytes':>8} {'gzipped':>8} {'budget':>8}  ok")
    for row in rows:
        budget = row["budget"] if row["budget"] is not None else "-"
        ok = "yes" if row["ok"] else "NO"
        print(f"{row['script']!s:10} {row['bytes']:>8} {row['gzip_bytes']:>8} {budget:>8}  {ok}")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
