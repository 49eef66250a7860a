"""The deployment and architecture docs keep up with the code: settings and packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PACKAGE_DIR = ROOT / "src" / "ringtrail"


def _packages() -> list[str]:
    return sorted(
        path.name
        for path in PACKAGE_DIR.iterdir()
        if path.is_dir() and (path / "__init__.py").is_file()
    )


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_deployment_docs(field: str) -> None:
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    assert f"`{ENV_PREFIX}{field.upper()}`" in text


@pytest.mark.parametrize("package", _packages())
def test_every_package_is_in_the_architecture_docs(package: str) -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert f"`{package}/`" in text


def test_the_package_list_is_not_empty() -> None:
    assert {"domain", "storage", "web"} <= set(_packages())
