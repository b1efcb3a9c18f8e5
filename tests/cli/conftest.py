"""CLI fixtures: the real `tessera` program (in a subprocess) and Typer's in-process runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no TESSERA_* leaking in from the caller, and private state folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_IPFS_DIR"] = str(tmp_path / "ipfs")
    env["TESSERA_DATA_DIR"] = str(tmp_path / "worker")
    env["TESSERA_DEPLOYMENTS_DIR"] = str(tmp_path / "deployments")
    return env


@pytest.fixture
def tessera(cli_env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m offchain.cli ARGS...` as a user would; returns the completed process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "offchain.cli", *args],
            cwd=tmp_path,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
