"""Run the ape deploy script (`scripts/deploy.py`) in a subprocess: `tessera deploy` and the demo use it.

The script is an `ape run` command (ape owns accounts, networks and compilation); this module only builds
its command line, runs it in the repository and turns its failure into a `TesseraError` with the script's
own ``E_...`` code when it printed one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from offchain.devchain import REPO_ROOT
from offchain.errors import ConfigError, TesseraError


class ReportedError(TesseraError):
    """An error another program already formatted as ``E_CODE: message``; re-raised with its own code."""

    def __init__(self, code: str, text: str) -> None:
        self.code = code
        message, _, hint = text.partition(". Next: ")
        super().__init__(message, hint=hint)


def run_deploy_script(
    *,
    network: str,
    deployments_dir: Path,
    force: bool = False,
    params: Path | None = None,
    account: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run `ape run deploy` (scripts/deploy.py) in the repository; return its output.

    A failure is raised as the script's own `E_...` one-liner when it printed one, else as `ConfigError`
    with the end of its output.
    """
    ape = Path(sys.executable).with_name("ape")
    args = [
        str(ape),
        "run",
        "deploy",
        "--network",
        network,
        "--deployments-dir",
        str(deployments_dir.resolve()),
    ]
    args += ["--force"] if force else []
    args += ["--params", str(params.resolve())] if params is not None else []
    args += ["--account", account] if account else []
    proc = subprocess.run(
        args,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        coded = re.search(r"(E_[A-Z_]+): (.+)", output)
        if coded:
            raise ReportedError(coded.group(1), coded.group(2).strip())
        tail = " | ".join(line.strip() for line in output.strip().splitlines()[-3:])
        raise ConfigError(
            f"`ape run deploy` failed (exit {proc.returncode}): {tail}", hint="see the output above"
        )
    return proc.stdout
