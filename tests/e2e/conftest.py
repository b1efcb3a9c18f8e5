"""End-to-end fixtures: the real demo program in a subprocess, with its temporary folder under tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DEMO_TIMEOUT_S = 600  # --faulty waits for a disputed round's reveal deadline, then a second round


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment minus TESSERA_*, with TMPDIR inside ``tmp_path`` (where the demo's
    temporary folder, and so every process it starts, can be recognised afterwards)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TMPDIR"] = str(tmp_path)
    return env


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line or environment contains ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().split()[2]
        except OSError:
            continue
        if text.encode() in blob and state != "Z":
            found.append(int(proc.name))
    return found


@pytest.fixture
def run_demo(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `tessera demo ARGS...` (as `python -m offchain.cli demo`) from an unrelated folder, as `make demo`
    does."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "offchain.cli", "demo", *args],
            cwd=tmp_path,
            env=demo_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S,
        )

    return run


def row(output: str, *needles: str) -> str:
    """The one table row of ``output`` that contains every needle."""
    rows = [line for line in output.splitlines() if all(n in line for n in needles)]
    assert len(rows) == 1, f"expected one row with {needles}, got {rows}\n{output}"
    return rows[0]


def column(output: str, header: str, line: str) -> str:
    """The cell of table row ``line`` under ``header`` in the nearest header row above it (rich draws
    header cells between ┃ and body cells between │)."""
    lines = output.splitlines()
    above = reversed(lines[: lines.index(line)])
    heads = next(h for h in above if "┃" in h and header in h).split("┃")
    return line.split("│")[[h.strip() for h in heads].index(header)].strip()
