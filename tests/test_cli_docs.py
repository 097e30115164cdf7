"""README's "## Command line" section documents exactly the commands and options that exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from auditviewer.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Command line\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Command line' section"
    return match.group(1)


def _command_sections() -> dict[str, str]:
    """The text under each ``### <command>`` heading of the section."""
    parts = re.split(r"^### (.+)$", _section(), flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    return {
        heading.strip("` "): body
        for heading, body in sections.items()
        if re.fullmatch(r"`?[a-z][a-z-]*`?", heading.strip())
    }


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the parser has no commands")


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


def test_every_command_is_documented() -> None:
    undocumented = set(_subparsers()) - set(_command_sections())
    assert not undocumented, f"add a '### <command>' section to README.md for: {undocumented}"


def test_every_documented_command_exists() -> None:
    unknown = set(_command_sections()) - set(_subparsers())
    assert not unknown, f"README.md documents commands that do not exist: {unknown}"


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_every_option_of_a_command_is_documented_in_its_section(command: str) -> None:
    body = _command_sections().get(command, "")
    missing = [option for option in _long_options(_subparsers()[command]) if option not in body]
    assert not missing, f"README.md's '### {command}' does not mention {missing}"


def test_global_options_and_exit_codes_are_documented() -> None:
    section = _section()
    for option in _long_options(build_parser()):
        assert f"`{option}" in section
    for code in ("0", "1", "2", "130"):
        assert re.search(rf"^\| {code}\s+\|", section, re.MULTILINE), f"exit code {code}"
