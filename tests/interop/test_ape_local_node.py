"""`offchain.chain.ape_compat.LocalNode`, ape's local-network provider for nodes ape did not start, on a
real Hardhat 3 node: the chain id is the node's, and `eth_mining` answered -32004 means "wait for the
receipt" instead of an error (ape's own `GethDev` says 1337 and raises)."""

from __future__ import annotations

from offchain.chain.ape_compat import LocalNode, for_any_node
from tests.interop.hardhat_node import CHAIN_ID
from tests.support.chain import dev_account


def test_local_node_reads_the_chain_id_from_hardhat_and_tolerates_its_eth_mining(hardhat_url):
    from ape import networks

    local = networks.ethereum.local
    provider = for_any_node(local.get_provider("node", provider_settings={"uri": hardhat_url}))
    assert isinstance(provider, LocalNode)
    with local.use_provider(provider) as connected:
        assert connected is provider
        assert connected.chain_id == CHAIN_ID
        assert connected.auto_mine is True
        assert connected.get_balance(dev_account(9).address) > 0


def test_other_providers_pass_through_unchanged():
    from ape import networks

    sepolia = networks.ethereum.sepolia.get_provider("node", provider_settings={"uri": "http://127.0.0.1:1"})
    assert for_any_node(sepolia) is sepolia
    assert for_any_node(None) is None
