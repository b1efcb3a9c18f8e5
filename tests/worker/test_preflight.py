"""Start-up checks on a real chain: each refusal names the value found and the next step."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from web3 import Web3

from offchain.chain.bindings import Tessera
from offchain.chain.manifest import load_manifest
from offchain.chain.preflight import CommitmentMismatch, StakeTooLow, check_chain, preflight
from offchain.devchain import running_chain
from offchain.errors import NoContractCode, UnfundedAccount, WrongChainId
from tests.support.chain import TSR, transact
from tests.support.contracts import deploy_tessera

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, artifacts, governance, operator):
    tmp = tmp_path_factory.mktemp("preflight")
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        path = deploy_tessera(w3, governance, artifacts, tmp / "deployments")
        manifest = load_manifest(path)
        yield w3, path, manifest, Tessera(w3, manifest)


def test_a_registered_staked_funded_operator_passes(deployed, governance, operator):
    w3, _, manifest, contracts = deployed
    transact(w3, governance, contracts.token, "transfer", operator.address, 200 * TSR)
    transact(w3, operator, contracts.token, "approve", contracts.staking.address, 200 * TSR)
    transact(w3, operator, contracts.staking, "register", "bafkreioperator")
    transact(w3, operator, contracts.staking, "stake", 200 * TSR)
    report = preflight(w3, manifest, contracts, operator.address)
    assert (report.bonded, report.free_stake, report.min_stake) == (200 * TSR, 200 * TSR, 100 * TSR)
    assert report.eligible and report.chain_id == 1337


def test_a_manifest_for_another_chain_is_refused(deployed, tmp_path):
    w3, path, _, _ = deployed
    data = json.loads(path.read_text())
    data["chain_id"] = 1
    other = tmp_path / "1.json"
    other.write_text(json.dumps(data))
    with pytest.raises(WrongChainId, match="is chain 1337, but the deployment manifest is for chain 1"):
        check_chain(w3, load_manifest(other))


def test_an_address_without_code_is_named(deployed, tmp_path):
    w3, path, _, _ = deployed
    data = json.loads(path.read_text())
    data["contracts"]["Staking"]["address"] = "0x" + "12" * 20
    broken = tmp_path / "1337.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(NoContractCode, match="Staking at 0x1212"):
        check_chain(w3, load_manifest(broken))


def test_an_account_without_gas_money_is_refused(deployed):
    w3, _, manifest, contracts = deployed
    pauper = Account.create().address
    with pytest.raises(UnfundedAccount, match=f"{pauper} holds 0.000000"):
        preflight(w3, manifest, contracts, pauper)


def test_an_unregistered_or_understaked_operator_is_told_what_to_do(deployed, governance, stranger):
    w3, _, manifest, contracts = deployed
    with pytest.raises(StakeTooLow, match="not registered") as caught:
        preflight(w3, manifest, contracts, stranger.address)
    assert "tessera operator register" in str(caught.value) and caught.value.code == "E_STAKE_TOO_LOW"
    transact(w3, governance, contracts.token, "transfer", stranger.address, 50 * TSR)
    transact(w3, stranger, contracts.token, "approve", contracts.staking.address, 50 * TSR)
    transact(w3, stranger, contracts.staking, "register", "bafkreistranger")
    transact(w3, stranger, contracts.staking, "stake", 50 * TSR)
    with pytest.raises(StakeTooLow, match="50 TSR bonded; the minimum is 100 TSR") as caught:
        preflight(w3, manifest, contracts, stranger.address)
    assert "stake at least 50 TSR more" in str(caught.value)
    # a worker may still start without stake (e.g. only to finalize): the report says where it stands
    report = preflight(w3, manifest, contracts, stranger.address, require_stake=False)
    assert report.bonded == 50 * TSR and not report.eligible


def test_a_registry_that_hashes_commitments_differently_is_refused(deployed, operator, monkeypatch):
    w3, _, manifest, contracts = deployed
    monkeypatch.setattr(contracts, "commitment_for", lambda *args: b"\x00" * 32)
    with pytest.raises(CommitmentMismatch, match="hashes a sample commitment to 0x0000") as caught:
        preflight(w3, manifest, contracts, operator.address)
    assert caught.value.code == "E_COMMITMENT_MISMATCH"
