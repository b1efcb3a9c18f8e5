"""Fault-test fixtures: one real anvil with the contracts deployed and a staked operator, shared by a
module's cases (each case posts its own job), and the worker run as the real program in a subprocess.

The chain, deployment and helpers come from `tests.support`; compiled contracts from `tests.worker.conftest`.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Tessera
from offchain.chain.manifest import load_manifest
from offchain.devchain import running_chain
from tests.support.chain import TSR, dev_account, rpc, transact
from tests.support.contracts import deploy_tessera
from tests.support.market import MATMUL, STAKE, Market, post_job, publish_spec
from tests.worker import conftest as worker_conftest

REPO = Path(__file__).resolve().parents[2]
artifacts = worker_conftest.artifacts  # the compiled contracts (session fixture), reused
SMALL_MATMUL = {**MATMUL, "workload": {"name": "matmul", "n": 8, "seed": 11}}


def stake_operator(market: Market, governance: LocalAccount, operator: LocalAccount, stake: int) -> None:
    c = market.contracts
    transact(market.w3, governance, c.token, "transfer", operator.address, stake)
    transact(market.w3, operator, c.token, "approve", c.staking.address, stake)
    transact(market.w3, operator, c.staking, "register", "bafkreioperatormetadata")
    transact(market.w3, operator, c.staking, "stake", stake)


@pytest.fixture(scope="module")
def shared_market(tmp_path_factory, artifacts) -> Iterator[Market]:
    """One chain and deployment for a whole module; dev account 1 staked, account 2 funded to post jobs."""
    tmp = tmp_path_factory.mktemp("market")
    governance, operator, requester = dev_account(0), dev_account(1), dev_account(2)
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        manifest = deploy_tessera(w3, governance, artifacts, tmp / "deployments")
        contracts = Tessera(w3, load_manifest(manifest))
        market = Market(w3, chain.rpc_url, manifest, contracts, tmp / "ipfs", tmp)
        transact(w3, governance, contracts.token, "transfer", requester.address, 10_000 * TSR)
        stake_operator(market, governance, operator, STAKE)
        rpc(w3, "evm_setIntervalMining", 1)
        yield market


def new_job(market: Market, spec: dict = SMALL_MATMUL) -> int:
    cid, raw = publish_spec(market, spec)
    return post_job(market, dev_account(2), cid, hashlib.sha256(raw).digest())


def worker_env(
    market: Market, operator: LocalAccount, data_dir: Path, *, rpc_url: str | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a worker subprocess: the caller's minus TESSERA_*, plus this worker's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(
        PYTHONPATH=str(REPO),
        TESSERA_RPC_URL=rpc_url or market.rpc_url,
        TESSERA_DEPLOYMENT=str(market.manifest),
        TESSERA_PRIVATE_KEY="0x" + bytes(operator.key).hex(),
        TESSERA_DATA_DIR=str(data_dir),
        TESSERA_IPFS="local",
        TESSERA_IPFS_DIR=str(market.ipfs_dir),
        TESSERA_POLL_INTERVAL_S="0.2",
        TESSERA_CONFIRMATIONS="1",
        TESSERA_START_BLOCK=str(market.w3.eth.block_number),
        TESSERA_LOG_JSON="false",
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], cwd: Path, log_name: str = "worker.log") -> subprocess.Popen:
    """`python -m offchain.worker` in ``cwd`` (no .env there), output to ``cwd/log_name``."""
    cwd.mkdir(parents=True, exist_ok=True)
    out = open(cwd / log_name, "ab")  # noqa: SIM115 - closed with the process by the caller's stop_worker
    return subprocess.Popen(
        [sys.executable, "-m", "offchain.worker"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
    )


def stop_worker(proc: subprocess.Popen, timeout_s: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_until(predicate, timeout_s: float, poll_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())


def ledger_rows(data_dir: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read the worker's ledger (SQLite) directly, read-only."""
    path = data_dir / "ledger.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # the worker is still creating its tables
        return []
    finally:
        db.close()


def job_settled(data_dir: Path, job_id: int) -> bool:
    """The worker's ledger says the job is done and no transaction of its own is still unsettled
    (the job turns done from the chain's state; its finalize row may settle one refresh later)."""
    done = ledger_rows(data_dir, "SELECT state FROM jobs WHERE job_id=?", (job_id,)) == [("done",)]
    open_rows = ledger_rows(data_dir, "SELECT key FROM txs WHERE status IN ('signed', 'sent')")
    return done and not open_rows


def operator_txs(w3: Web3, address: str, first_block: int, last_block: int) -> list[bytes]:
    """Hashes of the transactions ``address`` sent in blocks first..last (inclusive)."""
    out = []
    for n in range(first_block, last_block + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            if tx["from"].lower() == address.lower():
                out.append(bytes(tx["hash"]))
    return out


def assert_no_extra_transactions(
    w3: Web3, data_dir: Path, address: str, job_id: int, nonce_before: int, first_block: int, last_block: int
) -> None:
    """The worker used one nonce per transaction it recorded, every one mined, and for ``job_id`` sent
    exactly one claim, commit and reveal_and_finalize: the one reveal owed settles the job, so no
    finalize (other keys: emission claims of ended epochs)."""
    sent = operator_txs(w3, address, first_block, last_block)
    nonce_after = w3.eth.get_transaction_count(address)
    rows = ledger_rows(data_dir, "SELECT key, job_id, status FROM txs")
    assert nonce_after - nonce_before == len(sent) == len(rows), (nonce_before, nonce_after, len(sent), rows)
    assert all(status in ("mined", "confirmed") for _, _, status in rows), rows
    mine = sorted(key for key, job, _ in rows if job == job_id)
    assert mine == sorted(f"{k}:{job_id}" for k in ("claim", "commit", "reveal_and_finalize")), rows
    assert all(key.startswith("emission:") for key, job, _ in rows if job != job_id), rows
