"""Three real worker processes complete one job on a Hardhat 3 node that `ape run deploy` deployed to
(issue 8, interop defect 1): the worker is not tied to anvil.

The workers run as operators run them (`python -m offchain.worker`, settings from the environment, the
local IPFS store); the job asks for three replicas that must all agree.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Phase, Tessera
from offchain.chain.manifest import load_manifest
from tests.support.chain import TSR, dev_account, transact
from tests.support.market import MATMUL, STAKE, Market, post_job, publish_spec

REPO = Path(__file__).resolve().parents[2]
SPEC = {**MATMUL, "workload": {"name": "matmul", "n": 8, "seed": 3}}
REPLICAS = 3
JOB_TIMEOUT_S = 240


def stake(market: Market, governance: LocalAccount, operator: LocalAccount) -> None:
    c = market.contracts
    transact(market.w3, governance, c.token, "transfer", operator.address, STAKE)
    transact(market.w3, operator, c.token, "approve", c.staking.address, STAKE)
    transact(market.w3, operator, c.staking, "register", "bafkreioperatormetadata")
    transact(market.w3, operator, c.staking, "stake", STAKE)


def start_worker(market: Market, operator: LocalAccount, folder: Path, start_block: int) -> subprocess.Popen:
    """`python -m offchain.worker` in its own folder (no .env there), output to folder/worker.log."""
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(
        PYTHONPATH=str(REPO),
        TESSERA_RPC_URL=market.rpc_url,
        TESSERA_DEPLOYMENT=str(market.manifest),
        TESSERA_PRIVATE_KEY="0x" + bytes(operator.key).hex(),
        TESSERA_DATA_DIR=str(folder / "data"),
        TESSERA_IPFS="local",
        TESSERA_IPFS_DIR=str(market.ipfs_dir),
        TESSERA_POLL_INTERVAL_S="0.5",
        TESSERA_CONFIRMATIONS="1",
        TESSERA_START_BLOCK=str(start_block),
    )
    with open(folder / "worker.log", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "offchain.worker"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def logs(folders: list[Path]) -> str:
    return "\n".join(f"--- {f.name}\n" + (f / "worker.log").read_text()[-3000:] for f in folders)


def test_three_worker_processes_complete_a_job_on_hardhat(hardhat_deployment, tmp_path):
    w3 = Web3(Web3.HTTPProvider(hardhat_deployment.rpc_url))
    contracts = Tessera(w3, load_manifest(hardhat_deployment.manifest))
    market = Market(
        w3, hardhat_deployment.rpc_url, hardhat_deployment.manifest, contracts, tmp_path / "ipfs", tmp_path
    )
    governance, requester = dev_account(0), dev_account(4)  # the deployer holds the genesis supply
    operators = [dev_account(i) for i in (1, 2, 3)]
    for operator in operators:
        stake(market, governance, operator)
    transact(w3, governance, contracts.token, "transfer", requester.address, 100 * TSR)
    before = {op.address: contracts.balance_of(op.address) for op in operators}

    start_block = w3.eth.block_number
    cid, raw = publish_spec(market, SPEC)
    job_id = post_job(
        market, requester, cid, hashlib.sha256(raw).digest(), replicas=REPLICAS, quorum=REPLICAS
    )
    folders = [tmp_path / f"worker{i}" for i in (1, 2, 3)]
    workers = [start_worker(market, op, f, start_block) for op, f in zip(operators, folders, strict=True)]
    try:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while contracts.get_job(job_id).phase != Phase.COMPLETED and time.monotonic() < deadline:
            assert all(p.poll() is None for p in workers), "a worker exited\n" + logs(folders)
            time.sleep(1)
        job = contracts.get_job(job_id)
    finally:
        codes = [stop(p) for p in workers]
    assert job.phase == Phase.COMPLETED, f"job {job_id} still {job.phase.name}\n" + logs(folders)
    assert codes == [0, 0, 0], logs(folders)

    entries = [contracts.worker_entry(job_id, op.address) for op in operators]
    assert all(e.revealed for e in entries) and len({e.seal for e in entries}) == 1
    for op in operators:
        assert contracts.balance_of(op.address) > before[op.address]  # paid a share of the fee
        assert contracts.free_stake(op.address) == STAKE  # collateral unlocked
