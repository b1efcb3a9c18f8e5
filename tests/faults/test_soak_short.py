"""The soak's short form (CI): `benchmarks/soak.py` for half a minute, 3 workers, random faults (proxy
faults and SIGKILL/restart); it must end with 0 duplicates and 0 lost (its exit status says so)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.anvil

REPO = Path(__file__).resolve().parents[2]


def test_a_short_soak_loses_and_duplicates_nothing(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "soak.py"),
            "--minutes",
            "0.5",
            "--seed",
            "1",
            "--post-every",
            "5",
            "--fault-every",
            "6",
            "--drain",
            "120",
        ],  # fmt: skip
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    lines = {ln.strip().split("  ")[0]: ln.split()[-1] for ln in out.splitlines() if "must be 0" in ln}
    assert lines == {"duplicates (must be 0)": "0", "lost (must be 0)": "0"}, out[-3000:]
