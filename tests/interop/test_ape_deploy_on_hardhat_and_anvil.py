"""`ape run deploy` works on Hardhat 3 as on anvil (issue 8, interop defect 1).

Hardhat 3 refused the deploy three ways: every transaction carried the block gas limit (60M, above
EIP-7825's cap of 16,777,216), ape signed for chain id 1337 instead of the node's 31337, and ape's
`eth_mining` probe met Hardhat's -32004 "method not supported". Anvil runs the same deploy with the same
ape-config.yaml, so a fix for one node cannot break the other.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from offchain.chain import CONTRACT_NAMES, load_manifest
from offchain.chain.bindings import Tessera
from tests.interop.hardhat_node import TX_GAS_CAP

pytestmark = pytest.mark.anvil

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # ape's TEST::0, funded on anvil and Hardhat alike
DEPLOY_TRANSACTIONS = 7  # four contracts, three wiring calls


def deploy_transactions(w3: Web3, first_block: int) -> list:
    """The deployer's transactions from ``first_block`` on (empty interval blocks in between skipped)."""
    txs = []
    for number in range(first_block, w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        txs += [tx for tx in block.transactions if tx["from"] == DEPLOYER]
    return txs


def test_deploy_records_the_nodes_chain_id_and_live_wired_contracts(deployment):
    w3 = Web3(Web3.HTTPProvider(deployment.rpc_url))
    manifest = load_manifest(deployment.manifest)
    assert manifest.chain_id == w3.eth.chain_id == deployment.chain_id
    assert manifest.network == "ethereum:local" and manifest.deployer == DEPLOYER
    for name in CONTRACT_NAMES:
        assert len(w3.eth.get_code(manifest.address(name))) > 0, name
    contracts = Tessera(w3, manifest)
    assert contracts.token.functions.emitter().call() == manifest.address("RewardEmitter")
    assert contracts.staking.functions.job_registry().call() == manifest.address("JobRegistry")
    assert f"(chain {deployment.chain_id})" in deployment.output
    assert "wiring and parameters read back and verified" in deployment.output


def test_every_deploy_transaction_has_an_estimated_gas_limit_under_the_eip7825_cap(deployment):
    w3 = Web3(Web3.HTTPProvider(deployment.rpc_url))
    manifest = load_manifest(deployment.manifest)
    txs = deploy_transactions(w3, manifest.deployment_block)
    assert len(txs) == DEPLOY_TRANSACTIONS
    block_gas_limit = w3.eth.get_block("latest").gasLimit
    for tx in txs:
        used = w3.eth.get_transaction_receipt(tx["hash"]).gasUsed
        assert used <= tx["gas"] <= TX_GAS_CAP < block_gas_limit, (tx["hash"].hex(), used, tx["gas"])
