"""`ape run deploy` as users run it: a real anvil, the real script in a subprocess, a real manifest file.

Each run targets the test's anvil with the network choice `ethereum:local:<url>` (ape's per-invocation
override of the node `uri` in ape-config.yaml) and writes into a temporary folder, never `deployments/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from offchain.chain import CONTRACT_NAMES, load_manifest
from offchain.devchain import free_port, rpc_call, running_chain
from scripts.deploy import PARAMS_DIR, deployment_gas, load_params

pytestmark = pytest.mark.anvil

REPO = Path(__file__).resolve().parents[2]
APE = Path(sys.executable).parent / "ape"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # ape's (and anvil's) first dev account
ZERO = "0x" + "00" * 20


def ape_deploy(rpc_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    return subprocess.run(
        [str(APE), "run", "deploy", "--network", f"ethereum:local:{rpc_url}", *args],
        cwd=REPO, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def chain():
    with running_chain(port=free_port()) as c:
        yield c


@pytest.fixture(scope="module")
def w3(chain):
    return Web3(Web3.HTTPProvider(chain.rpc_url))


@pytest.fixture(scope="module")
def deployed(chain, tmp_path_factory):
    """One deployment with the defaults: no --account, no --params; the folder from the environment."""
    folder = tmp_path_factory.mktemp("deployments")
    result = ape_deploy(chain.rpc_url, env={"TESSERA_DEPLOYMENTS_DIR": str(folder)})
    assert result.returncode == 0, output(result)
    return folder / "1337.json", output(result)


def contract(w3, manifest, name):
    return w3.eth.contract(address=manifest.address(name), abi=manifest.abi(name))


def test_manifest_records_live_contracts_chain_and_parameters(deployed, w3):
    path, out = deployed
    manifest = load_manifest(path)
    assert manifest.chain_id == w3.eth.chain_id == 1337
    assert manifest.network == "ethereum:local"
    assert manifest.deployer == DEPLOYER
    assert manifest.compiler == "vyper 0.4.3"
    assert manifest.parameters == load_params(PARAMS_DIR / "local.json")
    assert manifest.deployment_block == min(r.block for r in manifest.contracts.values())
    for name in CONTRACT_NAMES:
        record = manifest.contracts[name]
        assert len(w3.eth.get_code(record.address)) > 0, name
        receipt = w3.eth.get_transaction_receipt(record.tx_hash)
        assert receipt.contractAddress == record.address and receipt.blockNumber == record.block, name
        assert {item["type"] for item in record.abi} >= {"function", "event", "constructor"}, name
    assert "using ape's first test account" in out and DEPLOYER in out
    assert "Next:" in out and str(path) in out


def test_contracts_are_wired_and_parameters_read_back(deployed, w3):
    manifest = load_manifest(deployed[0])
    token, staking, emitter, registry = (
        contract(w3, manifest, n) for n in ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry")
    )
    assert token.functions.emitter().call() == emitter.address
    assert token.functions.owner().call() == ZERO  # set_emitter renounced the token's ownership
    assert staking.functions.job_registry().call() == registry.address
    assert emitter.functions.job_registry().call() == registry.address
    assert registry.functions.STAKING().call() == staking.address
    assert registry.functions.EMITTER().call() == emitter.address
    assert registry.functions.FEE_TOKEN().call() == token.address
    assert staking.functions.owner().call() == registry.functions.owner().call() == DEPLOYER
    p = manifest.parameters
    assert (
        token.functions.balanceOf(DEPLOYER).call()
        == token.functions.totalSupply().call()
        == p["genesis_supply"]
    )
    assert emitter.functions.EPOCH_LENGTH().call() == p["epoch_length"] == 60
    assert staking.functions.unbonding_period().call() == p["unbonding_period"]
    assert registry.functions.min_collateral().call() == p["min_collateral"]


def test_gas_estimate_covers_the_real_deployment(deployed, w3):
    """The balance check's estimate is an upper bound of what the seven transactions used, and not far off."""
    manifest = load_manifest(deployed[0])
    used = 0
    for number in range(manifest.deployment_block, manifest.deployment_block + 7):
        for tx in w3.eth.get_block(number, full_transactions=True).transactions:
            assert tx["from"] == DEPLOYER
            used += w3.eth.get_transaction_receipt(tx["hash"]).gasUsed
    types = json.loads((REPO / ".build" / "__local__.json").read_text())["contractTypes"]
    estimate = deployment_gas(
        {n: bytes.fromhex(types[n]["deploymentBytecode"]["bytecode"][2:]) for n in CONTRACT_NAMES},
        {n: len(bytes.fromhex(types[n]["runtimeBytecode"]["bytecode"][2:])) for n in CONTRACT_NAMES},
    )
    assert used <= estimate <= used * 1.25, (used, estimate)


