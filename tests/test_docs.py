"""The README names every command and every route, so the tour never falls behind the code."""

from __future__ import annotations

from pathlib import Path

import click

from diplo.service.app import create_app
from diplo.service.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "diplo") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [c for c in _commands(cli) if c not in README]
    assert not missing


def test_every_route_is_in_the_readme() -> None:
    schema = create_app().openapi_schema.to_schema()
    missing = [path for path in schema["paths"] if path.replace("{event_id}", "{id}") not in README]
    assert not missing
    for page in ("GET /", "/feed.atom", "/metrics"):
        assert page in README
