"""The CLI is a package of small command modules over library code, and `--help` loads no heavy library.

Heavy modules (web3, torch, the IPFS client, the worker) are imported inside the commands that need them;
`--help` at any level must not pull them in (it is what a user types first, and what shell completion
runs). Checked by what is in ``sys.modules`` after the help ran, in a fresh interpreter: not a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "offchain" / "cli"
HEAVY = ("torch", "web3", "eth_account", "httpx", "offchain.ipfs", "offchain.worker", "offchain.demo")
MAX_MODULE_LINES = 250

PROBE = """
import json, sys
from typer.testing import CliRunner
from offchain.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["job", "submit", "--help"], ["worker", "doctor", "--help"]])
def test_help_imports_no_heavy_module(args):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_every_cli_module_is_small():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CLI.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_old_single_module_cli_is_gone():
    assert not (REPO / "offchain" / "cli.py").exists()
