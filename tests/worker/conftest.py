"""Worker test fixtures: real anvil chains, funded development keys, compiled contracts, a deployer.

Actors are named by role: ``operator`` (the worker's key), ``requester``, ``governance`` (deployer),
``stranger``. Their keys are anvil's public development accounts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.devchain import DEV_MNEMONIC, Chain, running_chain

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
TSR = 10**18

# A tiny contract for poller and transaction tests: one event, one revert.
PINGER_SOURCE = """
# pragma version 0.4.3
event Ping:
    n: indexed(uint256)

@external
def ping(n: uint256):
    assert n != 13, "pinger: unlucky"
    log Ping(n=n)
"""

# Deployment parameters for tests: short epochs, the contract defaults otherwise (scripts/params).
TEST_PARAMS = {
    "genesis_supply": 100_000_000 * TSR,
    "min_stake": 100 * TSR,
    "unbonding_period": 7 * 86_400,
    "jail_period": 3 * 86_400,
    "slash_reward_bps": 5_000,
    "epoch_length": 60,
    "initial_emission": 100_000 * TSR,
    "halving_epochs": 365,
    "protocol_fee_bps": 500,
    "wrong_result_slash_bps": 10_000,
    "liveness_slash_bps": 1_000,
    "min_fee": TSR // 10,
    "min_collateral": 10 * TSR,
}


def dev_account(index: int) -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


@pytest.fixture(scope="session")
def governance() -> LocalAccount:
    return dev_account(0)


@pytest.fixture(scope="session")
def operator() -> LocalAccount:
    return dev_account(1)


@pytest.fixture(scope="session")
def requester() -> LocalAccount:
    return dev_account(2)


@pytest.fixture(scope="session")
def stranger() -> LocalAccount:
    return dev_account(3)


@pytest.fixture
def chain() -> Iterator[Chain]:
    with running_chain() as c:
        yield c


@pytest.fixture
def w3(chain: Chain) -> Web3:
    return Web3(Web3.HTTPProvider(chain.rpc_url))


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """A raw JSON-RPC call (anvil_* / evm_* methods web3 has no wrapper for)."""
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response.get("result")


def send_raw(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> bytes:
    """Sign and send a transaction outside any TxManager (an 'external' sender); returns its hash."""
    tx = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gas": 300_000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "value": 0,
        **tx,
    }
    signed = account.sign_transaction(tx)
    return bytes(w3.eth.send_raw_transaction(signed.raw_transaction))


@pytest.fixture(scope="session")
def pinger_artifact() -> tuple[list[dict[str, Any]], str]:
    import vyper

    out = vyper.compile_code(PINGER_SOURCE, output_formats=["abi", "bytecode"])
    return out["abi"], out["bytecode"]


def deploy(w3: Web3, account: LocalAccount, abi: list, bytecode: str, *args: Any) -> tuple[str, int, bytes]:
    """Deploy a contract with web3; returns (address, block, tx hash)."""
    data = (
        w3.eth.contract(abi=abi, bytecode=bytecode)
        .constructor(*args)
        .build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
        )["data"]
    )
    tx_hash = send_raw(w3, account, {"data": data, "gas": 8_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt["contractAddress"], int(receipt["blockNumber"]), tx_hash


def transact(w3: Web3, account: LocalAccount, contract: Any, fn: str, *args: Any) -> Any:
    """Call ``fn`` as ``account`` outside the worker (setup steps of a test) and wait for it."""
    data = contract.encode_abi(fn, args=list(args))
    tx_hash = send_raw(w3, account, {"to": contract.address, "data": data, "gas": 1_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{fn}{args} reverted"
    return receipt


@pytest.fixture
def pinger(w3: Web3, governance: LocalAccount, pinger_artifact):
    abi, bytecode = pinger_artifact
    address, _, _ = deploy(w3, governance, abi, bytecode)
    return w3.eth.contract(address=address, abi=abi)


# ---------------------------------------------------------------- the Tessera contracts
@dataclass(frozen=True)
class Artifact:
    abi: list[dict[str, Any]]
    bytecode: str


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    """The four contracts compiled (titanoboa's front end resolves snekmate), cached under .cache/ by a
    hash of every contract source and the compiler version, so parallel and later runs skip compiling."""
    import hashlib

    import vyper

    digest = hashlib.sha256(vyper.__version__.encode())
    for path in sorted(CONTRACTS.rglob("*.vy*")):
        digest.update(path.relative_to(CONTRACTS).as_posix().encode() + b"\0" + path.read_bytes())
    cache = REPO / ".cache" / "worker-tests" / f"artifacts-{digest.hexdigest()[:16]}.json"
    if cache.exists():
        return {name: Artifact(**a) for name, a in json.loads(cache.read_text()).items()}
    import boa
    from vyper.compiler.output import build_abi_output

    out = {}
    for name in ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry"):
        data = boa.load_partial(str(CONTRACTS / f"{name}.vy")).compiler_data
        out[name] = Artifact(abi=build_abi_output(data), bytecode="0x" + data.bytecode.hex())
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({n: {"abi": a.abi, "bytecode": a.bytecode} for n, a in out.items()}))
    os.replace(tmp, cache)  # atomic: a parallel run reads the whole file or none
    return out


def deploy_tessera(
    w3: Web3,
    governance: LocalAccount,
    artifacts: dict[str, Artifact],
    deployments_dir: Path,
    params: dict[str, int] | None = None,
) -> Path:
    """Deploy and wire the four contracts as scripts/deploy.py does; write `<dir>/<chain id>.json`."""
    p = {**TEST_PARAMS, **(params or {})}
    records: dict[str, dict[str, Any]] = {}

    def put(name: str, *args: Any) -> str:
        a = artifacts[name]
        address, block, tx_hash = deploy(w3, governance, a.abi, a.bytecode, *args)
        records[name] = {"address": address, "abi": a.abi, "block": block, "tx_hash": "0x" + tx_hash.hex()}
        return address

    token = put("TesseraToken", governance.address, p["genesis_supply"])
    staking = put(
        "Staking", token, p["min_stake"], p["unbonding_period"], p["jail_period"], p["slash_reward_bps"]
    )
    emitter = put("RewardEmitter", token, p["epoch_length"], p["initial_emission"], p["halving_epochs"])
    registry = put(
        "JobRegistry",
        token,
        staking,
        emitter,
        p["protocol_fee_bps"],
        p["wrong_result_slash_bps"],
        p["liveness_slash_bps"],
        p["min_fee"],
        p["min_collateral"],
    )
    c = {n: w3.eth.contract(address=r["address"], abi=r["abi"]) for n, r in records.items()}
    transact(w3, governance, c["TesseraToken"], "set_emitter", emitter)
    transact(w3, governance, c["Staking"], "set_job_registry", registry)
    transact(w3, governance, c["RewardEmitter"], "set_job_registry", registry)
    chain_id = int(w3.eth.chain_id)
    manifest = {
        "schema_version": 1,
        "chain_id": chain_id,
        "network": "ethereum:local",
        "deployer": governance.address,
        "deployment_block": min(r["block"] for r in records.values()),
        "deployed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "compiler": "vyper 0.4.3",
        "parameters": p,
        "contracts": records,
    }
    deployments_dir.mkdir(parents=True, exist_ok=True)
    path = deployments_dir / f"{chain_id}.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path
