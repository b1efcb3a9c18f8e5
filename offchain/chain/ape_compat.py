"""ape's local-network provider, made to work against any EVM node, Hardhat 3 included.

`ape run deploy --network ethereum:local:<url>` connects through ape_node's `GethDev` provider, written
for a geth or anvil that ape may start itself. Against a node it did not start, two of its assumptions
break on Hardhat 3:

- it signs for the chain id in ape's config (1337 unless `node.ethereum.local.chain_id` says otherwise),
  not the node's: Hardhat's 31337 refuses every transaction ("invalid chainId");
- after each transaction it asks `eth_mining` whether to wait for the receipt. Hardhat 3 answers
  -32004 ("method not supported", EIP-1474), which ape raises as an error: only a message that reads
  like "method not found" counts as "not implemented" there.

`LocalNode` reads the chain id from the node it is connected to, and treats an `eth_mining` that the node
does not support as ape already treats a missing one: the node mines what it is sent, so wait for the
receipt. `for_any_node` swaps it in for ape's provider; call it from a `ConnectedProviderCommand`'s
network callback, which runs before ape connects (see scripts/deploy.py). Nothing is patched globally.
"""

from __future__ import annotations

from typing import Any

from ape.exceptions import ProviderError
from ape_node.provider import GethDev

# JSON-RPC error codes that mean "this node does not offer the method": -32601 method not found
# (JSON-RPC 2.0), -32004 method not supported (EIP-1474; Hardhat 3 for eth_mining).
UNSUPPORTED_METHOD_CODES = frozenset({-32601, -32004})


class LocalNode(GethDev):
    """`GethDev` for a node ape did not start: its chain id, and no `eth_mining` needed."""

    @property
    def chain_id(self) -> int:
        if self.process is None and self._web3 is not None:  # connected to a node ape did not start
            return self._get_chain_id()
        return super().chain_id

    @property
    def auto_mine(self) -> bool:
        if self.process is not None:  # ape's own geth --dev mines every transaction
            return True
        reply: dict[str, Any] = self.web3.provider.make_request("eth_mining", [])  # type: ignore[arg-type]
        error = reply.get("error")
        if error is None:
            return bool(reply.get("result"))
        if isinstance(error, dict) and error.get("code") in UNSUPPORTED_METHOD_CODES:
            return True  # ape's own assumption for a node without eth_mining: wait for the receipt
        raise ProviderError(f"eth_mining failed: {error}")

    @auto_mine.setter
    def auto_mine(self, value: bool) -> None:
        raise NotImplementedError("'auto_mine' setter not implemented.")


def for_any_node(provider: Any) -> Any:
    """`provider` as a `LocalNode` if it is ape's (unconnected) `GethDev`; any other provider unchanged."""
    if type(provider) is not GethDev:
        return provider
    return LocalNode(
        name=provider.name, network=provider.network, provider_settings=dict(provider.provider_settings)
    )
