"""docs/cli.md keeps up with the code: every command and option is documented."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from ringtrail.cli.main import app

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def _commands(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_every_command_and_option_is_in_the_cli_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for path, command in _commands(get_command(app)):
        if path:
            assert f"ringtrail {path[0]}" in text, path
            assert " ".join(path[1:]) in text, path
        for param in getattr(command, "params", []):
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert option in text, f"{' '.join(path)} {option}"
