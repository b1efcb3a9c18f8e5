"""The local development chain: start and stop the anvil binary shipped by the npm package.

Used by `make chain` / `tessera chain up|down`, by the demo, by integration tests and by benchmarks. The
binary comes from `node_modules/@foundry-rs/anvil-linux-amd64` (installed by `npm ci`); nothing is
downloaded. A chain started with a state directory keeps its contracts across restarts (anvil's
`--state`, dumped on exit and every few seconds).

Subprocess, not threads: anvil is a separate program; we only own its lifetime.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from offchain.errors import ConfigError, RpcUnreachable

REPO_ROOT = Path(__file__).resolve().parent.parent
ANVIL_BIN = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
LOCAL_CHAIN_ID = 1337
# anvil's (and ape's) well-known development mnemonic: its accounts are public, for local chains only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


@dataclass(frozen=True)
class Chain:
    """A running anvil: where to reach it and the process that owns it."""

    rpc_url: str
    chain_id: int
    pid: int


def anvil_binary() -> Path:
    """Path of the anvil binary, or a clear error saying how to install it."""
    if not ANVIL_BIN.exists():
        raise ConfigError(
            f"anvil is not installed at {ANVIL_BIN}", hint="run `npm ci` (or `make setup`) in the repository"
        )
    return ANVIL_BIN


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 5.0) -> object:
    """One JSON-RPC call with the standard library (used before web3 is set up, and by tests)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        payload = json.loads(resp.read())
    if "error" in payload:
        raise RuntimeError(f"{method} failed: {payload['error']}")
    return payload["result"]


def wait_ready(url: str, timeout_s: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Block until the node answers `eth_chainId`, or raise RpcUnreachable."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RpcUnreachable(f"anvil exited with code {proc.returncode} before answering at {url}")
        try:
            rpc_call(url, "eth_chainId", timeout=1.0)
            return
        except (OSError, urllib.error.URLError, RuntimeError):
            time.sleep(0.05)
    raise RpcUnreachable(f"no node answered at {url} within {timeout_s:.0f} s")


def start(
    *,
    port: int | None = None,
    chain_id: int = LOCAL_CHAIN_ID,
    state_file: Path | None = None,
    log_file: Path | None = None,
    extra_args: list[str] | None = None,
) -> tuple[Chain, subprocess.Popen]:
    """Start anvil on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    args = [
        str(anvil_binary()),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--mnemonic", DEV_MNEMONIC,
        "--accounts", "10",
    ]  # fmt: skip
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_file), "--state-interval", "2"]
    args += extra_args or []
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc=proc)
    except Exception:
        stop_process(proc)
        raise
    return Chain(rpc_url=url, chain_id=chain_id, pid=proc.pid), proc


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM (anvil dumps its state), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_chain(**kwargs) -> Iterator[Chain]:
    """A throw-away anvil for tests, benchmarks and the demo; stopped on exit whatever happens."""
    chain, proc = start(**kwargs)
    try:
        yield chain
    finally:
        stop_process(proc)


# ---------------------------------------------------------------- `make chain` / `make chain-stop`
def up(port: int, state_dir: Path) -> Chain:
    """Start a persistent background chain, remembered by a pid file under `state_dir`."""
    pid_file = state_dir / "anvil.pid"
    url = f"http://127.0.0.1:{port}"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if _alive(pid):
            print(f"anvil already running (pid {pid}) at {url}")
            return Chain(rpc_url=url, chain_id=LOCAL_CHAIN_ID, pid=pid)
        pid_file.unlink()
    state_file, log_file = state_dir / "anvil-state.json", state_dir / "anvil.log"
    chain, proc = start(port=port, state_file=state_file, log_file=log_file)
    pid_file.write_text(str(proc.pid))
    print(f"anvil running (pid {proc.pid}) at {url}, chain id {LOCAL_CHAIN_ID}; state in {state_dir}/")
    print("next: `make deploy` deploys the contracts; `make chain-stop` stops the chain")
    return chain


def down(state_dir: Path) -> bool:
    """Stop the chain started by `up`; its state is dumped on the way out."""
    pid_file = state_dir / "anvil.pid"
    if not pid_file.exists():
        print("no local chain is running")
        return False
    pid = int(pid_file.read_text())
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink()
    print(f"anvil (pid {pid}) stopped; state kept in {state_dir}/")
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); /proc tells the truth on Linux
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True
