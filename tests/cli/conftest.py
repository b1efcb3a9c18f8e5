"""CLI fixtures: the real `tessera` program (in a subprocess) and Typer's in-process runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.chain import dev_account

__all__ = ["dev_account", "error_line", "make_env", "make_runner"]

REPO_ROOT = Path(__file__).resolve().parents[2]


Run = Callable[..., subprocess.CompletedProcess[str]]


def make_env(root: Path) -> dict[str, str]:
    """An environment with no TESSERA_* leaking in from the caller, and private state folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_IPFS_DIR"] = str(root / "ipfs")
    env["TESSERA_DATA_DIR"] = str(root / "worker")
    env["TESSERA_DEPLOYMENTS_DIR"] = str(root / "deployments")
    env["TESSERA_DEVICE"] = "cpu"
    return env


def make_runner(cwd: Path, base_env: dict[str, str]) -> Run:
    """Run `python -m offchain.cli ARGS...` in ``cwd`` as a user would; returns the completed process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "offchain.cli", *args],
            cwd=cwd,
            env={**base_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def cli_env_factory() -> Callable[[Path], dict[str, str]]:
    return make_env


@pytest.fixture(scope="session")
def tessera_factory() -> Callable[[Path, dict[str, str]], Run]:
    return make_runner


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return make_env(tmp_path)


@pytest.fixture
def tessera(cli_env: dict[str, str], tmp_path: Path) -> Run:
    return make_runner(tmp_path, cli_env)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line a failed command printed (warnings logged before it are allowed)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E_")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]
