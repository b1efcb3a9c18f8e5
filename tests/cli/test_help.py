"""`--help` works for every command and group, and each one has a one-line description."""

from __future__ import annotations

import pytest
import typer.main

from offchain.cli import app


def _commands(group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every command and group under `group`, with its path (typer vendors its own click)."""
    found = [(path, group)]
    if hasattr(group, "commands"):
        for name, sub in sorted(group.commands.items()):
            found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "tessera")
def test_help_works(runner, path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "path,command", [c for c in COMMANDS if c[0]], ids=lambda c: " ".join(c) if isinstance(c, tuple) else ""
)
def test_every_command_has_a_one_line_description(path, command):
    assert command.get_short_help_str(limit=200).strip(), f"`tessera {' '.join(path)}` has no description"


def test_the_expected_commands_exist():
    names = {" ".join(p) for p, _ in COMMANDS}
    expected_commands = [
        "chain up", "chain down", "deploy", "ipfs add", "ipfs cat",
        "operator register", "operator stake", "operator unstake", "operator withdraw", "operator status",
        "operator selected",
        "job submit", "job status", "job result", "job schema", "job wait",
        "worker run", "worker doctor", "rewards claim", "rewards status", "demo",
    ]  # fmt: skip
    for expected in expected_commands:
        assert expected in names


def test_real_program_prints_help(tessera):
    result = tessera("--help")
    assert result.returncode == 0
    assert "tessera" in result.stdout.lower()


@pytest.mark.parametrize("path,command", [c for c in COMMANDS if c[0] and not hasattr(c[1], "commands")],
                         ids=lambda c: " ".join(c) if isinstance(c, tuple) else "")  # fmt: skip
def test_every_command_shows_an_example(runner, path, command):
    assert "Example: tessera" in runner.invoke(app, [*path, "--help"]).stdout


def test_job_schema_prints_the_spec_json_schema(runner):
    import json

    result = runner.invoke(app, ["job", "schema"])

    schema = json.loads(result.stdout)
    assert result.exit_code == 0
    assert "workload" in schema["properties"] and "version" in schema["properties"]
