"""The README documents the contracts: make run, make test, every command, the JSON export."""

from __future__ import annotations

from pathlib import Path

from rcm.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    first_code = README.split("```")[1]
    assert "make run" in first_code and "make test" in first_code


def test_every_command_is_documented():
    for name in cli.commands:
        assert f"rcm {name}" in README, f"README does not document `rcm {name}`"


def test_contracts_are_documented():
    for phrase in (
        "rcm-compendium/1",
        "RCM_DATABASE_URL",
        "--db",
        "RCM_TEST_POSTGRES_URL",
        ".venv/bin/rcm",
    ):
        assert phrase in README


def test_changelog_has_unreleased_section():
    assert "## Unreleased" in (ROOT / "CHANGES.md").read_text(encoding="utf-8")
