"""Every script a site loads has a gzipped budget (bench/script_sizes.py) and keeps to it:
/t.js 5 KB, /f.js 3 KB, /w.js 10 KB, /i.js 1.5 KB."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).parents[3] / "bench" / "script_sizes.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("script_sizes", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("script_sizes", module)
    spec.loader.exec_module(module)
    return module


def test_every_served_script_has_a_budget_and_keeps_to_it() -> None:
    sizes = bench()
    rows = {row["script"]: row for row in sizes.measure()}

    assert {"t.min.js", "f.min.js"} <= set(rows)
    assert sizes.BUDGETS == {
        "t.min.js": 5120,
        "f.min.js": 3072,
        "w.min.js": 10240,
        "i.min.js": 1536,
    }
    over = [row for row in rows.values() if not row["ok"]]
    assert over == []


def test_the_bench_fails_a_script_over_its_budget_or_without_one(tmp_path: Path) -> None:
    sizes = bench()
    (tmp_path / "f.min.js").write_bytes(os.urandom(6000))  # random bytes do not compress
    (tmp_path / "x.min.js").write_text("var x;")

    rows = {row["script"]: row for row in sizes.measure(tmp_path)}

    assert rows["f.min.js"]["ok"] is False and rows["f.min.js"]["gzip_bytes"] > 3072
    assert rows["x.min.js"] == {
        "script": "x.min.js",
        "bytes": 6,
        "gzip_bytes": rows["x.min.js"]["gzip_bytes"],
        "budget": None,
        "ok": False,
    }
