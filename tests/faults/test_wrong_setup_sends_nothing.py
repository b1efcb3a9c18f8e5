"""T28: a worker started on the wrong chain, against an address without code, with no gas money or with
too little stake refuses to start with the README's E_ code, and sends no transaction (nonce unchanged),
though an open job is waiting to be claimed. Both entry points: `python -m offchain.worker` and
`tessera worker run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from offchain.devchain import running_chain
from tests.faults.conftest import new_job, worker_env
from tests.support.chain import dev_account, rpc, transact

pytestmark = pytest.mark.anvil

ENTRY_POINTS = {
    "python -m offchain.worker": [sys.executable, "-m", "offchain.worker"],
    "tessera worker run": [str(Path(sys.executable).parent / "tessera"), "worker", "run"],
}


def refuse(env: dict[str, str], cwd: Path, entry: str) -> str:
    """Run the worker; it must exit 2 within the timeout. Returns its output."""
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(ENTRY_POINTS[entry], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}:\n{out[-3000:]}"
    return out


@pytest.fixture(scope="module")
def open_job(shared_market) -> int:
    """A claimable job: a worker that got past its start-up checks would send a claim for it."""
    return new_job(shared_market)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_chain_with_another_id_is_refused(shared_market, open_job, tmp_path, entry):
    operator = dev_account(1)
    with running_chain(chain_id=999) as other:
        w3 = Web3(Web3.HTTPProvider(other.rpc_url))
        nonce = w3.eth.get_transaction_count(operator.address)
        out = refuse(
            worker_env(shared_market, operator, tmp_path / "d", rpc_url=other.rpc_url), tmp_path, entry
        )
        assert "E_WRONG_CHAIN" in out and "999" in out
        assert w3.eth.get_transaction_count(operator.address, "pending") == nonce


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_address_without_code_is_refused(shared_market, open_job, tmp_path, entry):
    operator, w3 = dev_account(1), shared_market.w3
    manifest = json.loads(shared_market.manifest.read_text())
    manifest["contracts"]["JobRegistry"]["address"] = Web3.to_checksum_address("0x" + "ab" * 20)
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest))
    nonce = w3.eth.get_transaction_count(operator.address, "pending")
    env = {**worker_env(shared_market, operator, tmp_path / "d"), "TESSERA_DEPLOYMENT": str(broken)}
    out = refuse(env, tmp_path, entry)
    assert "E_NO_CODE" in out and ("0x" + "ab" * 20).lower() in out.lower()
    assert w3.eth.get_transaction_count(operator.address, "pending") == nonce


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_account_without_gas_money_is_refused(shared_market, open_job, tmp_path, entry):
    broke, w3 = dev_account(4), shared_market.w3
    rpc(w3, "anvil_setBalance", broke.address, "0x0")
    nonce = w3.eth.get_transaction_count(broke.address, "pending")
    out = refuse(worker_env(shared_market, broke, tmp_path / "d"), tmp_path, entry)
    assert "E_UNFUNDED" in out
    assert w3.eth.get_transaction_count(broke.address, "pending") == nonce


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_operator_below_the_minimum_stake_is_refused(shared_market, open_job, tmp_path, entry):
    light, w3, c = dev_account(5), shared_market.w3, shared_market.contracts
    if not c.is_registered(light.address):
        transact(w3, light, c.staking, "register", "bafkreilightoperator")  # registered, nothing bonded
    nonce = w3.eth.get_transaction_count(light.address, "pending")
    out = refuse(worker_env(shared_market, light, tmp_path / "d"), tmp_path, entry)
    assert "E_STAKE_TOO_LOW" in out and "minimum" in out
    assert w3.eth.get_transaction_count(light.address, "pending") == nonce