def test_second_run_without_force_refuses_and_changes_nothing(deployed, chain, w3, tmp_path):
    shutil.copy(deployed[0], tmp_path / "1337.json")
    before = (tmp_path / "1337.json").read_bytes()
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    result = ape_deploy(chain.rpc_url, "--deployments-dir", str(tmp_path))
    assert result.returncode != 0
    assert "E_DEPLOYMENT_EXISTS" in output(result)
    assert f"{tmp_path / '1337.json'} records a live deployment" in output(result)
    assert "pass --force" in output(result)
    assert (tmp_path / "1337.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1337.json"]
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce  # not one transaction sent


def test_force_redeploys_and_overwrites(deployed, chain, w3, tmp_path):
    shutil.copy(deployed[0], tmp_path / "1337.json")
    old = load_manifest(tmp_path / "1337.json")
    result = ape_deploy(chain.rpc_url, "--force", "--deployments-dir", str(tmp_path))
    assert result.returncode == 0, output(result)
    new = load_manifest(tmp_path / "1337.json")
    assert new.deployment_block > old.deployment_block
    for name in CONTRACT_NAMES:
        assert new.address(name) != old.address(name)
        assert len(w3.eth.get_code(new.address(name))) > 0
    assert contract(w3, new, "TesseraToken").functions.emitter().call() == new.address("RewardEmitter")


def test_stale_manifest_without_code_is_replaced_without_force(deployed, chain, w3, tmp_path):
    """After a chain reset the recorded addresses hold no code: deploying again needs no --force."""
    data = json.loads(deployed[0].read_text())
    for i, name in enumerate(CONTRACT_NAMES):
        data["contracts"][name]["address"] = Web3.to_checksum_address(f"0x{i + 1:040x}")
    (tmp_path / "1337.json").write_text(json.dumps(data))
    result = ape_deploy(chain.rpc_url, "--account", "TEST::1", "--deployments-dir", str(tmp_path))
    assert result.returncode == 0, output(result)
    new = load_manifest(tmp_path / "1337.json")
    assert new.deployer == w3.eth.accounts[1]
    assert all(len(w3.eth.get_code(new.address(n))) > 0 for n in CONTRACT_NAMES)


def test_manifest_of_another_network_is_refused(deployed, chain, tmp_path):
    data = json.loads(deployed[0].read_text())
    data["network"] = "ethereum:sepolia"
    (tmp_path / "1337.json").write_text(json.dumps(data))
    result = ape_deploy(chain.rpc_url, "--deployments-dir", str(tmp_path))
    assert result.returncode != 0
    assert "E_WRONG_CHAIN" in output(result)
    assert (
        "records a deployment on ethereum:sepolia (chain 1337), but this run targets ethereum:local"
        in output(result)
    )


def test_unreachable_rpc_names_the_url_and_make_chain(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = ape_deploy(url, "--deployments-dir", str(tmp_path))
    assert result.returncode != 0
    assert f"E_RPC_UNREACHABLE: no JSON-RPC node answered at {url}" in output(result)
    assert "make chain" in output(result)
    assert "Traceback" not in output(result)
    assert list(tmp_path.iterdir()) == []


def test_unfunded_account_is_refused_before_any_transaction(chain, w3, tmp_path):
    account = w3.eth.accounts[9]
    rpc_call(chain.rpc_url, "anvil_setBalance", [account, "0x0"])
    result = ape_deploy(chain.rpc_url, "--account", "TEST::9", "--deployments-dir", str(tmp_path))
    assert result.returncode != 0
    assert f"E_UNFUNDED: deployer {account} holds 0.000000 ETH (0 wei)" in output(result)
    assert "send at least" in output(result) and account in output(result)
    assert w3.eth.get_transaction_count(account) == 0
    assert list(tmp_path.iterdir()) == []


def test_invalid_params_fail_before_any_transaction(chain, w3, tmp_path):
    params = {**load_params(PARAMS_DIR / "local.json"), "protocol_fee_bps": 9_999}
    (tmp_path / "params.json").write_text(json.dumps(params))
    nonce = w3.eth.get_transaction_count(DEPLOYER)
    result = ape_deploy(
        chain.rpc_url, "--params", str(tmp_path / "params.json"), "--deployments-dir", str(tmp_path / "out")
    )
    assert result.returncode != 0
    assert f"E_CONFIG: {tmp_path / 'params.json'}: protocol_fee_bps = 9_999 is outside" in output(result)
    assert w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert not (tmp_path / "out").exists()
